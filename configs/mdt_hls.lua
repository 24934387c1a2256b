-- configs/mdt_hls.lua: the mdt model's precision for the hls backend: ap_fixed<20,6> everywhere,
-- 'auto' (lossless) Conv accumulators and results, 1024-entry sigmoid table (docs/hls.md).
return {
   Model = { Precision = { default = "fixed<20,6>" } },
}
