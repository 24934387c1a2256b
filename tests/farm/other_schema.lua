-- tests/farm/other_schema.lua: a menu whose schema differs from menu_farm.lua's (a sender with the
-- wrong schema id: its messages are poisoned at the nodes).
local ngt = require "ngt"
return ngt.menu {
   schema = ngt.schema { met = "f32", ht = "f32" },
   chains = { ngt.chain "HighMet" { ngt.cut "met > 40" } },
   streams = { physics = { "HighMet" } },
}
