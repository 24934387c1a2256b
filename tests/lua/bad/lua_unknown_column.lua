-- expect: lua_unknown_column.lua:4: chain 'A': lua step 's' reads unknown column 'nope'
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
local step = ngt.lua { name = "s", reads = { "nope" }, fn = function(ev, n) end }
return ngt.menu { schema = ev, chains = { ngt.chain "A" { step } } }
