#!/usr/bin/env python3
"""torch_menu: runs tests/torch/menu_torch.lua with backend = "torch" and again with the ref
backend on the same events; every event must be accounted for (in == accepted + rejected +
errored, none errored) and the decisions must be equal event by event.
Usage: check_menu.py NGT MENU WORKDIR   (exits 77, skipped, without $NGT_TORCH_DIR/fad.pt2)"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np


def run(ngt, menu, work, backend):
    out, js = os.path.join(work, backend), os.path.join(work, backend + ".json")
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, NGT_MENU_BACKEND=backend)
    cmd = [ngt, "run", menu, "--events", "5000", "--batch", "100", "--threads", "2", "--quiet",
           "--output", out, "--json", js]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: {backend}: ngt run exited {p.returncode}: {p.stderr.strip()}")
    rep = json.load(open(js))
    ev = rep["events"]
    if ev["in"] != 5000 or ev["in"] != ev["accepted"] + ev["rejected"] + ev["errored"]:
        sys.exit(f"FAIL: {backend}: events do not add up: {ev}")
    if ev["errored"]:
        sys.exit(f"FAIL: {backend}: {ev['errored']} events errored")
    chains = {c["name"]: c["passed"] for c in rep["chains"]}
    return np.load(os.path.join(out, "all", "ngt.decision.npy")), chains


def main():
    ngt, menu, work = sys.argv[1:4]
    pkg = os.path.join(os.environ.get("NGT_TORCH_DIR", "/nonexistent"), "fad.pt2")
    if not os.path.exists(pkg):
        print(f"SKIP: no {pkg} (torch is not installed: scripts/bootstrap --torch)")
        return 77
    os.makedirs(work, exist_ok=True)
    d_torch, c_torch = run(ngt, menu, work, "torch")
    d_ref, c_ref = run(ngt, menu, work, "ref")
    print(f"passed per chain: torch {c_torch}, ref {c_ref}")
    if c_torch["F"] == 0:
        sys.exit("FAIL: the torch chain passed nothing (the cut no longer tests the model)")
    diff = np.nonzero(d_torch != d_ref)[0]
    if diff.size:
        sys.exit(f"FAIL: {diff.size} events decided differently, first {diff[:5].tolist()}")
    print(f"torch_menu: {d_torch.shape[0]} events, decisions equal to the ref backend's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
