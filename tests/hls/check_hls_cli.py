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
                "configs/%s_hls.lua" % name, "--input", "%s/%s/input.npy" % (DATA, name),
                "--output", d + "/out.npy")
            _, shape, got = npy.read(d + "/out.npy")
            _, wshape, want = npy.read("%s/%s/output.npy" % (DATA, name))
            assert shape == wshape, (shape, wshape)
            f32 = [struct.unpack("<f", struct.pack("<f", w))[0] for w in want]
            bad = sum(1 for a, b in zip(got, f32) if a != b)
            assert bad == 0, "%s: %d values differ from hls4ml" % (name, bad)
        err = ngt("infer", "models/fad.onnx", "--backend", "hls", "--precision",
                  '{"Model": {"Precision": "fixed<16,6,AP_NOPE>"}}', "--input",
                  "models/fad.input.npy", "--output", d + "/x.npy", status=1).stderr
        assert "AP_NOPE" in err or "mode" in err, err


def report(d, menu, *args):
    out = os.path.join(d, "r.json")
    ngt("run", menu, "--quiet", "--json", out, *args)
    return json.load(open(out))


def menu():
    """The demo menu with fad on the hls backend (precision from configs/fad_hls.lua, and as a
    table): runs, and decides alike at any threads/batch and for both spellings."""
    with tempfile.TemporaryDirectory() as d:
        text = open("configs/l1_demo.lua").read()
        assert 'backend = "ref"' in text
        m1, m2 = os.path.join(d, "hls1.lua"), os.path.join(d, "hls2.lua")
        open(m1, "w").write(text.replace(
            'backend = "ref"', 'backend = "hls", precision = "configs/fad_hls.lua"'))
        open(m2, "w").write(text.replace(
            'backend = "ref"',
            'backend = "hls", precision = { Model = { Precision = { default = "fixed<16,6>" } } }'))
        a = report(d, m1, "--events", "20000", "--threads", "1", "--batch", "7")
        b = report(d, m1, "--events", "20000", "--threads", "2", "--batch", "256")
        c = report(d, m2, "--events", "20000")
    keys = ("seen", "passed", "prescaled", "errored", "unique")
    ca = [(x["name"],) + tuple(x[k] for k in keys) for x in a["chains"]]
    assert ca == [(x["name"],) + tuple(x[k] for k in keys) for x in b["chains"]]
    assert ca == [(x["name"],) + tuple(x[k] for k in keys) for x in c["chains"]]
    assert a["events"]["in"] == 20000 and all(x[4] == 0 for x in ca), ca


{"infer": infer, "menu": menu}[CHECK]()
