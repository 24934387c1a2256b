#!/usr/bin/env python3
# bench_hls.py: fad at ap_fixed<16,6> and mdt at ap_fixed<20,6>, one thread: the hls backend vs
# hls4ml's compiled C simulation (predict() on one large array), same events, mismatch count.
"""bench/hls: ngt's hls backend against hls4ml's predict() (bench/README.md, docs/hls.md)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

MODELS = [("fad", "fixed<16,6>", 4096), ("mdt", "fixed<20,6>", 1024)]


def have_hls4ml():
    try:
        import hls4ml  # noqa: F401
        return True
    except Exception:
        return False


def core(exe, name, onnx_path, cfg_path, x_path, ref_path=None, kernel=None):
    args = [exe, name, onnx_path, cfg_path, x_path] + ([ref_path] if ref_path else [])
    env = dict(os.environ)
    if kernel:
        env["NGT_HLS_KERNEL"] = kernel
    lines = subprocess.run(args, check=True, capture_output=True, text=True,
                           env=env).stdout.splitlines()
    out = lines[0].split()
    kernel = lines[1].split(" ", 1)[1] if len(lines) > 1 else "?"
    return float(out[2]), int(out[3]), kernel


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--core", required=True, help="bench_hls_core executable")
    ap.add_argument("--only", help="fad or mdt")
    ap.add_argument("--kernels", help="comma-separated tiled kernels to time, each against the "
                    "same hls4ml run (avx512, avx2, avx2-v8: the kernel before the AVX2 shape, "
                    "generic; docs/hls.md); default: the one this CPU gets")
    ap.add_argument("--outputs", default="f32", help="comma-separated output types to time: "
                    "f32, f64 (NgtOutput f64: exact float64 outputs, compared as values too)")
    args = ap.parse_args()
    env = subprocess.run([args.core, "--cpu"], capture_output=True, text=True).stdout.strip()
    print(f"CPU: {env}")
    peer = have_hls4ml()
    if not peer:
        print("hls4ml is not installed: ngt's own figures only. For the comparison install the "
              "pinned peers with: scripts/bootstrap --peers")
    import hls_models
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_hls_") as tmp:
        for name, prec, n in MODELS:
            if args.only and name != args.only:
                continue
            onnx_path = os.path.join(ROOT, "models", f"{name}.onnx")
            model = onnx.load(onnx_path)
            x = np.load(os.path.join(ROOT, "models", f"{name}.input.npy"))
            x = np.ascontiguousarray(np.concatenate([x] * (n // len(x) + 1))[:n])
            x_path = os.path.join(tmp, f"{name}.x.npy")
            np.save(x_path, x)
            if peer:
                cfg = hls_models.name_config(model, prec)
            else:  # the same configuration without hls4ml: model default, 'auto' elsewhere
                cfg = {"Model": {"Precision": {"default": prec, "accum": "auto", "result": "auto"}}}
            cfg_path = os.path.join(tmp, f"{name}.config.json")
            with open(cfg_path, "w") as f:
                json.dump(cfg, f)
            hz, ref_path = None, None
            if peer:
                import hls_oracle
                hm, shape = hls_oracle.convert(model, cfg, os.path.join(tmp, name))
                hls_oracle.predict(hm, x[:16], shape)  # warm up (tables, library load)
                t0 = time.perf_counter()
                y = hls_oracle.predict(hm, x, shape)
                hz = n / (time.perf_counter() - t0)
                ref_path = os.path.join(tmp, f"{name}.hls4ml.npy")
                np.save(ref_path, y)
            f64_path = os.path.join(tmp, f"{name}.f64.json")
            with open(f64_path, "w") as f:
                json.dump({"NgtBase": cfg_path, "NgtOutput": "f64"}, f)
            for want in (args.kernels.split(",") if args.kernels else [None]):
                for dt in args.outputs.split(","):
                    ngt_hz, bad, kernel = core(args.core, name, onnx_path,
                                               f64_path if dt == "f64" else cfg_path, x_path,
                                               ref_path, want)
                    print(f"{name} ({dt}): kernel {kernel}")
                    if want and not kernel.startswith(want + " "):
                        print(f"  (asked for {want}: this CPU cannot run it)")
                    rows.append((name, prec, n, ngt_hz, hz, bad, kernel.split(" ")[0], dt))
    print(f"{'model':6} {'precision':12} {'kernel':8} {'out':3} {'events':>7} {'ngt ev/s':>12} "
          f"{'hls4ml ev/s':>12} {'ratio':>8} {'mismatches':>10}")
    for name, prec, n, ngt_hz, hz, bad, kernel, dt in rows:
        print(f"{name:6} {prec:12} {kernel:8} {dt:3} {n:7d} {ngt_hz:12.0f} "
              f"{(f'{hz:12.0f}' if hz else '           -')} "
              f"{(f'{ngt_hz / hz:7.0f}x' if hz else '       -')} "
              f"{(str(bad) if bad >= 0 else '-'):>10}")
    return 1 if any(r[5] > 0 for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
