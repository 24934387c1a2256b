-- tests/torch/menu_torch.lua: a menu whose anomaly chain runs fad with backend = "torch" (the
-- package tools/export_torch.py wrote into $NGT_TORCH_DIR); with NGT_MENU_BACKEND=ref the same
-- menu runs models/fad.onnx on the ref backend. tests/torch/check_menu.py compares the two.
local ngt = require "ngt"
local backend = os.getenv "NGT_MENU_BACKEND" or "torch"
local file = backend == "torch" and (os.getenv "NGT_TORCH_DIR" .. "/fad.pt2") or "models/fad.onnx"
local ev = ngt.schema {
   fad_in = "f32[77]",
   jet = ngt.collection { pt = "f32", eta = "f32", phi = "f32", m = "f32", max = 12 },
   met = "f32",
   run = ngt.scalar "u32",
   lumi = ngt.scalar "u32",
   event = "u64",
   identity = { run = "run", lumi = "lumi", event = "event" },
}
local fad = ngt.model { name = "fad", file = file, backend = backend }
return ngt.menu { schema = ev, chains = {
   ngt.chain "J" { ngt.cut "leading(jet, 0).pt > 60" },
   ngt.chain "F" { ngt.infer(fad, "fad_in", "fad_out"), ngt.cut "mean((fad_out - fad_in[0:76])**2) > 0.1" },
}, streams = { a = { "J" }, b = { "F" } } }
