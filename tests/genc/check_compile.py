#!/usr/bin/env python3
# check_compile.py: `ngt compile` writes C and a header for each target that a C compiler builds
# with -Wall -Wextra -Werror, linked into a small host whose outputs match fad's committed ORT
# outputs; a bad target and a missing model are refused with a message (genc_compile test).
import os, subprocess, sys
import numpy as np

ngt, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
HOST = r'''
#include "fad_%(t)s.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    if (argc != 4) return 1;
    int n = atoi(argv[1]);
    float *x = malloc(sizeof(float) * 77 * n), *y = malloc(sizeof(float) * 76 * n);
    FILE *f = fopen(argv[2], "rb");
    if (fread(x, sizeof(float), 77 * (size_t)n, f) != 77 * (size_t)n) return 2;
    fclose(f);
    void *ws = aligned_alloc(64, (fad_%(t)s_workspace_size() + 63) / 64 * 64);
    const void *in[1] = {x};
    void *out[1] = {y};
    if (fad_%(t)s_infer(ws, in, out, n)) return 3;
    f = fopen(argv[3], "wb");
    fwrite(y, sizeof(float), 76 * (size_t)n, f);
    fclose(f);
    return 0;
}
'''
flags = open("/proc/cpuinfo").read().split("flags")[1].split("\n")[0].split()
targets = {"generic": []}
if "avx2" in flags and "fma" in flags:
    targets["avx2"] = ["-mavx2", "-mfma"]
if "avx512f" in flags:
    targets["avx512"] = ["-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma"]
x = np.load("models/fad.input.npy")
want = np.load("models/fad.output.npy")
x.tofile(os.path.join(work, "x.bin"))
for t, tf in targets.items():
    c = os.path.join(work, "fad_%s.c" % t)
    subprocess.run([ngt, "compile", "models/fad.onnx", "-o", c, "--target", t], check=True)
    assert os.path.exists(c[:-2] + ".h"), "no header"
    with open(os.path.join(work, "host_%s.c" % t), "w") as f:
        f.write(HOST % {"t": t})
    exe = os.path.join(work, "host_%s" % t)
    subprocess.run(["cc", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"] +
                   tf + ["-I", work, "-o", exe, c, os.path.join(work, "host_%s.c" % t), "-lm"],
                   check=True)
    out = os.path.join(work, "y_%s.bin" % t)
    subprocess.run([exe, str(len(x)), os.path.join(work, "x.bin"), out], check=True)
    y = np.fromfile(out, dtype=np.float32).reshape(want.shape)
    err = float(np.max(np.abs(y - want) - 1e-5 * np.abs(want)))
    print("%s: worst excess over 1e-5 + 1e-5|ort|: %.3g" % (t, err - 1e-5))
    assert err <= 1e-5, t
r = subprocess.run([ngt, "compile", "models/fad.onnx", "-o", os.path.join(work, "z.c"),
                    "--target", "sparc"], capture_output=True, text=True)
assert r.returncode != 0 and "sparc" in r.stderr, r.stderr
r = subprocess.run([ngt, "compile", "models/none.onnx", "-o", os.path.join(work, "z.c")],
                   capture_output=True, text=True)
assert r.returncode != 0 and "none.onnx" in r.stderr, r.stderr
print("ok")
