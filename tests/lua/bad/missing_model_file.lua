-- expect: missing_model_file.lua:4: model 'fad'
local ngt = require "ngt"
local ev = ngt.schema { fad_in = "f32[77]" }
local fad = ngt.model { name = "fad", file = "models/no_such_model.onnx" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "F" { ngt.infer(fad, "fad_in", "fad_out") },
} }
