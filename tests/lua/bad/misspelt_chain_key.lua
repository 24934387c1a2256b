-- expect: misspelt_chain_key.lua:6: chain 'B': unknown key 'sedes'
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "A" { ngt.cut "x > 1" },
   ngt.chain "B" { sedes = { "A" }, ngt.cut "x > 2" },
} }
