-- tests/lua/menus/equiv.lua: the menu tests/lua/test_equiv.c builds again through ngt.h; the
-- decisions of both must be equal event by event. Keep the two in step.
local ngt = require "ngt"
local ev = ngt.schema {
   fad_in = "f32[77]",
   jet = ngt.collection { pt = "f32", eta = "f32", phi = "f32", m = "f32", max = 12 },
   met = "f32",
   run = ngt.scalar "u32",
   lumi = ngt.scalar "u32",
   event = "u64",
   identity = { run = "run", lumi = "lumi", event = "event" },
}
local fad = ngt.model { name = "fad", file = "models/fad.onnx", backend = "ref" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "J" { ngt.cut "leading(jet, 0).pt > 60" },
   ngt.chain "HT" { ngt.cut "ht(jet, pt > 30 and abs(eta) < 2.4) > 150", ngt.prescale(3) },
   ngt.chain "M" { ngt.cut "count(jet) >= 2", ngt.cut "mass(jet, 0, 1) > 200" },
   ngt.chain "F" { ngt.infer(fad, "fad_in", "fad_out"), ngt.cut "mean((fad_out - fad_in[0:76])**2) > 0.1" },
   ngt.chain "S" { seeds = { "J", "HT" }, veto = { "M" }, ngt.cut "met > 20" },
   ngt.chain "Z" { ngt.prescale(7) },
}, streams = { a = { "J", "HT", "M" }, b = { "F", "S", "Z" } } }
