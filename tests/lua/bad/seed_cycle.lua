-- expect: seed_cycle.lua:4: menu: ... cycle
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "A" { seeds = { "B" }, ngt.cut "x > 1" },
   ngt.chain "B" { seeds = { "A" }, ngt.cut "x > 2" },
} }
