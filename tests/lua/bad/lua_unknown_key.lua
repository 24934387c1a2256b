-- expect: lua_unknown_key.lua:4: ngt.lua 's': unknown key 'write' (known: fn, name, reads, timeout, writes)
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
local s = ngt.lua { name = "s", reads = { "x" }, write = { y = "f32" }, fn = function(ev, n) end }
return ngt.menu { schema = ev, chains = { ngt.chain "A" { s } } }
