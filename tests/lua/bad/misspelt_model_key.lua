-- expect: misspelt_model_key.lua:3: ngt.model 'fad': unknown key 'backnd' (known: backend,
local ngt = require "ngt"
local fad = ngt.model { name = "fad", file = "models/fad.onnx", backnd = "genc" }
local ev = ngt.schema { fad_in = "f32[77]" }
return ngt.menu { schema = ev, chains = { ngt.chain "F" { ngt.infer(fad, "fad_in", "out") } } }
