-- tests/farm/menu_errors.lua: menu_farm.lua's schema and stream with a Lua step that fails on every
-- call whose events include one with met > 80 (check_farm.py errors: errored events, not lost ones).
local ngt = require "ngt"
local ev = ngt.schema { met = "f32", jet = ngt.collection { pt = "f32", eta = "f32", max = 6 } }
return ngt.menu {
   schema = ev,
   chains = {
      ngt.chain "HighMet" { ngt.cut "met > 40" },
      ngt.chain "Thrower" { ngt.lua { name = "thrower", reads = { "met" }, fn = function(e, n)
         for i = 0, n - 1 do
            if e.met[e.sel[i]] > 80 then error("boom") end
         end
      end } },
   },
   streams = { physics = { "HighMet" } },
}
