#!/usr/bin/env python3
"""check_concurrent.py NGT WORKDIR: eight `ngt infer --backend genc` processes start at once on an
empty cache, so they all compile the same model at the same time (genc_concurrent). Every one
must succeed, with the same output bits, and the cache must end with one library and no
temporary files left behind."""
import os, shutil, subprocess, sys

ngt, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
cache = os.path.join(work, "cache")
os.makedirs(cache)
env = dict(os.environ, NGT_CACHE=cache)
procs = []
for k in range(8):
    out = os.path.join(work, "out%d.npy" % k)
    procs.append((out, subprocess.Popen(
        [ngt, "infer", "models/fad.onnx", "--backend", "genc", "--input", "models/fad.input.npy",
         "--output", out], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
outputs = []
for out, p in procs:
    stdout, stderr = p.communicate(timeout=600)
    assert p.returncode == 0, "ngt infer failed: %s%s" % (stdout, stderr)
    outputs.append(open(out, "rb").read())
assert all(o == outputs[0] for o in outputs), "concurrent compiles gave different outputs"
libs = [f for f in os.listdir(cache) if f.endswith(".so")]
assert len(libs) == 1, "expected one compiled library in the cache, found %s" % sorted(os.listdir(cache))
leftovers = [f for f in os.listdir(cache) if "tmp" in f or f.startswith(".")]
assert not leftovers, "temporary files left in the cache: %s" % leftovers
print("ok: 8 concurrent compiles, one library, identical outputs")
