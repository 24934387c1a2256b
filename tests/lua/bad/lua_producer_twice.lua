-- expect: lua_producer_twice.lua:11: chain 'B': lua step 'met2b' writes 'met2', which lua step 'met2a' ( ... lua_producer_twice.lua:6) already writes: use the same ngt.lua value
local ngt = require "ngt"
local ev = ngt.schema { met = "f32" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "A" {
      ngt.lua { name = "met2a", reads = { "met" }, writes = { met2 = "f32" }, fn = function(ev, n) end },
      ngt.cut "met2 > 1",
   },
   ngt.chain "B" {
      -- a second function writing the same column is not the same producer
      ngt.lua { name = "met2b", reads = { "met" }, writes = { met2 = "f32" }, fn = function(ev, n) end },
      ngt.cut "met2 > 2",
   },
} }
