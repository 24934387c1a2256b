#!/usr/bin/env python3
"""bench_torch.py: fad and mdt on one thread at batch 1, 256, 1024: ngt's torch backend (the
.pt2 through the AOTInductor C ABI, from C) vs genc vs ONNX Runtime (1 intra-op thread,
sequential, io_binding bound once, spinning off; its Identity-model floor printed beside), and
the shim's per-call overhead: in one process (bench_torch_cpp), rounds of the same package called
from C++ through torch's AOTIModelPackageLoader alternate with rounds through ngt's shim; medians
and minima of 21 rounds; overhead = shim - C++ (target <= 1 us per call).
Exports the packages first (tools/export_torch.py) unless they are there."""
import argparse
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "genc"))
BATCHES = [1, 256, 1024]


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def isa():
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "").split()
    return "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "generic"


def times(lines):
    t = {}
    for line in lines.splitlines():
        f = line.split()
        if f and f[0] == "time":
            t[(f[1], f[2], int(f[3]))] = float(f[4])
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--core", required=True)
    ap.add_argument("--cpp", default="")
    ap.add_argument("--pt2", required=True)
    ap.add_argument("--budget", type=float, default=0.5, help="seconds per measurement")
    a = ap.parse_args()
    py = sys.executable
    if not all(os.path.exists(os.path.join(a.pt2, f"{m}.pt2")) for m in ("fad", "mdt")):
        r = subprocess.run([py, "tools/export_torch.py", "--out", a.pt2], capture_output=True,
                           text=True)
        if r.returncode == 77:
            print(f"bench torch: skipped: {r.stdout.strip()}")
            return 0
        if r.returncode:
            sys.exit(f"bench torch: export failed: {r.stderr[-2000:]}")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    b = [str(x) for x in BATCHES]
    core = subprocess.run([a.core, a.pt2, str(a.budget)] + b, env=env, check=True,
                          capture_output=True, text=True).stdout
    t = times(core)
    counters = next((l for l in core.splitlines() if l.startswith("counters")), "")
    if a.cpp:
        for m in ("fad", "mdt"):
            out = subprocess.run([a.cpp, os.path.join(a.pt2, f"{m}.pt2"), m, str(a.budget)] + b,
                                 env=env, check=True, capture_output=True, text=True).stdout
            t.update(times(out))
    import numpy as np
    import bench_genc as bg  # ONNX Runtime harness shared with bench/genc

    for m, shape in (("fad", [77]), ("mdt", [1, 216])):
        sess = bg.session(open(f"models/{m}.onnx", "rb").read())
        floor = bg.session(bg.identity_model(shape))
        for n in BATCHES:
            x = np.random.default_rng(0).uniform(-1, 1, [n] + shape).astype(np.float32)
            t[("ort", m, n)] = bg.per_call(sess, x, a.budget)
            t[("floor", m, n)] = bg.per_call(floor, x, a.budget)
    import torch
    print(f"bench torch: {cpu_model()}, {isa()}, torch {torch.__version__}, one thread; "
          f"us per call (best of 5)")
    print("| model | batch | ngt torch | genc | ORT | ORT floor | torch/genc | torch/ORT "
          "| shim (median) | C++ loader (median) | shim - C++ (median) | shim - C++ (min) "
          "| shim's own calls |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in ("fad", "mdt"):
        for n in BATCHES:
            us = {k: t.get((k, m, n), float("nan")) * 1e6
                  for k in ("torch", "shim", "cpp", "genc", "ort", "floor", "shim_min", "cpp_min",
                            "shimwork")}
            own = f"{us['shimwork']:.3f}" if m == "fad" else "-"
            print(f"| {m} | {n} | {us['torch']:.2f} | {us['genc']:.2f} | {us['ort']:.2f} | "
                  f"{us['floor']:.2f} | {us['torch'] / us['genc']:.2f}x | "
                  f"{us['torch'] / us['ort']:.2f}x | {us['shim']:.2f} | {us['cpp']:.2f} | "
                  f"{us['shim'] - us['cpp']:+.2f} | {us['shim_min'] - us['cpp_min']:+.2f} | "
                  f"{own} |")
    print("shim overhead target: <= 1 us per call. shim's own calls: the libtorch calls ngt makes "
          "around the run (wrap input, inspect and copy output, delete), alone, on fad's shapes")
    print(f"ngt torch {counters}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
