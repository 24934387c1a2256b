-- tests/farm/menu_farm.lua: the farm tests' menu (check_farm.py); other_schema.lua differs in schema.
local ngt = require "ngt"
local ev = ngt.schema { met = "f32", jet = ngt.collection { pt = "f32", eta = "f32", max = 6 } }
return ngt.menu {
   schema = ev,
   chains = { ngt.chain "HighMet" { ngt.cut "met > 40" } },
   streams = { physics = { "HighMet" } },
}
