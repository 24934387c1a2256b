#!/usr/bin/env python3
# check_isa.py: the object code genc loads for fad on this CPU uses its widest FMA: vfmadd..ps on
# zmm registers where /proc/cpuinfo has avx512f, on ymm where it has avx2 and fma (genc_isa test).
import glob, os, re, subprocess, sys

ngt, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
for f in glob.glob(os.path.join(work, "genc-*")):
    os.remove(f)
flags = open("/proc/cpuinfo").read().split("flags")[1].split("\n")[0].split()
want = "zmm" if "avx512f" in flags else "ymm" if "avx2" in flags and "fma" in flags else None
env = dict(os.environ, NGT_CACHE=work)
subprocess.run([ngt, "infer", "models/fad.onnx", "--backend", "genc", "--input",
                "models/fad.input.npy", "--output", os.path.join(work, "out.npy")],
               check=True, env=env)
sos = glob.glob(os.path.join(work, "genc-*.so"))
assert len(sos) == 1, sos
asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", sos[0]], check=True,
                     capture_output=True, text=True).stdout
fma = re.findall(r"vfmadd\w*ps\s+[^\n]*%(xmm|ymm|zmm)", asm)
counts = {r: fma.count(r) for r in ("xmm", "ymm", "zmm")}
print("CPU wants", want or "no vector FMA", "; packed FMAs by register:", counts)
if want is None:
    sys.exit(0)
if counts[want] < 16:
    sys.exit("FAIL: fewer than 16 vfmadd..ps on %s in %s" % (want, sos[0]))
if want == "ymm" and counts["zmm"]:
    sys.exit("FAIL: zmm FMAs on a CPU without avx512f")
print("ok")
