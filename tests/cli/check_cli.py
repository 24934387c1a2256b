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


STEP_ERRORS_MENU = """local ngt = require "ngt"
THRESHOLD = 5 -- a global of the script: not seen inside a step's own Lua state
local s = ngt.schema { x = "f32" }
return ngt.menu { schema = s, chains = {
  ngt.chain "A" { ngt.lua { name = "thrower", reads = { "x" }, fn = function(ev, n)
      for i = 0, n - 1 do
        if ev.x[ev.sel[i]] > 0.5 then error("boom") end
      end
  end } },
  ngt.chain "B" { ngt.lua { name = "glob", reads = { "x" }, fn = function(ev, n)
      for i = 0, n - 1 do
        if ev.x[ev.sel[i]] > THRESHOLD then ev.pass[i] = 0 end
      end
  end } },
  ngt.chain "C" { ngt.cut "x > 0.9" },
} }
"""


def step_errors():
    """Failing Lua steps: first message with file:line on stderr and in the report, exit 3 unless
    --allow-errors."""
    with tempfile.TemporaryDirectory() as d:
        menu = os.path.join(d, "errs.lua")
        open(menu, "w").write(STEP_ERRORS_MENU)
        out = os.path.join(d, "r.json")
        p = ngt("run", menu, "--events", "2000", "--quiet", "--json", out, status=3)
        assert menu + ":7: boom" in p.stderr, p.stderr
        assert menu + ":12: reads undefined global 'THRESHOLD'" in p.stderr, p.stderr
        r = json.load(open(out))
        check_totals(r)
        steps = {s["name"]: s for s in r["steps"]}
        assert steps["A:thrower"]["failed_calls"] > 0 and ":7: boom" in steps["A:thrower"]["error"]
        assert steps["B:glob"]["errors"] == 2000 and "THRESHOLD" in steps["B:glob"]["error"]
        assert steps["C:cut(x > 0.9)"]["error"] is None and steps["C:cut(x > 0.9)"]["failed_calls"] == 0
        assert r["events"]["errored"] > 0
        text = ngt("run", menu, "--events", "2000", status=3).stdout
        assert "errors" in text and "THRESHOLD" in text, text
        p = ngt("run", menu, "--events", "2000", "--quiet", "--allow-errors")
        assert "boom" in p.stderr
        assert "--allow-errors" in ngt("run", "--help").stdout


def patch_i32(path, values):
    """Overwrites int32 elements of a 1-d .npy file in place: {index: value}."""
    _, shape, _ = npy.read(path)
    data = bytearray(open(path, "rb").read())
    body = len(data) - 4 * shape[0]
    for i, v in values.items():
        data[body + 4 * i:body + 4 * i + 4] = v.to_bytes(4, "little", signed=True)
    open(path, "wb").write(bytes(data))


def bad_counts():
    """Recorded demo input with jet.n = 2e9, -1 and max+1: those events are refused (errored, with
    the message), the demo's own Lua mht step never sees them, every other event decides as
    before."""
    with tempfile.TemporaryDirectory() as d:
        ngt("run", DEMO, "--events", "3000", "--quiet", "--output", d + "/o1", "--record")
        _, _, before = npy.read(d + "/o1/all/ngt.status.npy")
        patch_i32(d + "/o1/all/jet.n.npy", {3: 2000000000, 10: -1, 2000: 13})
        out = os.path.join(d, "r.json")
        p = ngt("run", DEMO, "--input", d + "/o1/all", "--quiet", "--json", out, "--output",
                d + "/o2", status=3)
        assert "input: 3 events refused" in p.stderr and "jet.n" in p.stderr, p.stderr
        assert "2000000000" in p.stderr, p.stderr
        r = json.load(open(out))
        check_totals(r)
        assert r["input"]["refused"] == 3 and "jet.n" in r["input"]["error"], r["input"]
        assert all(s["failed_calls"] == 0 for s in r["steps"]), r["steps"]
        _, _, after = npy.read(d + "/o2/all/ngt.status.npy")
        for i, (a, b) in enumerate(zip(before, after)):
            assert b == (2 if i in (3, 10, 2000) else a), (i, a, b)
        ngt("run", DEMO, "--input", d + "/o1/all", "--quiet", "--allow-errors")


RESERVED_MENU = """local ngt = require "ngt"
local s = ngt.schema { pass = "f32", sel = "f32", error = "f32", columns = "f32" }
return ngt.menu { schema = s, chains = {
  ngt.chain "L" { ngt.lua { name = "flt", reads = { "pass", "sel", "error", "columns" },
    writes = { out = "f32" }, fn = function(ev, n)
      local c = ev.columns
      for i = 0, n - 1 do
        local e = ev.sel[i]
        c.out[e] = c.pass[e] + c.sel[e] + c.error[e] + c.columns[e]
      end
  end }, ngt.lua { name = "keep", reads = { "pass" }, fn = function(ev, n)
      for i = 0, n - 1 do
        if ev.columns.pass[ev.sel[i]] > 0.5 then ev.pass[i] = 0 end
      end
  end } },
  ngt.chain "C" { ngt.cut "pass <= 0.5" },
  ngt.chain "S" { ngt.cut "abs(out - (pass + sel + error + columns)) < 1e-5" },
} }
"""


def reserved_names():
    """Columns named as the Lua step interface (pass, sel, error, columns) never shadow it."""
    with tempfile.TemporaryDirectory() as d:
        menu = os.path.join(d, "reserved.lua")
        open(menu, "w").write(RESERVED_MENU)
        r = report(d, menu, "--events", "5000")
        check_totals(r)
        chains = {c["name"]: c for c in r["chains"]}
        assert chains["L"]["passed"] == chains["C"]["passed"] > 0, chains
        assert chains["S"]["passed"] == 5000, chains["S"]
        assert r["events"]["errored"] == 0


SHARED_LUA_MENU = """local ngt = require "ngt"
local s = ngt.schema { met = "f32" }
local met2 = ngt.lua { name = "met2", reads = { "met" }, writes = { met2 = "f32" },
  fn = function(ev, n)
    for i = 0, n - 1 do local e = ev.sel[i]; ev.met2[e] = 2 * ev.met[e] end
  end }
local met3 = ngt.lua { name = "met3", reads = { "met" }, writes = { met3 = "f32" },
  fn = function(ev, n)
    for i = 0, n - 1 do local e = ev.sel[i]; ev.met3[e] = 3 * ev.met[e] end
  end }
return ngt.menu { schema = s, chains = {
  ngt.chain "A" { met2, ngt.cut "met2 > 60" },
  ngt.chain "B" { met2, ngt.cut "met2 > 120" },
  ngt.chain "RefA" { ngt.cut "met > 30" },
  ngt.chain "RefB" { ngt.cut "met > 60" },
  ngt.chain "OA" { ngt.offload(met3), ngt.cut "met3 > 90" },
  ngt.chain "OB" { ngt.offload(met3), ngt.cut "met3 > 180" },
} }
"""


def shared_lua_producer():
    """One ngt.lua producer in two chains is one shared step, run once per batch (as ngt.infer)."""
    with tempfile.TemporaryDirectory() as d:
        menu = os.path.join(d, "shared.lua")
        open(menu, "w").write(SHARED_LUA_MENU)
        r = report(d, menu, "--events", "5000", "--batch", "100", "--threads", "1")
        check_totals(r)
        ch = {c["name"]: c["passed"] for c in r["chains"]}
        assert ch["A"] == ch["RefA"] == ch["OA"] > 0 and ch["B"] == ch["RefB"] == ch["OB"] > 0, ch
        prod = [s for s in r["steps"] if s["name"] == "met2"]
        assert len(prod) == 1 and prod[0]["shared"] and prod[0]["calls"] == 50, r["steps"]
        assert r["run"]["lua_steps"] == 2


def options():
    """Options are checked before anything runs: numbers, values that are options, output paths;
    --output writes what it says (no input columns in all/ without --record, derived columns on
    request); help texts are truthful."""
    usage = [
        (["--input-rate", "abc"], "--input-rate expects a number > 0, got 'abc'"),
        (["--input-rate", "1e6x"], "--input-rate expects a number > 0, got '1e6x'"),
        (["--input-rate", "-5"], "--input-rate expects a number > 0, got '-5'"),
        (["--threads", "-1"], "--threads expects an integer >= 0, got '-1'"),
        (["--batch", "2.5"], "--batch expects an integer >= 1, got '2.5'"),
        (["--events", "nan"], "--events expects an integer >= 1, got 'nan'"),
        (["--input", "--quiet"], "option --input needs a value, got option --quiet"),
        (["--json", "--quiet"], "option --json needs a value, got option --quiet"),
        (["--record"], "--record and --output-columns need --output"),
    ]
    for extra, want in usage:
        err = ngt("run", DEMO, *extra, status=2).stderr
        assert want in err, (extra, err)
    assert "compile" in ngt("--help").stdout
    ins = ngt("inspect", DEMO).stdout
    assert "hashes: menu 0x" in ins and "model fad (ref) models/fad.onnx 0x" in ins, ins
    with tempfile.TemporaryDirectory() as d:
        # unwritable outputs fail at once (the run would take minutes), naming the path
        t0 = time.time()
        p = ngt("run", DEMO, "--events", "100000000", "--json", d + "/no/such/dir/r.json", status=1)
        assert "--json" in p.stderr and p.stdout == "", p.stderr
        open(d + "/file", "w").write("x")
        p = ngt("run", DEMO, "--events", "100000000", "--output", d + "/file/out", status=1)
        assert "--output" in p.stderr and d + "/file/out" in p.stderr and p.stdout == "", p.stderr
        assert time.time() - t0 < 30
        # 0 events: all/ has the decisions only (input columns need --record)
        ngt("run", DEMO, "--events", "300", "--quiet", "--output", d + "/o1")
        assert npy.read(d + "/o1/error/jet.n.npy")[1] == (0,)
        ngt("run", DEMO, "--input", d + "/o1/error", "--quiet", "--output", d + "/o2")
        assert sorted(f for f in os.listdir(d + "/o2/all") if not f.startswith("ngt.models.")) == \
            ["ngt.decision.npy", "ngt.status.npy", "ngt.streams.npy"]
        # derived columns when asked: model outputs and a Lua producer's column
        ngt("run", DEMO, "--events", "3000", "--quiet", "--output", d + "/o3", "--output-columns", "fad_out,mht")
        _, shape, fad = npy.read(d + "/o3/all/fad_out.npy")
        assert shape == (3000, 76), shape
        assert any(v != 0 for v in fad)
        n_express = npy.read(d + "/o3/express/event.npy")[1][0]
        assert npy.read(d + "/o3/express/fad_out.npy")[1] == (n_express, 76)
        assert npy.read(d + "/o3/physics/mht.npy")[0] == "<f4"
        err = ngt("run", DEMO, "--events", "10", "--output", d + "/o4", "--output-columns", "fad_in", status=1).stderr
        assert "'fad_in' is not a derived column" in err, err
        # a stream named "all" would share DIR/all
        menu = os.path.join(d, "all.lua")
        open(menu, "w").write(open(DEMO).read().replace("express = {", "all = {"))
        err = ngt("run", menu, "--events", "10", "--output", d + "/o5", status=1).stderr
        assert "stream named 'all'" in err, err


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


{"options": options, "shared_lua_producer": shared_lua_producer, "reserved_names": reserved_names, "bad_counts": bad_counts, "step_errors": step_errors, "install": install, "genc_menu": genc_menu, "help": help_, "demo_rates": demo_rates, "threads_batch": threads_batch, "roundtrip": roundtrip,
 "cuts_modes": cuts_modes,
 "infer": infer, "sigint": sigint}[CHECK]()
print("ok", CHECK)
