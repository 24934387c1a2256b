-- expect: stream_unknown_chain.lua:7: stream 'physics' names unknown chain 'L1_Nope'
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu {
   schema = ev,
   chains = { ngt.chain "A" { ngt.cut "x > 1" } },
   streams = { physics = { "A", "L1_Nope" } },
}
