#!/usr/bin/env python3
"""Build AOTInductor packages (.pt2) of the canonical models for the torch backend.

The torch modules compute the same function as models/fad.onnx and models/mdt.onnx: their weights
are read from the ONNX files (tools/make_models.py writes them in torch layout). Each is exported
with torch.export, a dynamic batch dimension 1..MAX_BATCH, and compiled by
torch._inductor.aoti_compile_and_package for this CPU and this torch: a package is bound to both,
so it is built at test or bench time into the build tree and never committed.

Writes into --out:
  NAME.pt2          the compiled package (the model library inside)
  NAME_cpp.pt2      with --cpp-only: the same model as sources (aot_inductor.package_cpp_only)
  NAME.eager.npy    eager torch's outputs for models/NAME.input.npy (the tests' reference)
  fad_v2.pt2        with --variants: fad with its output bias shifted by 1 (a second version to
                    swap in), and fad_v2.eager.npy
  bad_*.pt2         with --variants: fad.pt2 spoiled for the error tests: bad_nolib (no model
                    library), bad_shape (metadata: 78 inputs), bad_dtype (metadata: f64 input),
                    bad_f16 (metadata: f16 input), bad_oldtorch (metadata: compiled by torch 1.0.0),
                    bad_notzip (a text file)

Every package records ngt's metadata (aot_inductor.metadata, read by modules/torch):
  ngt.inputs / ngt.outputs  "name:dtype:d1xd2" per tensor, the batch dimension left out
  ngt.max_batch             the largest batch the export allows
  ngt.torch_version         torch.__version__ of the exporting torch
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

SKIP = 77  # ctest's SKIP_RETURN_CODE for the torch tests: torch is not installed here
try:
    import torch
    from torch import nn
    import torch.nn.functional as F
except Exception as e:  # ImportError, or OSError from a missing CUDA library
    why = os.path.join(os.path.dirname(os.path.dirname(sys.executable)), ".ngt-torch-error")
    extra = open(why).read().strip() if os.path.exists(why) else "run scripts/bootstrap --torch"
    print(f"export_torch: SKIP: torch does not import ({type(e).__name__}: {e}); {extra}")
    sys.exit(SKIP)

MAX_BATCH = 1024
HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(os.path.dirname(HERE), "models")
DTYPES = {torch.float32: "f32", torch.float64: "f64", torch.float16: "f16"}


def onnx_weights(path):
    m = onnx.load(path)
    return {t.name: numpy_helper.to_array(t).copy() for t in m.graph.initializer}, m


class Fad(nn.Module):
    """Gemm(transB=1) + Relu layers, linear last layer: the fad MLP of tools/make_models.py."""

    def __init__(self, w, dtype=torch.float32, bias_shift=0.0):
        super().__init__()
        n = sum(1 for k in w if k.endswith(".weight"))
        self.fcs = nn.ModuleList()
        for i in range(n):
            wt, b = w[f"fc{i + 1}.weight"], w[f"fc{i + 1}.bias"]
            lin = nn.Linear(wt.shape[1], wt.shape[0])
            lin.weight.data = torch.from_numpy(wt)
            lin.bias.data = torch.from_numpy(b + (bias_shift if i == n - 1 else 0.0))
            self.fcs.append(lin)
        self.dtype = dtype

    def forward(self, x):
        x = x.to(torch.float32)
        for i, fc in enumerate(self.fcs):
            x = fc(x)
            if i < len(self.fcs) - 1:
                x = F.relu(x)
        return x


class Mdt(nn.Module):
    """Conv1D layers with the ONNX model's explicit pads, Relu between, Sigmoid last."""

    def __init__(self, w, graph, bias_shift=0.0):
        super().__init__()
        self.convs, self.pads = nn.ModuleList(), []
        convs = [n for n in graph.node if n.op_type == "Conv"]
        for i, node in enumerate(convs):
            wt, b = w[node.input[1]], w[node.input[2]]
            pads = next(a.ints for a in node.attribute if a.name == "pads")
            c = nn.Conv1d(wt.shape[1], wt.shape[0], wt.shape[2])
            c.weight.data = torch.from_numpy(wt)
            c.bias.data = torch.from_numpy(b + (bias_shift if i == len(convs) - 1 else 0.0))
            self.convs.append(c)
            self.pads.append((int(pads[0]), int(pads[1])))

    def forward(self, x):
        for i, (c, p) in enumerate(zip(self.convs, self.pads)):
            x = c(F.pad(x, p))
            x = torch.sigmoid(x) if i == len(self.convs) - 1 else F.relu(x)
        return x


def spec(name, t):
    return f"{name}:{DTYPES[t.dtype]}:{'x'.join(str(d) for d in t.shape[1:])}"


def export(module, example, path, cpp_only=False, version=None):
    module.eval()
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    with torch.no_grad():
        ep = torch.export.export(module, (example,), dynamic_shapes=({0: batch},))
        out = module(example)
    meta = {
        "ngt.inputs": spec("input", example),
        "ngt.outputs": spec("output", out),
        "ngt.max_batch": str(MAX_BATCH),
        "ngt.torch_version": version or torch.__version__,
    }
    cfg = {"aot_inductor.metadata": meta}
    if cpp_only:
        cfg["aot_inductor.package_cpp_only"] = True
    t0 = time.time()
    if os.path.exists(path):
        os.unlink(path)
    torch._inductor.aoti_compile_and_package(ep, package_path=path, inductor_configs=cfg)
    print(f"export_torch: {path} ({time.time() - t0:.1f} s)", flush=True)


def spoil(src, dst, meta=None, drop=None):
    """Copies package src to dst with metadata entries replaced or the files ending in drop left
    out."""
    import zipfile
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if drop and info.filename.endswith(drop):
                continue
            if meta and info.filename.endswith("_metadata.json"):
                d = json.loads(data)
                d.update(meta)
                data = json.dumps(d).encode()
            zout.writestr(info, data)


def build(name, bias_shift=0.0):
    w, m = onnx_weights(os.path.join(MODELS, f"{name}.onnx"))
    return Fad(w, bias_shift=bias_shift) if name == "fad" else Mdt(w, m.graph, bias_shift)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default="fad,mdt")
    ap.add_argument("--cpp-only", action="store_true", help="also NAME_cpp.pt2 (sources)")
    ap.add_argument("--variants", action="store_true", help="also NAME_v2.pt2 and bad_*.pt2")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    names = a.models.split(",")
    for name in names:
        mod = build(name).eval()
        x = torch.from_numpy(np.load(os.path.join(MODELS, f"{name}.input.npy")))
        with torch.no_grad():
            np.save(os.path.join(a.out, f"{name}.eager.npy"), mod(x).numpy())
        export(mod, x[:8], os.path.join(a.out, f"{name}.pt2"))
        if a.cpp_only:
            export(mod, x[:8], os.path.join(a.out, f"{name}_cpp.pt2"), cpp_only=True)
        if a.variants and name == "fad":
            v2 = build(name, bias_shift=1.0).eval()
            with torch.no_grad():
                np.save(os.path.join(a.out, f"{name}_v2.eager.npy"), v2(x).numpy())
            export(v2, x[:8], os.path.join(a.out, f"{name}_v2.pt2"))
    if a.variants and "fad" in names:
        fad = os.path.join(a.out, "fad.pt2")
        bad = lambda what: os.path.join(a.out, f"bad_{what}.pt2")
        spoil(fad, bad("nolib"), drop=".so")
        spoil(fad, bad("shape"), meta={"ngt.inputs": "input:f32:78"})
        spoil(fad, bad("dtype"), meta={"ngt.inputs": "input:f64:77"})
        spoil(fad, bad("f16"), meta={"ngt.inputs": "input:f16:77"})
        spoil(fad, bad("oldtorch"), meta={"ngt.torch_version": "1.0.0"})
        with open(bad("notzip"), "w") as f:
            f.write("this is not a zip archive\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
