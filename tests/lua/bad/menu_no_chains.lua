-- expect: menu_no_chains.lua:4: ngt.menu needs chains
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu { schema = ev }
