-- expect: syntax.lua:4: 
local ngt = require "ngt"
return ngt.menu { schema = ngt.schema { x = "f32" },
   chains = { ngt.chain "A" { ngt.cut "x > 1" } ,, } }
