-- configs/fad_hls.lua: the fad model's precision for the hls backend: hls4ml's model default
-- ap_fixed<16,6> (TRN, WRAP), 'auto' (lossless) Dense accumulators and results (docs/hls.md).
return {
   Model = { Precision = { default = "fixed<16,6>" } },
}
