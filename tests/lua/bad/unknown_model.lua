-- expect: unknown_model.lua:5: ngt.infer: unknown model 'fad'
local ngt = require "ngt"
local ev = ngt.schema { fad_in = "f32[77]" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "F" { ngt.infer("fad", "fad_in", "fad_out") },
} }
