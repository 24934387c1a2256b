-- expect: unknown_column.lua:5: chain 'A': cut 'y > 1' ... unknown column 'y'
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "A" { ngt.cut "y > 1" },
} }
