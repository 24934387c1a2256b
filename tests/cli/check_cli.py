#!/usr/bin/env python3
"""check_cli.py NGT CHECK: the `ngt` command's tests, one CHECK per ctest (see CMakeLists.txt)."""
import json, os, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import npy  # noqa: E402

NGT, CHECK = sys.argv[1], sys.argv[2]
DEMO = "configs/l1_demo.lua"


def ngt(*args, status=0):
    p = subprocess.run([NGT, *args], capture_output=True, text=True)
    assert p.returncode == status, "ngt %s: status %d, wanted %d\n%s%s" % (
        " ".join(args), p.returncode, status, p.stdout, p.stderr)
    return p


def report(d, *args):
    out = os.path.join(d, "r.json")
    ngt("run", *args, "--quiet", "--json", out)
    return json.load(open(out))


def check_totals(r):
    """Every number in the report that must add up does."""
    ev = r["events"]
    assert set(ev) == {"in", "accepted", "rejected", "errored"}, ev
    assert ev["in"] == ev["accepted"] + ev["rejected"] + ev["errored"], ev
    assert ev["in"] > 0
    for key in ("chains", "streams", "machine", "provenance"):
        assert key in r, key
    for k in ("ngt_version", "menu_hash", "schema_id", "models", "prescale_column"):
        assert k in r["provenance"], k
    for k in ("cpu", "isa", "blas_kernel"):
        assert k in r["machine"], k
    for c in r["chains"]:
        for k in ("name", "seen", "passed", "prescaled", "unique", "time_per_event_us", "errored",
                  "accept_fraction", "rate_hz"):
            assert k in c, (c["name"], k)
        assert c["seen"] <= ev["in"], c
        assert c["passed"] + c["prescaled"] + c["errored"] <= c["seen"], c
        assert c["unique"] <= c["passed"] <= ev["accepted"], c
        assert abs(c["accept_fraction"] - c["passed"] / ev["in"]) < 1e-6, c
    assert max(c["passed"] for c in r["chains"]) <= ev["accepted"] <= sum(c["passed"] for c in r["chains"])
    streams = {s["name"]: s for s in r["streams"]}
    assert streams["error"]["accepted"] == ev["errored"], streams["error"]
    physics = [s for s in r["streams"] if s["name"] != "error"]
    union = sum(s["accepted"] for s in physics) - sum(
        s["overlap"][t["name"]] for i, s in enumerate(physics) for t in physics[i + 1:])
    if len(physics) <= 2:  # inclusion-exclusion is exact for two streams
        assert union <= ev["accepted"], (union, ev)
    for s in r["streams"]:
        for t, n in s["overlap"].items():
            assert streams[t]["overlap"][s["name"]] == n, (s["name"], t)
            assert n <= min(s["accepted"], streams[t]["accepted"])


def help_():
    top = ngt("--help")
    assert "run MENU.lua" in top.stdout and "inspect" in top.stdout and "infer" in top.stdout
    for verb, word in (("run", "--threads"), ("inspect", "resolved"), ("infer", "--backend")):
        assert word in ngt(verb, "--help").stdout, verb
    assert "unknown option" in ngt("run", DEMO, "--bogus", status=2).stderr
    assert "unknown verb" in ngt("frobnicate", status=2).stderr
    assert "--threads expects" in ngt("run", DEMO, "--threads", "two", status=2).stderr
    desc = ngt("inspect", DEMO).stdout
    for name in ("L1_FAD", "L1_ZeroBias", "L1_Mu_Jet_Seeded", "physics", "express"):
        assert name in desc, name


def demo_rates():
    with tempfile.TemporaryDirectory() as d:
        r = report(d, DEMO, "--events", "100000")
        check_totals(r)
        for c in r["chains"]:
            assert 1e-4 <= c["accept_fraction"] <= 1e-1, (c["name"], c["accept_fraction"])
            assert c["rate_hz"] == c["accept_fraction"] * 40e6 or abs(c["rate_hz"] / (c["accept_fraction"] * 40e6) - 1) < 1e-9
        assert r["provenance"]["models"]["fad"].startswith("0x")
        assert r["run"]["lua_steps"] == 1 and r["run"]["lua_allocations"] > 0
        shared = [s["name"] for s in r["steps"] if s["shared"]]
        assert "infer:fad" in shared and "mht" in shared, shared


def threads_batch():
    with tempfile.TemporaryDirectory() as d:
        a = report(d, DEMO, "--events", "20000", "--threads", "1", "--batch", "7")
        b = report(d, DEMO, "--events", "20000", "--threads", "2", "--batch", "256")
    check_totals(a)
    check_totals(b)
    keys = ("seen", "passed", "prescaled", "errored", "unique")
    ca = [(c["name"],) + tuple(c[k] for k in keys) for c in a["chains"]]
    cb = [(c["name"],) + tuple(c[k] for k in keys) for c in b["chains"]]
    assert ca == cb, (ca, cb)
    assert a["events"] == b["events"]
    assert [(s["name"], s["accepted"]) for s in a["streams"]] == [(s["name"], s["accepted"]) for s in b["streams"]]


def cuts_modes():
    """--cuts compiled and --cuts interp decide the same; a bad mode is a usage error."""
    with tempfile.TemporaryDirectory() as d:
        a = report(d, DEMO, "--events", "20000", "--threads", "2", "--batch", "7", "--cuts", "interp")
        b = report(d, DEMO, "--events", "20000", "--threads", "1", "--cuts", "compiled")
    check_totals(a)
    keys = ("seen", "passed", "prescaled", "errored", "unique")
    ca = [(c["name"],) + tuple(c[k] for k in keys) for c in a["chains"]]
    cb = [(c["name"],) + tuple(c[k] for k in keys) for c in b["chains"]]
    assert ca == cb, (ca, cb)
    assert a["events"] == b["events"]
    p = ngt("run", DEMO, "--cuts", "fast", status=2)
    assert "--cuts expects auto, compiled or interp" in p.stderr, p.stderr


def roundtrip():
    with tempfile.TemporaryDirectory() as d:
        first = report(d, DEMO, "--events", "5000", "--output", d + "/o1", "--record")
        check_totals(first)
        _, shape, dec = npy.read(d + "/o1/all/ngt.decision.npy")
        assert shape[0] == 5000
        # every event back in: same decisions
        ngt("run", DEMO, "--input", d + "/o1/all", "--output", d + "/o2", "--quiet")
        _, shape2, dec2 = npy.read(d + "/o2/all/ngt.decision.npy")
        assert shape2 == shape and dec2 == dec, "decisions differ after the round trip"
        # a stream's events back in: all accepted, and the stream keeps all of them
        phys = npy.read(d + "/o1/physics/event.npy")[1][0]
        assert phys == next(s["accepted"] for s in first["streams"] if s["name"] == "physics") > 0
        again = report(d, DEMO, "--input", d + "/o1/physics")
        assert again["events"]["in"] == phys
        assert next(s["accepted"] for s in again["streams"] if s["name"] == "physics") == phys
        # the stream's own columns as written: per event, collections as fields plus counts
        descr, jshape, _ = npy.read(d + "/o1/physics/jet.pt.npy")
        assert descr == "<f4" and jshape == (phys, 12), jshape
        assert npy.read(d + "/o1/physics/jet.n.npy")[0] == "<i4"
        assert npy.read(d + "/o1/physics/run.npy")[1] == (phys,)
        # a missing column is named
        os.remove(d + "/o1/physics/met.npy")
        assert "met.npy" in ngt("run", DEMO, "--input", d + "/o1/physics", status=1).stderr


def infer():
    with tempfile.TemporaryDirectory() as d:
        ngt("infer", "models/fad.onnx", "--backend", "ref", "--input", "models/fad.input.npy",
            "--output", d + "/out.npy")
        _, shape, got = npy.read(d + "/out.npy")
        _, wshape, want = npy.read("models/fad.output.npy")
        assert shape == wshape, (shape, wshape)
        worst = max(abs(a - b) for a, b in zip(got, want))
        assert worst < 1e-4, worst
        err = ngt("infer", "models/fad.onnx", "--input", "models/mdt.input.npy", "--output",
                  d + "/x.npy", status=1).stderr
        assert "wants f32 with 77" in err, err


def sigint():
    with tempfile.TemporaryDirectory() as d:
        out = d + "/r.json"
        p = subprocess.Popen([NGT, "run", DEMO, "--events", "100000000", "--json", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=60)
        assert p.returncode == 0, (p.returncode, stderr)
        assert "interrupted" in stdout, stdout
        r = json.load(open(out))
        assert r["run"]["interrupted"] is True
        assert 0 < r["events"]["in"] < 100000000
        check_totals(r)


def genc_menu():
    """The demo menu with its model on the genc backend decides exactly as with ref."""
    with tempfile.TemporaryDirectory() as d:
        menu = os.path.join(d, "genc_demo.lua")
        text = open(DEMO).read()
        assert 'backend = "ref"' in text
        open(menu, "w").write(text.replace('backend = "ref"', 'backend = "genc"'))
        a = report(d, DEMO, "--events", "20000")
        b = report(d, menu, "--events", "20000")
    check_totals(b)
    keys = ("seen", "passed", "prescaled", "errored", "unique")
    assert [[c[k] for k in keys] for c in a["chains"]] == [[c[k] for k in keys] for c in b["chains"]]
    assert a["events"] == b["events"]


def install():
    """make install's layout works on its own: the installed binary runs its installed Lua files."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["cmake", "--install", os.path.dirname(NGT), "--prefix", d],
                       check=True, capture_output=True)
        exe = os.path.join(d, "bin", "ngt")
        env = {k: v for k, v in os.environ.items() if k not in ("NGT_LUA_PATH", "NGT_HEADER")}
        v = subprocess.run([exe, "--version"], capture_output=True, text=True, env=env, check=True)
        assert os.path.realpath(v.stdout.split("(lua: ")[1].rstrip(")\n")) == \
            os.path.realpath(os.path.join(d, "share", "ngt", "lua")), v.stdout
        out = os.path.join(d, "r.json")
        subprocess.run([exe, "run", DEMO, "--events", "5000", "--quiet", "--json", out],
                       env=env, check=True)
        check_totals(json.load(open(out)))


{"install": install, "genc_menu": genc_menu, "help": help_, "demo_rates": demo_rates, "threads_batch": threads_batch, "roundtrip": roundtrip,
 "cuts_modes": cuts_modes,
 "infer": infer, "sigint": sigint}[CHECK]()
print("ok", CHECK)
