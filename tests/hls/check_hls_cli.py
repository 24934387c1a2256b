#!/usr/bin/env python3
"""check_hls_cli.py NGT CHECK: the ngt command with the hls backend (infer, a menu), one CHECK per
ctest (tests/hls/CMakeLists.txt)."""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import npy  # noqa: E402

NGT, CHECK = sys.argv[1], sys.argv[2]
DATA = "tests/hls/data/models"


def ngt(*args, status=0):
    p = subprocess.run([NGT, *args], capture_output=True, text=True)
    assert p.returncode == status, "ngt %s: status %d, wanted %d\n%s%s" % (
        " ".join(args), p.returncode, status, p.stdout, p.stderr)
    return p


def infer():
    """ngt infer --backend hls gives hls4ml's predict() values (as float32) for fad and mdt."""
    import struct
    with tempfile.TemporaryDirectory() as d:
        for name in ("fad", "mdt"):
            ngt("infer", "models/%s.onnx" % name, "--backend", "hls", "--precision",
                "configs/%s_hls.json" % name, "--input", "%s/%s/input.npy" % (DATA, name),
                "--output", d + "/out.npy")
            _, shape, got = npy.read(d + "/out.npy")
            _, wshape, want = npy.read("%s/%s/output.npy" % (DATA, name))
            assert shape == wshape, (shape, wshape)
            f32 = [struct.unpack("<f", struct.pack("<f", w))[0] for w in want]
            bad = sum(1 for a, b in zip(got, f32) if a != b)
            assert bad == 0, "%s: %d values differ from hls4ml" % (name, bad)
        # NgtOutput = "f64": the backend's outputs are float64 and ngt infer writes them as they
        # are, equal to predict() bit for bit (53-bit 'auto' Dense results float32 cannot hold);
        # without it, float32 as before
        w = DATA + "/wide_mlp"
        for extra, descr in ((', "NgtOutput": "f64"', "<f8"), ("", "<f4")):
            ngt("infer", w + "/model.onnx", "--backend", "hls", "--precision",
                '{"NgtBase": "%s/config.json"%s}' % (w, extra), "--input", w + "/input.npy",
                "--output", d + "/wide.npy")
            dt, shape, got = npy.read(d + "/wide.npy")
            _, wshape, want = npy.read(w + "/output.npy")
            assert dt == descr and shape == wshape, (dt, shape, wshape)
            if descr == "<f8":
                bad = sum(1 for a, b in zip(got, want) if struct.pack("<d", a) != struct.pack("<d", b))
                assert bad == 0, "wide_mlp: %d float64 values differ from hls4ml" % bad
            else:
                assert sum(1 for a, b in zip(got, want) if a != b) > 0  # float32 loses bits
        err = ngt("infer", "models/fad.onnx", "--backend", "hls", "--precision",
                  '{"Model": {"Precision": "fixed<16,6,AP_NOPE>"}}', "--input",
                  "models/fad.input.npy", "--output", d + "/x.npy", status=1).stderr
        assert "AP_NOPE" in err or "mode" in err, err


def report(d, menu, *args):
    out = os.path.join(d, "r.json")
    ngt("run", menu, "--quiet", "--json", out, *args)
    return json.load(open(out))


def menu():
    """The demo menu with fad on the hls backend (precision from configs/fad_hls.json, and as a
    table): runs, and decides alike at any threads/batch and for both spellings."""
    with tempfile.TemporaryDirectory() as d:
        text = open("configs/l1_demo.lua").read()
        assert 'backend = "ref"' in text
        m1, m2 = os.path.join(d, "hls1.lua"), os.path.join(d, "hls2.lua")
        open(m1, "w").write(text.replace(
            'backend = "ref"', 'backend = "hls", precision = "configs/fad_hls.json"'))
        open(m2, "w").write(text.replace(
            'backend = "ref"',
            'backend = "hls", precision = { Model = { Precision = { default = "fixed<16,6>", '
            'accum = "auto", result = "auto" } } }'))
        a = report(d, m1, "--events", "20000", "--threads", "1", "--batch", "7")
        b = report(d, m1, "--events", "20000", "--threads", "2", "--batch", "256")
        c = report(d, m2, "--events", "20000")
        # float64 model outputs when the menu asks (fad's outputs fit float32: same decisions)
        m3 = os.path.join(d, "hls3.lua")
        open(m3, "w").write(text.replace(
            'backend = "ref"', 'backend = "hls", precision = { NgtBase = "configs/fad_hls.json", '
            'NgtOutput = "f64" }'))
        e = report(d, m3, "--events", "20000")
        insp = ngt("inspect", m3).stdout
        assert "derived fad_out f64[76]" in insp, insp
        # a precision table goes to the backend as JSON (ngt/json.lua): strings with a tab, a
        # quote and a backslash arrive intact (Lua's %q wrote a tab as the invalid escape \9)
        odd = os.path.join(d, 'fad\t"hls\\cfg".json')
        open(odd, "w").write(open("configs/fad_hls.json").read())
        m4 = os.path.join(d, "hls4.lua")
        open(m4, "w").write(text.replace(
            'backend = "ref"', 'backend = "hls", precision = { NgtBase = [[%s]] }' % odd))
        ngt("inspect", m4)
    assert [x["passed"] for x in e["chains"]] == [x["passed"] for x in a["chains"]]
    keys = ("seen", "passed", "prescaled", "errored", "unique")
    ca = [(x["name"],) + tuple(x[k] for k in keys) for x in a["chains"]]
    assert ca == [(x["name"],) + tuple(x[k] for k in keys) for x in b["chains"]]
    assert ca == [(x["name"],) + tuple(x[k] for k in keys) for x in c["chains"]]
    assert a["events"]["in"] == 20000 and all(x[4] == 0 for x in ca), ca


def profile():
    """ngt hls profile: a readable table and JSON per layer; 0 overflows at fad's <16,6>, overflows
    counted for a config too narrow for fad's inputs (0..10) and fc1's sums, agreement with float."""
    with tempfile.TemporaryDirectory() as d:
        j = os.path.join(d, "p.json")
        out = ngt("hls", "profile", "models/fad.onnx", "--precision", "configs/fad_hls.json",
                  "--events", "256", "--threshold", "0.5", "--json", j).stdout
        assert "fc1" in out and "relu3" in out and "max |diff|" in out, out
        p = json.load(open(j))
        assert p["events"] == 256 and [x["name"] for x in p["layers"]][:3] == [
            "input", "fc1", "relu1"], p
        assert all(x["overflows"] == 0 for x in p["layers"]), p["layers"]
        assert p["layers"][0]["seen_max"] <= p["layers"][0]["type_max"]
        assert 0 < p["agreement"]["maxdiff"] < 0.05 and p["agreement"]["decision"] == 1, p
        narrow = '{"Model": {"Precision": "fixed<6,3>"}}'
        ngt("hls", "profile", "models/fad.onnx", "--precision", narrow, "--json", j)
        q = json.load(open(j))
        over = {x["name"]: x["overflows"] for x in q["layers"]}
        assert over["input"] > 0, over  # inputs up to 10 do not fit fixed<6,3> ([-4, 4))
        assert q["agreement"]["maxdiff"] > p["agreement"]["maxdiff"], q["agreement"]
        err = ngt("hls", "profile", "models/fad.onnx", "--precision", narrow, "--input",
                  "models/mdt.input.npy", status=1).stderr
        assert "77" in err, err
        ngt("hls", "profile", "models/fad.onnx", status=2)
        assert "--target" in ngt("hls", "--help").stdout


def tune():
    """ngt hls tune fad to maxdiff<=0.05: narrower than the default <16,6> (total bits and every
    width), and ngt infer with the tuned config meets the target against the ref backend."""
    with tempfile.TemporaryDirectory() as d:
        cfg, s = os.path.join(d, "tuned.json"), os.path.join(d, "s.json")
        out = ngt("hls", "tune", "models/fad.onnx", "--precision", "configs/fad_hls.json",
                  "--target", "maxdiff<=0.05", "-o", cfg, "--json", s).stdout
        assert "total bits" in out and "multipliers" in out, out
        t = json.load(open(cfg))
        summary = t["NgtTune"]
        assert summary == json.load(open(s)) and summary["maxdiff"] <= 0.05, summary
        assert summary["total_bits"] < summary["base_total_bits"], summary
        assert [m["layer"] for m in summary["multipliers"]] == ["fc1", "fc2", "fc3", "fc4"]
        widths = [int(v.split("<")[1].split(",")[0]) for l in t["LayerName"].values()
                  for k, v in l["Precision"].items() if k in ("weight", "result")]
        assert widths and max(widths) <= 32 and min(widths) < 16, widths
        x = "models/fad.input.npy"
        ngt("infer", "models/fad.onnx", "--backend", "hls", "--precision", cfg, "--input", x,
            "--output", os.path.join(d, "h.npy"))
        ngt("infer", "models/fad.onnx", "--input", x, "--output", os.path.join(d, "r.npy"))
        _, _, h = npy.read(os.path.join(d, "h.npy"))
        _, _, r = npy.read(os.path.join(d, "r.npy"))
        diff = max(abs(a - b) for a, b in zip(h, r))
        assert len(h) == summary["events"] * 76 and diff <= 0.05, diff
        err = ngt("hls", "tune", "models/fad.onnx", "--precision", "configs/fad_hls.json",
                  "--target", "maxdiff<=0", "--events", "64", "-o", cfg, status=1).stderr
        assert "not met" in err, err
        ngt("hls", "tune", "models/fad.onnx", "--precision", "configs/fad_hls.json", "--target",
            "speed>=3", status=2)
        # tune reads the configuration with the backend's own reader: a .lua file is a literal
        # (never executed: a call in it is refused), NgtBase is followed, so the rounding modes
        # of the base's default (RND,SAT) are the ones tune keeps
        base, lua = os.path.join(d, "base.json"), os.path.join(d, "cfg.lua")
        b = json.load(open("configs/fad_hls.json"))
        b["Model"]["Precision"]["default"] = "fixed<16,6,RND,SAT>"
        json.dump(b, open(base, "w"))
        open(lua, "w").write('-- extends base.json\nreturn { NgtBase = "%s" }\n' % base)
        ngt("hls", "tune", "models/fad.onnx", "--precision", lua, "--target", "maxdiff<=0.1",
            "--events", "64", "-o", cfg)
        types = [v for l in json.load(open(cfg))["LayerName"].values()
                 for k, v in l.get("Precision", {}).items() if k in ("weight", "result")]
        assert types and all(v.endswith(",RND,SAT>") for v in types), types
        open(lua, "w").write('return { Model = { Precision = { default = string.format('
                             '"fixed<%d,6>", 16) } } }\n')
        err = ngt("hls", "tune", "models/fad.onnx", "--precision", lua, "--target",
                  "maxdiff<=0.1", "--events", "64", "-o", cfg, status=1).stderr
        assert "precision configuration" in err and "line 1" in err, err


{"infer": infer, "menu": menu, "profile": profile, "tune": tune}[CHECK]()
