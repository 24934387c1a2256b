-- expect: bad_cut.lua:6: chain 'A': cut 'max(x) > '
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "A" {
      ngt.cut(ngt.max "x", ">", ""),
   },
} }
