-- tests/lua/menus/luastep.lua: Lua steps (a producer and a filter, plain-data upvalues, collection
-- arrays) for tests/lua/check_allocs.py, which checks they allocate nothing per event.
local ngt = require "ngt"
local ev = ngt.schema { x = "f32", jet = ngt.collection { pt = "f32", eta = "f32", max = 8 } }
local cuts = { pt = 25, eta = 2.4 }
local lead = ngt.lua {
   name = "lead", reads = { "jet.pt", "jet.eta", "jet.n" }, writes = { lead_pt = "f32", nsel = "i32" },
   fn = function(ev, n)
      local pt, eta, cnt, sel = ev["jet.pt"], ev["jet.eta"], ev["jet.n"], ev.sel
      for i = 0, n - 1 do
         local e, best, k = sel[i], 0, 0
         for j = 0, cnt[e] - 1 do
            if pt[e][j] > cuts.pt and math.abs(eta[e][j]) < cuts.eta then
               k = k + 1
               if pt[e][j] > best then best = pt[e][j] end
            end
         end
         ev.lead_pt[e], ev.nsel[e] = best, k
      end
   end,
}
local limit = 0.5
local filter = ngt.lua { name = "xcut", reads = { "x" }, fn = function(ev, n)
   local x, sel, pass = ev.x, ev.sel, ev.pass
   for i = 0, n - 1 do pass[i] = x[sel[i]] > limit and 1 or 0 end
end }
return ngt.menu { schema = ev, chains = {
   ngt.chain "LeadJet" { lead, ngt.cut "lead_pt > 40 and nsel >= 1" },
   ngt.chain "X" { filter },
} }
