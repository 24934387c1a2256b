#!/usr/bin/env python3
"""check_gpu_cli.py NGT CHECK: the ngt command with the gpu backend, one CHECK per ctest
(tests/gpu/CMakeLists.txt). Without a CUDA device the backend runs through its CPU-grid emulation
(options "emulate=1"); loading it without the emulation must then fail clearly."""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import npy  # noqa: E402

NGT, CHECK = sys.argv[1], sys.argv[2]


def ngt(*args, status=0):
    p = subprocess.run([NGT, *args], capture_output=True, text=True)
    assert p.returncode == status, "ngt %s: status %d, wanted %d\n%s%s" % (
        " ".join(args), p.returncode, status, p.stdout, p.stderr)
    return p


def has_device():
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([NGT, "infer", "models/fad.onnx", "--backend", "gpu", "--input",
                            "models/fad.input.npy", "--output", d + "/o.npy"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            assert "CUDA" in p.stderr, p.stderr  # the clear error of a machine without one
            print("no CUDA device: %s" % p.stderr.strip())
        return p.returncode == 0


def report(d, menu, *args):
    out = os.path.join(d, "r.json")
    ngt("run", menu, "--quiet", "--json", out, *args)
    return json.load(open(out))


def menu():
    """The demo menu with fad on the gpu backend: fixed point decides as the hls backend at any
    threads/batch; float runs and every event is accounted for."""
    opts = "" if has_device() else "emulate=1"
    if not opts:
        print("a CUDA device is present: the menus run on it")
    with tempfile.TemporaryDirectory() as d:
        text = open("configs/l1_demo.lua").read()
        assert 'backend = "ref"' in text
        paths = {}
        for name, repl in (
                ("hls", 'backend = "hls", precision = "configs/fad_hls.json"'),
                ("gpu_fixed", 'backend = "gpu", options = "%s", precision = "configs/fad_hls.json"'
                 % opts),
                ("gpu_float", 'backend = "gpu", options = "%s"' % opts)):
            paths[name] = os.path.join(d, name + ".lua")
            open(paths[name], "w").write(text.replace('backend = "ref"', repl))
        h = report(d, paths["hls"], "--events", "5000", "--threads", "1", "--batch", "7")
        a = report(d, paths["gpu_fixed"], "--events", "5000", "--threads", "1", "--batch", "7")
        b = report(d, paths["gpu_fixed"], "--events", "5000", "--threads", "2", "--batch", "256")
        f = report(d, paths["gpu_float"], "--events", "5000", "--threads", "2")
    keys = ("seen", "passed", "prescaled", "errored", "unique")
    ch = [(x["name"],) + tuple(x[k] for k in keys) for x in h["chains"]]
    assert ch == [(x["name"],) + tuple(x[k] for k in keys) for x in a["chains"]], (ch, a["chains"])
    assert ch == [(x["name"],) + tuple(x[k] for k in keys) for x in b["chains"]]
    for r in (a, b, f):
        e = r["events"]
        assert e["in"] == 5000 and e["in"] == e["accepted"] + e["rejected"] + e["errored"], e
        assert e["errored"] == 0, e


def infer():
    """ngt infer --backend gpu: fixed point equals the hls backend's values bit for bit."""
    opts = [] if has_device() else ["--options", "emulate=1"]
    with tempfile.TemporaryDirectory() as d:
        for name in ("fad", "mdt"):
            common = ["--precision", "configs/%s_hls.json" % name, "--input",
                      "models/%s.input.npy" % name]
            ngt("infer", "models/%s.onnx" % name, "--backend", "hls", *common, "--output",
                d + "/h.npy")
            ngt("infer", "models/%s.onnx" % name, "--backend", "gpu", *opts, *common, "--output",
                d + "/g.npy")
            assert open(d + "/h.npy", "rb").read() == open(d + "/g.npy", "rb").read(), name
        err = ngt("infer", "models/fad.onnx", "--backend", "gpu", "--options", "gemm=nope",
                  "--input", "models/fad.input.npy", "--output", d + "/x.npy", status=1).stderr
        assert "gemm" in err, err


{"menu": menu, "infer": infer}[CHECK]()
