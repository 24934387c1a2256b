-- expect: duplicate_chain.lua:6: duplicate chain 'A' (first at
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "A" { ngt.cut "x > 1" },
   ngt.chain "A" { ngt.cut "x > 2" },
} }
