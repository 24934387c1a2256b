#!/usr/bin/env python3
# hls_aptypes.py: builds tests/hls/aptypes_gen.cpp against the Xilinx ap_types headers that the
# installed hls4ml ships and writes the expected assignment results to tests/hls/data/aptypes.txt.
"""Regenerate the ap_fixed expectations used by tests/hls/test_fixed.c.

  ~/.cache/ngt/venv/bin/python tools/hls_aptypes.py [--out FILE]

Needs hls4ml (scripts/bootstrap --peers) and g++. Each line is
  KIND S W I Q O COUNT FNV   (KIND narrow|double|wide; Q, O: ap_types' enum values)
the FNV-1a 64 hash of the raw results (each sign-extended to 128 bits, low then high 64 bits).
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/hls/data/aptypes.txt"))
    args = ap.parse_args()
    import hls4ml
    inc = os.path.join(os.path.dirname(hls4ml.__file__), "templates/vivado/ap_types")
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "aptypes_gen")
        subprocess.run(["g++", "-std=c++17", "-O1", "-I" + inc,
                        os.path.join(ROOT, "tests/hls/aptypes_gen.cpp"), "-o", exe], check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    with open(args.out, "w") as f:
        f.write(f"# ap_types of hls4ml {hls4ml.__version__}; made by tools/hls_aptypes.py\n")
        f.write(out)
    print(f"hls_aptypes: {len(out.splitlines())} lines -> {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
