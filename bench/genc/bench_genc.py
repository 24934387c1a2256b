#!/usr/bin/env python3
# bench_genc.py: fad and mdt at batch 1, 16, 256, 1024 on one thread: ngt genc vs ONNX Runtime
# (1 intra-op thread, sequential, inputs bound once, its Identity-model floor subtracted) vs a
# layer-by-layer cblas_sgemm fad vs the ref backend, with GFLOP/s against this core's FMA peak.
import argparse, os, subprocess, sys, time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

BATCHES = [1, 16, 256, 1024]
FLOP = {"fad": 13888, "mdt": 2.0 * 216 * (12 * 24 + 12 * 12 * 3 + 12)}


def session(model_bytes):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


CLOCK = time.perf_counter


def per_call(sess, x, budget):
    """Seconds per run_with_iobinding call, input and output bound once (best of 5)."""
    b = sess.io_binding()
    b.bind_cpu_input(sess.get_inputs()[0].name, x)
    shape = [x.shape[0]] + list(sess.run(None, {sess.get_inputs()[0].name: x[:1]})[0].shape[1:])
    out = ort.OrtValue.ortvalue_from_numpy(np.zeros(shape, np.float32))
    b.bind_ortvalue_output(sess.get_outputs()[0].name, out)
    for _ in range(20):
        sess.run_with_iobinding(b)
    best = 1e30
    for _ in range(5):
        c, t0 = 0, CLOCK()
        while True:
            sess.run_with_iobinding(b)
            c += 1
            t = CLOCK() - t0
            if t > budget / 5:
                break
        best = min(best, t / c)
    return best


def identity_model(shape):
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"] + shape)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--core", required=True, help="bench_genc_core (the C half)")
    ap.add_argument("--budget", type=float, default=0.5, help="seconds per measurement")
    ap.add_argument("--cpu-clock", action="store_true",
                    help="time by this process's CPU time, not wall time (a shared machine)")
    ap.add_argument("--before", action="store_true",
                    help="also time genc with the dense blocking before the per-ISA shapes "
                    "(NGT_GENC_BLOCKING=before) in the same run")
    a = ap.parse_args()
    global CLOCK
    env = dict(os.environ)
    if a.cpu_clock:
        CLOCK = time.process_time
        env["NGT_BENCH_CLOCK"] = "cpu"
    core = subprocess.run([a.core, str(a.budget)], check=True, capture_output=True, text=True,
                          env=env).stdout
    before = {}
    if a.before:
        env["NGT_GENC_BLOCKING"] = "before"
        out = subprocess.run([a.core, str(a.budget)], check=True, capture_output=True, text=True,
                             env=env).stdout
        for line in out.splitlines():
            f = line.split("\t")
            if f[0] == "row" and f[3] == "genc":
                before[(f[1], int(f[2]))] = float(f[4])
            elif f[0] in ("genc_kernel", "peak_gflops"):
                before[f[0]] = f[1]
    info, rows = {}, {}
    for line in core.splitlines():
        f = line.split("\t")
        if f[0] == "row":
            rows[(f[1], int(f[2]), f[3])] = float(f[4])
        else:
            info[f[0]] = f[1]
    peak = float(info["peak_gflops"])
    print("CPU: %s   ISA: %s   BLAS kernel: %s   FP32 FMA peak (1 core): %.1f GFLOP/s" %
          (info["cpu"], info["isa"], info["blas"], peak))
    print("genc kernel: %s%s" % (info["genc_kernel"], "   (times: CPU time)" if a.cpu_clock else ""))
    env = os.environ.get("OPENBLAS_CORETYPE")
    slow = info["blas"].lower() in ("prescott", "core2", "nehalem", "atom", "katmai", "northwood")
    if slow and info["isa"] in ("avx512", "avx2") and not env:
        print("WARNING: OpenBLAS runs its '%s' kernel on an %s CPU (about 5x slow); set "
              "OPENBLAS_CORETYPE=%s before starting" %
              (info["blas"], info["isa"], "SkylakeX" if info["isa"] == "avx512" else "Haswell"))
    if env:
        print("OPENBLAS_CORETYPE=%s (set by the user; left as it is)" % env)
    print("ONNX Runtime %s, 1 intra-op thread, sequential, io_binding; floor = Identity model "
          "per call, subtracted from ORT's time" % ort.__version__)
    print()
    hdr = ("model", "batch", "genc us", "genc Mev/s", "genc GF/s", "%peak", "ORT us",
           "floor us", "ORT-floor us", "ORT Mev/s", "genc/ORT", "genc/(ORT-floor)", "sgemm Mev/s",
           "ref Mev/s")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for m in ("fad", "mdt"):
        mb = open("models/%s.onnx" % m, "rb").read()
        sess = session(mb)
        shape = [77] if m == "fad" else [1, 216]
        floor_sess = session(identity_model(shape))
        rng = np.random.default_rng(1)
        for n in BATCHES:
            x = rng.random([n] + shape, dtype=np.float32)
            t_ort = per_call(sess, x, a.budget)
            t_floor = per_call(floor_sess, x, a.budget)
            t_g = rows[(m, n, "genc")] * 1e-6
            t_r = rows[(m, n, "ref")] * 1e-6
            t_s = rows.get((m, n, "sgemm"))
            net = max(t_ort - t_floor, 1e-9)
            gf = FLOP[m] * n / t_g / 1e9
            print("| %s | %d | %.2f | %.2f | %.1f | %.0f%% | %.2f | %.2f | %.2f | %.2f | %.2fx | "
                  "%.2fx | %s | %.3f |" %
                  (m, n, t_g * 1e6, n / t_g / 1e6, gf, 100 * gf / peak, t_ort * 1e6,
                   t_floor * 1e6, net * 1e6, n / t_ort / 1e6, t_ort / t_g, net / t_g,
                   "%.2f" % (n / t_s) if t_s else "-", n / t_r / 1e6))
    if before:
        print("\ngenc blocking before the per-ISA shapes, same run (%s; its peak %s GFLOP/s):" %
              (before["genc_kernel"], before["peak_gflops"]))
        print("| model | batch | before us | now us | now/before speed | before %peak | now %peak |")
        print("|---|---|---|---|---|---|---|")
        for m in ("fad", "mdt"):
            for n in BATCHES:
                tb, tn = before[(m, n)] * 1e-6, rows[(m, n, "genc")] * 1e-6
                print("| %s | %d | %.2f | %.2f | %.2fx | %.0f%% | %.0f%% |" %
                      (m, n, tb * 1e6, tn * 1e6, tb / tn, 100 * FLOP[m] * n / tb / 1e9 / peak,
                       100 * FLOP[m] * n / tn / 1e9 / peak))
    print("\ngenc/ORT > 1: genc faster per call; genc/(ORT-floor): against ORT with its Python "
          "per-call floor taken off; sgemm: fad as four cblas_sgemm calls in C (mdt: none).")


if __name__ == "__main__":
    sys.exit(main())
