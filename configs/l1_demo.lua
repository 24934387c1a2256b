-- configs/l1_demo.lua: a small Level-1 style menu over the built-in source: single-object and
-- collection cuts (leading jet, HT, a dijet mass, muons, MET), the fad anomaly score from the ref
-- backend, a Lua step computing the missing HT, a prescaled minimum-bias chain and a chain seeded
-- by two others, feeding two streams. `build/ngt run configs/l1_demo.lua` runs it.
local ngt = require "ngt"

local ev = ngt.schema {
   fad_in = "f32[77]",
   jet = ngt.collection { pt = "f32", eta = "f32", phi = "f32", m = "f32", max = 12 },
   mu = ngt.collection { pt = "f32", eta = "f32", phi = "f32", m = "f32", max = 4 },
   met = "f32",
   run = ngt.scalar "u32",
   lumi = ngt.scalar "u32",
   event = "u64",
   identity = { run = "run", lumi = "lumi", event = "event" },
}

local fad = ngt.model { name = "fad", file = "models/fad.onnx", backend = "ref" }

local central = "pt > 30 and abs(eta) < 2.4"

-- Missing HT of the central jets, computed in Lua: a shared producer writing "mht".
local mht = ngt.lua {
   name = "mht",
   reads = { "jet.pt", "jet.eta", "jet.phi", "jet.n" },
   writes = { mht = "f32" },
   fn = function(ev, n)
      local pt, eta, phi, cnt, out, sel = ev["jet.pt"], ev["jet.eta"], ev["jet.phi"], ev["jet.n"], ev.mht, ev.sel
      for i = 0, n - 1 do
         local e = sel[i]
         local px, py = 0, 0
         for k = 0, cnt[e] - 1 do
            if pt[e][k] > 30 and math.abs(eta[e][k]) < 2.4 then
               px = px + pt[e][k] * math.cos(phi[e][k])
               py = py + pt[e][k] * math.sin(phi[e][k])
            end
         end
         out[e] = math.sqrt(px * px + py * py)
      end
   end,
}

return ngt.menu {
   schema = ev,
   input_rate = 40e6, -- LHC bunch crossings
   chains = {
      ngt.chain "L1_SingleJet180" { ngt.cut(ngt.leading("jet", 0, "pt"), ">", 180), ngt.prescale(1) },
      ngt.chain "L1_HTT360" { ngt.cut(ngt.ht("jet", central), ">", 360) },
      ngt.chain "L1_DoubleJet30_Mjj500" {
         ngt.cut(ngt.count("jet", central), ">=", 2),
         ngt.cut(ngt.mass("jet", 0, 1), ">", 500),
      },
      ngt.chain "L1_SingleMu22" { ngt.cut(ngt.max("mu", "pt"), ">", 22) },
      ngt.chain "L1_DoubleMu8" { ngt.cut(ngt.count("mu", "pt > 8"), ">=", 2) },
      ngt.chain "L1_ETM150" { ngt.cut "met > 150" },
      ngt.chain "L1_MHT200" { mht, ngt.cut "mht > 200" },
      ngt.chain "L1_FAD" {
         ngt.infer(fad, "fad_in", "fad_out"),
         ngt.cut "mean((fad_out - fad_in[0:76])**2) > 0.3",
      },
      ngt.chain "L1_Mu_Jet_Seeded" {
         seeds = { "L1_SingleMu22", "L1_HTT360" },
         ngt.cut(ngt.leading("jet", 0, "pt"), ">", 100),
      },
      ngt.chain "L1_ZeroBias" { ngt.prescale(1000) },
   },
   streams = {
      physics = { "L1_SingleJet180", "L1_HTT360", "L1_DoubleJet30_Mjj500", "L1_SingleMu22",
                  "L1_DoubleMu8", "L1_ETM150", "L1_MHT200", "L1_Mu_Jet_Seeded" },
      express = { "L1_FAD", "L1_ZeroBias" },
   },
   prescale_columns = {
      high_lumi = { L1_ZeroBias = 4000, L1_SingleJet180 = 2 },
   },
}
