-- expect: shape_mismatch.lua:7: chain 'F'
local ngt = require "ngt"
local ev = ngt.schema { fad_in = "f32[76]" }
local fad = ngt.model { name = "fad", file = "models/fad.onnx" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "F" {
      ngt.infer(fad, "fad_in", "fad_out"),
   },
} }
