-- expect: bad_type.lua:3: column 'x'
local ngt = require "ngt"
local ev = ngt.schema { x = "f33[4]" }
return ngt.menu { schema = ev, chains = { ngt.chain "A" { ngt.cut "true" } } }
