-- expect: unknown_seed.lua:5: chain 'B': seeds names unknown chain 'Z'
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu { schema = ev, chains = { ngt.chain "A" { ngt.cut "x > 1" },
   ngt.chain "B" { seeds = { "Z" }, ngt.cut "x > 2" },
} }
