-- expect: pcolumn_unknown_chain.lua:8: prescale column 'high' names unknown chain 'Missing'
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu {
   schema = ev,
   chains = { ngt.chain "A" { ngt.prescale(10) } },
   prescale_columns = {
      high = { Missing = 5 },
   },
}
