#!/usr/bin/env python3
"""check_allocs.py NGT MENU: Lua steps allocate nothing per event in steady state. Runs MENU for
N and 8N events and compares the allocations counted through the Lua allocator (report key
run.lua_allocations): they must not grow with the events (a margin for the JIT's traces)."""
import json, subprocess, sys, tempfile, os

ngt, menu = sys.argv[1], sys.argv[2]

def run(events):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        subprocess.run([ngt, "run", menu, "--events", str(events), "--threads", "2",
                        "--batch", "128", "--quiet", "--json", out], check=True)
        return json.load(open(out))

def measure():
    small, big = run(50000), run(400000)
    a, b = small["run"]["lua_allocations"], big["run"]["lua_allocations"]
    print("lua steps %d; allocations: %d at 50000 events, %d at 400000" % (big["run"]["lua_steps"], a, b))
    assert big["run"]["lua_steps"] == 2, "expected the menu's two Lua steps"
    assert a > 0, "the counting allocator saw nothing: states not counted"
    passed = {c["name"]: c["passed"] for c in big["chains"]}
    assert 0 < passed["X"] < 400000 and 0 < passed["LeadJet"] < 400000, passed
    return b - a

# 2734 more batches of 128 per step: one allocation per batch and step would add >= 5468 in every
# run, one per event 350000; the JIT's own traces (allocated through the same allocator, compiled
# at moments that vary from run to run, more on a loaded machine) move the count by up to about
# two thousand. So: the smallest growth of two tries must stay well below the per-batch signal.
growth = min(measure(), measure())
assert growth < 2500, "Lua steps allocate per batch or per event: %d more allocations" % growth
print("ok")
