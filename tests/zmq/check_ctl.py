#!/usr/bin/env python3
"""check_ctl.py NGT CHECK: the node's control (docs/control.md) with real processes: `ngt run`
with a control socket on ipc:// (or tcp on loopback), driven by `ngt ctl`. One CHECK per ctest.
Each check starts its own node in its own temporary directory and stops it itself."""
import json, os, re, struct, subprocess, sys, tempfile, time, urllib.request

import numpy as np
import onnx
from onnx import TensorProto, helper

NGT, CHECK = os.path.abspath(sys.argv[1]), sys.argv[2]
TMP = tempfile.mkdtemp(prefix="ngt_zmq_")

# ---- models and menus --------------------------------------------------------------------------


def gemm_model(path, w, b, n_in=8, op_extra=None):
    """y[1] = x[n_in] @ w + b (optionally through an extra operator)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])
    inits = [helper.make_tensor("w", TensorProto.FLOAT, [n_in, 1], np.asarray(w, np.float32).ravel()),
             helper.make_tensor("b", TensorProto.FLOAT, [1], np.asarray([b], np.float32))]
    if op_extra:
        nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["g"]), helper.make_node(op_extra, ["g"], ["y"])]
    else:
        nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"])]
    g = helper.make_graph(nodes, "m", [x], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


rng = np.random.default_rng(7)
W_A, W_B = rng.normal(size=8), rng.normal(size=8)
MODEL_A = gemm_model(os.path.join(TMP, "a.onnx"), W_A, -0.3 * W_A.sum())
MODEL_B = gemm_model(os.path.join(TMP, "b.onnx"), W_B, -0.3 * W_B.sum())
MODEL_WIDE = gemm_model(os.path.join(TMP, "wide.onnx"), rng.normal(size=9), 0.0, n_in=9)
MODEL_ODD = gemm_model(os.path.join(TMP, "odd.onnx"), W_A, 0.0, op_extra="Erf")  # genc: no Erf

MENU = """
local ngt = require "ngt"
local ev = ngt.schema {{ x = "f32[8]" }}
local m = ngt.model {{ name = "m", file = "{model}", backend = "ref" }}
-- slows each batch down so that a run lasts while the test works on it (a sleep, not a spin)
local throttle = ngt.lua {{ name = "throttle", fn = function(ev, n)
   local ffi = require "ffi"
   if not pcall(ffi.typeof, "struct ngt_throttle_ts") then
      ffi.cdef "struct ngt_throttle_ts {{ long s, ns; }}; int nanosleep(const struct ngt_throttle_ts *, void *);"
   end
   ffi.C.nanosleep(ffi.new("struct ngt_throttle_ts", 0, {sleep_ns}), nil)
end }}
return ngt.menu {{ schema = ev, chains = {{
   ngt.chain "Pace" {{ throttle, ngt.cut "x[0] > 2" }},
   ngt.chain "{chain}" {{ ngt.infer(m, "x", "y"), ngt.cut "y[0] > 0" }},
   ngt.chain "Minbias" {{ ngt.prescale(10) }},
}}, streams = {{ main = {{ "{chain}" }}, minbias = {{ "Minbias" }} }},
   prescale_columns = {{ low = {{ Minbias = 2 }} }} }}
"""


def menu(name, model=MODEL_A, chain="Sel", sleep_ns=2000000, schema=None):
    path = os.path.join(TMP, name)
    text = MENU.format(model=model, chain=chain, sleep_ns=sleep_ns)
    if schema:
        text = text.replace('x = "f32[8]"', schema)
    open(path, "w").write(text)
    return path


def file_hash(path):
    """FNV-1a 64 of a file, as the registry computes it."""
    h = 0xcbf29ce484222325
    for byte in open(path, "rb").read():
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


# ---- processes ---------------------------------------------------------------------------------


def ngt(*args, status=0, timeout=120):
    p = subprocess.run([NGT, *args], capture_output=True, text=True, timeout=timeout)
    assert status is None or p.returncode == status, "ngt %s: status %d, wanted %d\n%s%s" % (
        " ".join(args), p.returncode, status, p.stdout, p.stderr)
    return p


def ctl(ep, *args, ok=True, extra=()):
    p = ngt("ctl", ep, *args, *extra, status=None)
    reply = json.loads(p.stdout) if p.stdout.strip() else {"ok": False, "error": p.stderr}
    if ok is not None:
        assert reply.get("ok") == ok and p.returncode == (0 if ok else 1), (args, reply, p.stderr)
    return reply


class Node:
    """`ngt run MENU --control EP ...` in the background; stop() drains it and returns the report."""

    def __init__(self, menu_path, *args, control=None, events=10**9):
        self.ep = control or "ipc://" + os.path.join(TMP, "ctl-%d" % time.monotonic_ns())
        self.json = os.path.join(TMP, "report-%d.json" % time.monotonic_ns())
        cmd = [NGT, "run", menu_path, "--events", str(events), "--threads", "2", "--batch", "64",
               "--quiet", "--json", self.json, "--control", self.ep, *args]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(500):
            if self.p.poll() is not None:
                raise AssertionError("node ended at start: %s" % self.p.stderr.read())
            p = subprocess.run([NGT, "ctl", self.ep, "status", "--timeout", "200"], capture_output=True, text=True)
            if p.returncode == 0:
                break
        else:
            raise AssertionError("node never answered")

    def stats(self):
        return ctl(self.ep, "stats")

    def wait_events(self, n):
        for _ in range(3000):
            if self.stats()["node"]["in"] >= n:
                return
            time.sleep(0.01)
        raise AssertionError("node stuck below %d events" % n)

    def stop(self, how="drain"):
        ctl(self.ep, how)
        out, err = self.p.communicate(timeout=120)
        assert self.p.returncode == 0, (self.p.returncode, err)
        return json.load(open(self.json))

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def check_totals(r):
    ev = r["events"]
    assert ev["in"] == ev["accepted"] + ev["rejected"] + ev["errored"], ev
    assert ev["errored"] == 0, ev


def free_port():
    """A TCP port on loopback nobody listens on now (the kernel's choice)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- checks ------------------------------------------------------------------------------------


def swaps():
    """100 swaps between two versions under continuous load: nothing lost, and every event was
    decided by the version its provenance names (its decision equals that version's offline)."""
    live = os.path.join(TMP, "live")
    node = Node(menu("swap.lua"), "--output", live)
    try:
        node.wait_events(2000)
        last_in = 0
        for i in range(100):
            model = MODEL_B if i % 2 == 0 else MODEL_A
            r = ctl(node.ep, "swap", "m", model, "--wait")
            assert r["jobs"][0]["serial"] == i + 2, r
            if i % 10 == 9:  # still serving while swapping
                now = node.stats()["node"]["in"]
                assert now > last_in, (i, now, last_in)
                last_in = now
        s = node.stats()
        assert s["models"][0]["serial"] == 101 and s["models"][0]["file"] == MODEL_A, s["models"]
        rep = node.stop()
    finally:
        node.kill()
    check_totals(rep)
    n = rep["events"]["in"]
    dec = np.load(os.path.join(live, "all", "ngt.decision.npy"))
    models = np.load(os.path.join(live, "all", "ngt.models.npy"))
    assert dec.shape[0] == n and models.shape == (n, 1), (dec.shape, models.shape, n)
    assert open(os.path.join(live, "all", "ngt.models.txt")).read().split() == ["m"]
    ha, hb = file_hash(MODEL_A), file_hash(MODEL_B)
    used = models[:, 0]
    assert set(np.unique(used).tolist()) <= {ha, hb}, np.unique(used)
    assert (used == ha).sum() > 0 and (used == hb).sum() > 0
    switches = int((used[1:] != used[:-1]).sum())
    assert switches >= 10, switches  # batches in flight may span several swaps
    # offline: the same events through each version alone
    offline = {}
    for h, model in ((ha, MODEL_A), (hb, MODEL_B)):
        out = os.path.join(TMP, "off-%x" % h)
        ngt("run", menu("off-%x.lua" % h, model=model, sleep_ns=0), "--events", str(n), "--threads", "2",
            "--batch", "256", "--quiet", "--output", out)
        offline[h] = np.load(os.path.join(out, "all", "ngt.decision.npy"))
        assert offline[h].shape == dec.shape
    sel_bit = np.uint64(1 << 1)  # chain 1 is "Sel"
    a, b = (offline[ha] & sel_bit) != 0, (offline[hb] & sel_bit) != 0
    assert (a != b).sum() > n // 20, "the two versions must disagree often for the check to bite"
    want = np.where(used == ha, offline[ha][:, 0], offline[hb][:, 0])
    bad = np.nonzero(dec[:, 0] != want)[0]
    assert bad.size == 0, "%d events decided otherwise than their version, first %s" % (bad.size, bad[:5])
    print("swaps: %d events, %d version changes in the output, 100 swaps" % (n, switches))


def bad_swaps():
    """Missing file, wrong shapes, genc compile error, validation mismatch, unknown model, garbage:
    each refused with a reason, the old version kept, the node serving throughout."""
    ref_in = os.path.join(TMP, "val_in.npy")
    ref_out = os.path.join(TMP, "val_out.npy")
    x = rng.uniform(size=(32, 8)).astype(np.float32)
    np.save(ref_in, x)
    ngt("infer", MODEL_A, "--input", ref_in, "--output", ref_out)
    garbage = os.path.join(TMP, "garbage.onnx")
    open(garbage, "wb").write(b"\x08\x07garbage" * 10)
    node = Node(menu("bad.lua"))
    try:
        node.wait_events(1000)
        h0 = node.stats()["models"][0]["hash"]
        cases = [
            (("swap", "m", os.path.join(TMP, "missing.onnx")), "cannot open"),
            (("swap", "m", MODEL_WIDE), "input 0 is f32[9], the current version's f32[8]"),
            (("swap", "m", MODEL_ODD, "--backend", "genc"), "Erf"),
            (("swap", "m", garbage), "garbage.onnx"),
            (("swap", "m", MODEL_B, "--inputs", ref_in, "--outputs", ref_out), "validation: output 0"),
            (("swap", "m", MODEL_B, "--backend", "nosuch"), "unknown backend"),
        ]
        seen = node.stats()["node"]["in"]
        for args, why in cases:
            r = ctl(node.ep, *args, "--wait", ok=False)
            msg = r["jobs"][0]["message"]
            assert r["jobs"][0]["state"] == "failed" and why in msg and "kept the current version" in msg, (args, msg)
            s = node.stats()
            assert s["models"][0]["hash"] == h0 and s["models"][0]["serial"] == 1, s["models"]
        r = ctl(node.ep, "swap", "nosuch", MODEL_B, ok=False)
        assert "unknown model" in r["error"], r
        # the same reference check passes for the version it was made from
        r = ctl(node.ep, "swap", "m", MODEL_A, "--inputs", ref_in, "--outputs", ref_out, "--wait")
        assert node.stats()["models"][0]["serial"] == 2
        assert node.stats()["node"]["in"] > seen
        rep = node.stop()
    finally:
        node.kill()
    check_totals(rep)


def reload():
    """Reloads under load: good ones switch menus between batches, bad ones (syntax error,
    unknown file, changed input schema) keep the running menu; totals add up per menu and for
    the node, and every submitted event is counted once."""
    events = 300000
    m1 = menu("r1.lua", chain="First", sleep_ns=5000000)
    m2 = menu("r2.lua", model=MODEL_B, chain="Second", sleep_ns=5000000)
    broken = os.path.join(TMP, "broken.lua")
    open(broken, "w").write("return ngt.menu {")
    other_schema = menu("r3.lua", schema='x = "f32[8]", z = "f32"')
    node = Node(m1, events=events)
    try:
        node.wait_events(5000)
        chain, running = "First", m1
        for path, ok, why, new_chain in ((m2, True, None, "Second"), (broken, False, "broken.lua", None),
                                         (os.path.join(TMP, "none.lua"), False, "none.lua", None),
                                         (other_schema, False, "input schema id changes", None),
                                         (m1, True, None, "First")):
            r = ctl(node.ep, "reload", path, "--wait", ok=ok)
            j = r["jobs"][0]
            if ok:
                chain, running = new_chain, path
            else:
                assert why in j["message"], j
            s = node.stats()
            assert s["menu"]["path"] == running and s["chains"][1]["name"] == chain, (s["menu"], s["chains"])
            node.wait_events(s["node"]["in"] + 1000)
        s = node.stats()
        assert s["reloads"] == 2, s["reloads"]
        n = s["node"]
        assert n["in"] == n["accepted"] + n["rejected"] + n["errored"], n
        out, err = node.p.communicate(timeout=300)  # runs to its end
        assert node.p.returncode == 0, err
        rep = json.load(open(node.json))
    finally:
        node.kill()
    check_totals(rep)
    node_totals = rep["node"]["totals"]
    assert node_totals["in"] == events, node_totals
    assert node_totals["in"] == node_totals["accepted"] + node_totals["rejected"] + node_totals["errored"]
    assert len(rep["node"]["menus"]) == 3 and rep["node"]["reloads"] == 2
    for k in ("in", "accepted", "rejected", "errored"):
        assert sum(m[k] for m in rep["node"]["menus"]) == node_totals[k], k
    assert all(m["in"] > 0 for m in rep["node"]["menus"]), rep["node"]["menus"]


def commands():
    """Every command once: stats, status, prescale, column, pause/resume, shadow, promote,
    unshadow, bad requests; metrics over HTTP; ngt top; stop ends the node with a report."""
    port = free_port()
    node = Node(menu("cmd.lua"), "--metrics", "127.0.0.1:%d" % port)
    try:
        node.wait_events(2000)
        s = node.stats()
        for k in ("state", "node", "menu", "chains", "streams", "steps", "models"):
            assert k in s, k
        assert [c["name"] for c in s["chains"]] == ["Pace", "Sel", "Minbias"]
        assert s["chains"][2]["prescale"] == 10
        assert ctl(node.ep, "status")["state"] == "running"
        # prescale: one chain, then a column (which clears the override)
        ctl(node.ep, "prescale", "Minbias", "0")
        assert node.stats()["chains"][2]["prescale"] == 0
        before = node.stats()["chains"][2]["passed"]
        time.sleep(0.3)
        after = node.stats()["chains"][2]["passed"]
        assert after - before < 200, (before, after)  # only batches in flight still at 1/10
        assert "no prescale step" in ctl(node.ep, "prescale", "Sel", "3", ok=False)["error"]
        assert "unknown chain" in ctl(node.ep, "prescale", "Nope", "3", ok=False)["error"]
        ctl(node.ep, "column", "low")
        for _ in range(100):
            if node.stats()["menu"]["column"] == "low":
                break
            time.sleep(0.01)
        s = node.stats()
        assert s["menu"]["column"] == "low" and s["chains"][2]["prescale"] == 2, s["chains"]
        assert "unknown prescale column" in ctl(node.ep, "column", "nope", ok=False)["error"]
        # pause: no input taken; resume: again
        assert ctl(node.ep, "pause")["state"] == "paused"
        time.sleep(0.2)
        a = node.stats()["node"]["in"]
        time.sleep(0.3)
        b = node.stats()["node"]["in"]
        assert a == b, (a, b)
        ctl(node.ep, "resume")
        node.wait_events(b + 1000)
        # shadow: the live file agrees with itself exactly; another version does not
        ctl(node.ep, "shadow", "m", MODEL_A, "--wait")
        node.wait_events(node.stats()["node"]["in"] + 2000)
        sh = node.stats()["models"][0]["shadow"]
        assert sh["events"] > 0 and sh["identical"] == sh["events"] and sh["max_abs_diff"] == 0, sh
        ctl(node.ep, "shadow", "m", MODEL_B, "--wait")
        node.wait_events(node.stats()["node"]["in"] + 2000)
        sh = node.stats()["models"][0]["shadow"]
        assert sh["events"] > 0 and sh["identical"] < sh["events"] and sh["max_abs_diff"] > 0, sh
        assert sh["hash"] == "%016x" % file_hash(MODEL_B)
        r = ctl(node.ep, "promote", "m")
        assert r["serial"] == 2
        m = node.stats()["models"][0]
        assert m["hash"] == "%016x" % file_hash(MODEL_B) and "shadow" not in m, m
        assert "no shadow" in ctl(node.ep, "promote", "m", ok=False)["error"]
        ctl(node.ep, "shadow", "m", MODEL_A, "--wait")
        ctl(node.ep, "shadow", "m", "--clear")
        assert "shadow" not in node.stats()["models"][0]
        # bad requests answer with a reason and change nothing
        for text, why in (("not json", "bad request"), ('{"cmd":"fly"}', "unknown command"),
                          ('{"nocmd":1}', "no \\\"cmd\\\""), ('{"cmd":"prescale","chain":"Minbias","value":-1}', "value")):
            p = subprocess.run([sys.executable, "-c", RAW, node.ep, text], capture_output=True, text=True)
            if p.returncode == 2:
                break  # no pyzmq: ngt ctl's own checks stand in
            reply = json.loads(p.stdout)
            assert reply["ok"] is False and why in p.stdout, (text, p.stdout)
        # metrics
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
        assert 'ngt_events_total{outcome="in"}' in body and 'ngt_chain_prescale{chain="Minbias"} 2' in body, body[:500]
        assert 'ngt_model_version{model="m",hash="%016x"} 2' % file_hash(MODEL_B) in body
        top = ngt("top", node.ep, "--count", "2", "--interval", "0.2").stdout
        assert "Minbias" in top and "main" in top and "infer:m" in top, top
        rep = node.stop("stop")
    finally:
        node.kill()
    check_totals(rep)


RAW = """
import sys
try:
    import zmq
except ImportError:
    sys.exit(2)
s = zmq.Context().socket(zmq.REQ)
s.connect(sys.argv[1])
s.send(sys.argv[2].encode())
print(s.recv().decode())
"""


def curve():
    """CURVE on the control socket: an allowed client key is served, an unknown one refused,
    plain text refused; tcp off loopback refused unless asked for."""
    keys = [ngt("ctl", "keygen").stdout.split() for _ in range(3)]
    (spub, ssec), (apub, asec), (upub, usec) = keys
    for _ in range(200):  # '#' is a Z85 character: the allowed key holds one (a comment once cut it)
        if "#" in apub[1:]:
            break
        apub, asec = ngt("ctl", "keygen").stdout.split()
    assert "#" in apub[1:], apub
    port = free_port()
    ep = "tcp://127.0.0.1:%d" % port
    allow = os.path.join(TMP, "allow.txt")
    open(allow, "w").write("# clients\n%s\n" % apub)
    # not Node(): its plain-text probe would be refused
    js = os.path.join(TMP, "curve.json")
    p = subprocess.Popen([NGT, "run", menu("curve.lua"), "--events", "1000000000", "--quiet", "--json", js,
                          "--control", ep, "--curve-secret", ssec, "--curve-allow", "@" + allow],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        good = ("--server-key", spub, "--secret-key", asec)
        for _ in range(30):
            if p.poll() is not None:
                raise AssertionError("node ended: %s" % p.stderr.read())
            q = subprocess.run([NGT, "ctl", ep, "status", "--timeout", "2000", *good], capture_output=True, text=True)
            if q.returncode == 0:
                break
        else:
            raise AssertionError("allowed key not served: %s" % q.stderr)
        assert ctl(ep, "stats", extra=good)["node"]["in"] >= 0
        r = ngt("ctl", ep, "status", "--timeout", "1000", "--server-key", spub, "--secret-key", usec, status=1)
        assert "no reply" in r.stderr, r.stderr
        r = ngt("ctl", ep, "status", "--timeout", "1000", status=1)
        assert "no reply" in r.stderr, r.stderr
        ctl(ep, "stop", extra=good)
        p.communicate(timeout=60)
        assert p.returncode == 0
        check_totals(json.load(open(js)))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    r = ngt("run", menu("lb.lua"), "--events", "10", "--control", "tcp://0.0.0.0:%d" % free_port(), status=1)
    assert "not on loopback" in r.stderr, r.stderr
    r = ngt("run", menu("lb.lua"), "--events", "10", "--metrics", "0.0.0.0:%d" % free_port(), status=1)
    assert "not on loopback" in r.stderr, r.stderr
    r = ngt("run", menu("lb.lua"), "--events", "10", "--control", ep, "--curve-secret", ssec, status=1)
    assert "allow-list" in r.stderr, r.stderr


LUA_API = """
local ngt = require "ngt"
local control = require "ngt.control"
local menu = assert(ngt.load(arg[1]))
assert(control.serial(menu, "m") == 1)
local ok, err = control.swap(menu, "m", arg[3])
assert(ok == nil and err:find("input 0 is f32%[9%]"), err)
assert(control.serial(menu, "m") == 1)
assert(control.swap(menu, "m", arg[2]) == 2)
assert(control.shadow(menu, "m", arg[2]))
assert(control.shadow_stats(menu, "m").active)
assert(control.promote(menu, "m") == 3)
assert(not control.shadow_stats(menu, "m").active)
menu:close()
print("lua api ok")
"""


def lua_api():
    """The same swap, shadow and promote from Lua (a plain luajit with libngt)."""
    path = os.path.join(TMP, "plain.lua")
    text = MENU.split("-- slows")[0] + """return ngt.menu {{ schema = ev, chains = {{
   ngt.chain "Sel" {{ ngt.infer(m, "x", "y"), ngt.cut "y[0] > 0" }} }} }}
"""
    open(path, "w").write(text.format(model=MODEL_A))  # no Lua step: plain luajit has none
    script = os.path.join(TMP, "api.lua")
    open(script, "w").write(LUA_API)
    build = os.path.dirname(NGT)
    env = dict(os.environ, NGT_LIB=os.path.join(build, "libngt.so"), NGT_HEADER=os.path.join(build, "include", "ngt.h"),
               LUA_PATH="lua/?.lua;lua/?/init.lua;;")
    p = subprocess.run(["luajit", script, path, MODEL_B, MODEL_WIDE], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "lua api ok" in p.stdout, p.stdout + p.stderr
    # the control endpoint named by the menu script itself
    ep = "ipc://" + os.path.join(TMP, "script-ctl")
    scripted = os.path.join(TMP, "scripted.lua")
    open(scripted, "w").write(open(menu("s.lua")).read().replace(
        "prescale_columns =", 'control = {{ endpoint = "{}" }}, prescale_columns ='.format(ep).replace("{{", "{").replace("}}", "}")))
    node = subprocess.Popen([NGT, "run", scripted, "--events", "1000000000", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            q = subprocess.run([NGT, "ctl", ep, "stats", "--timeout", "200"], capture_output=True, text=True)
            if q.returncode == 0:
                break
        assert json.loads(q.stdout)["menu"]["path"] == scripted, q.stdout + q.stderr
        ctl(ep, "stop")
        node.communicate(timeout=60)
        assert node.returncode == 0
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()


ZMENU = """
local ngt = require "ngt"
local ev = ngt.schema {{ {schema} }}
local m = ngt.model {{ name = "m", file = "{model}", backend = "ref" }}
return ngt.menu {{ schema = ev, chains = {{
   ngt.chain "{chain}" {{ ngt.infer(m, "x", "y"), ngt.cut "y[0] > 0" }},
   ngt.chain "Minbias" {{ ngt.prescale(10) }},
}}, streams = {{ main = {{ "{chain}" }}, {other} = {{ "Minbias" }} }},
   sinks = {{ ngt.sink.zmq {{ stream = "main", endpoint = "{ep_main}" }},
             ngt.sink.zmq {{ stream = "{other}", endpoint = "{ep_other}" }} }} }}
"""


class Collector:
    """A PULL socket in a thread: every output message's event ids, x rows and menu hash, and
    the end-of-stream messages."""

    def __init__(self, ep):
        import threading
        import zmq
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.PULL)
        self.sock.connect(ep)
        self.ids, self.xs, self.menus, self.ends, self.stop = [], [], [], 0, False
        self.t = threading.Thread(target=self.loop)
        self.t.start()

    def loop(self):
        import zmq
        while not self.stop:
            if not self.sock.poll(50):
                continue
            f = self.sock.recv_multipart()
            flags, n = struct.unpack_from("<I", f[0], 8)[0], struct.unpack_from("<I", f[0], 40)[0]
            if flags & 1:
                self.ends += 1
            if n:
                hash_ = struct.unpack_from("<Q", f[-1], 0)[0]
                self.xs.append(np.frombuffer(f[1], np.float32).reshape(n, 8))
                self.ids.append(np.frombuffer(f[-5], np.uint64))  # ids, decision, streams, status, provenance
                self.menus.append(np.full(n, hash_, np.uint64))
        self.sock.close(0)
        self.ctx.term()

    def close(self):
        self.stop = True
        self.t.join()
        cat = lambda a, t: np.concatenate(a) if a else np.zeros(0, t)
        return cat(self.ids, np.uint64), cat(self.xs, np.float32), cat(self.menus, np.uint64)


def reload_zmq():
    """Reloads on a node fed over ZeroMQ, under load: the source pauses between messages, the old
    menu's batches finish and are sent, then the new menu decides. A stream the new menu drops
    ends its sink (end of stream), one it adds opens; a bad reload keeps the menu; a new input
    schema is taken and messages of the old one are refused and counted. Every event is counted
    once, and the main stream holds exactly the events each menu accepted, in contiguous runs.
    Pause and resume hold and release the ZeroMQ source."""
    import threading
    import zmq
    eps = {k: "ipc://" + os.path.join(TMP, "rz-%s" % k) for k in ("in", "main", "mb", "extra")}

    def zmenu(name, model, chain, other, schema='x = "f32[8]"'):
        path = os.path.join(TMP, name)
        open(path, "w").write(ZMENU.format(schema=schema, model=model, chain=chain, other=other,
                                           ep_main=eps["main"], ep_other=eps["mb" if other == "minbias" else "extra"]))
        return path

    z1 = zmenu("z1.lua", MODEL_A, "Sel", "minbias")
    z2 = zmenu("z2.lua", MODEL_B, "Second", "extra")
    z3 = zmenu("z3.lua", MODEL_A, "Sel", "minbias", schema='x = "f32[8]", z = "f32"')
    broken = os.path.join(TMP, "zbroken.lua")
    open(broken, "w").write("return ngt.menu {")
    sys.path.insert(0, os.path.join(os.getcwd(), "examples"))
    import send_events

    def layout(path):
        text = ngt("inspect", path).stdout
        sid, cols, _ = send_events.schema(text)
        mhash = int(re.search(r"hashes: menu 0x([0-9a-f]+)", text).group(1), 16)
        return sid, [c[0] for c in cols], mhash

    (sid_a, cols_a, h1), (_, _, h2), (sid_b, cols_b, h3) = layout(z1), layout(z2), layout(z3)
    assert cols_a == ["x"] and cols_b == ["x", "z"], (cols_a, cols_b)
    node = Node(z1, "--source", eps["in"], "--stop-at-end")
    coll = {k: Collector(eps[k]) for k in ("main", "mb", "extra")}
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.connect(eps["in"])
    xs_a, xs_b = [], []
    sent = {"a": 0}
    stop_a = threading.Event()

    def send(sid, source, first, x, extra=(), flags=0):
        frames = [x.tobytes(), *[e.tobytes() for e in extra]]
        push.send_multipart([send_events.header(sid, len(x), first, 1 + len(frames), b"", source=source,
                                                epoch=1, flags=flags), *frames])

    def sender_a():
        while not stop_a.is_set():
            x = rng.normal(size=(50, 8)).astype(np.float32)
            send(sid_a, 0, sent["a"], x)
            xs_a.append(x)
            sent["a"] += 50
            time.sleep(0.002)

    t = threading.Thread(target=sender_a)
    t.start()
    try:
        node.wait_events(2000)
        for path, ok, why in ((z2, True, None), (broken, False, "zbroken.lua"), (z1, True, None)):
            r = ctl(node.ep, "reload", path, "--wait", ok=ok)
            if not ok:
                assert why in r["jobs"][0]["message"], r
            node.wait_events(node.stats()["node"]["in"] + 2000)
        # pause holds the ZeroMQ source (input waits in ZeroMQ's queue), resume lets it go on
        ctl(node.ep, "pause")
        held, last, same = None, node.stats()["node"]["in"], 0
        for _ in range(200):  # batches already submitted finish; then nothing more comes in
            time.sleep(0.1)
            now = node.stats()["node"]["in"]
            same = same + 1 if now == last else 0
            if same == 3:
                held = now
                break
            last = now
        assert held is not None, "a paused ZeroMQ node kept taking events"
        time.sleep(0.5)  # the sender goes on meanwhile
        s = node.stats()
        assert s["node"]["in"] == held and s["state"] == "paused", (held, s["node"], s["state"])
        ctl(node.ep, "resume")
        node.wait_events(held + 1000)
        stop_a.set()
        t.join()
        node.wait_events(sent["a"])
        r = ctl(node.ep, "reload", z3, "--wait")
        # the old schema is refused from now on; the new one is taken
        for i in range(3):
            send(sid_a, 0, sent["a"] + 50 * i, rng.normal(size=(50, 8)).astype(np.float32))
        n_b = 0
        for i in range(40):
            x = rng.normal(size=(25, 8)).astype(np.float32)
            z = rng.normal(size=25).astype(np.float32)
            send(sid_b, 1, n_b, x, (z,), flags=1 if i == 39 else 0)
            xs_b.append(x)
            n_b += 25
        out, err = node.p.communicate(timeout=120)  # ends at the end of stream
        assert node.p.returncode == 0, err
        rep = json.load(open(node.json))
    finally:
        stop_a.set()
        node.kill()
        got = {k: c.close() for k, c in coll.items()}
        push.close(0)
        ctx.term()
    check_totals(rep)
    tot = rep["node"]["totals"]
    assert tot["in"] == sent["a"] + n_b, (tot, sent, n_b)
    assert rep["node"]["reloads"] == 3 and len(rep["node"]["menus"]) == 4, rep["node"]
    for k in ("in", "accepted", "rejected", "errored"):
        assert sum(m[k] for m in rep["node"]["menus"]) == tot[k], k
    src = rep["source"]
    assert src["refused_by"]["schema"] == 3 and src["refused_messages"] == 3, src  # counted as messages: a refused header is not trusted for its count
    assert "schema id" in src["first_error"], src["first_error"]
    assert src["sent_events"] == sum(len(g[0]) for g in got.values()), (src, {k: len(g[0]) for k, g in got.items()})
    # minbias ended when z2 dropped it, then again at the end; extra opened with z2, ended with z1
    assert coll["mb"].ends == 2 and coll["extra"].ends == 1, (coll["mb"].ends, coll["extra"].ends)
    assert len(got["extra"][0]) > 0 and set(got["extra"][2].tolist()) == {h2}, set(got["extra"][2].tolist())
    # main: every event of source 0 was decided by z1, z2, then z1 in contiguous runs, of source 1
    # by z3; each run holds exactly what its menu's cut accepts
    w = {h1: W_A, h2: W_B, h3: W_A}
    cut = lambda x, wt: x.astype(np.float64) @ wt - 0.3 * wt.sum() > 0
    ids, x, hashes = got["main"]
    assert set(np.unique(hashes).tolist()) == {h1, h2, h3}, np.unique(hashes)
    for (wt, menu_hash) in ((w[h], h) for h in (h1, h2, h3)):
        sel = hashes == menu_hash
        ok = (x[sel].astype(np.float64) @ wt - 0.3 * wt.sum()) > -1e-5
        assert ok.all(), "events on main that %x rejects" % menu_hash
    xa = np.concatenate(xs_a)
    acc_a, acc_b = cut(xa, W_A), cut(xa, W_B)
    recv = {int(i): int(h) for i, h in zip(ids, hashes) if int(i) >> 40 == 0}
    order, seg = [h1, h2, h1], 0
    for i in range(len(xa)):
        h = recv.get(i)
        while h is not None and order[seg] != h:  # a later menu decided it
            seg += 1
            assert seg < 3, "event %d decided by %x out of order" % (i, h)
        accepts = lambda k: bool((acc_b if order[k] == h2 else acc_a)[i])
        while (h is not None) != accepts(seg):  # only a switch before it explains it
            seg += 1
            assert seg < 3 and (h is None or order[seg] == h), "event %d: received %s, no menu in order explains it" % (i, h is not None)
    assert seg == 2, "the main stream shows %d switches, 2 were made" % seg
    xb = np.concatenate(xs_b)
    acc3 = cut(xb, W_A)
    b_ids = sorted(int(i) & ((1 << 40) - 1) for i in ids if int(i) >> 40 == 1)
    assert b_ids == np.nonzero(acc3)[0].tolist(), "source 1: main differs from z3's cut"
    print("reload_zmq: %d + %d events, 3 reloads, %d on main" % (len(xa), len(xb), len(ids)))


def step_errors():
    """A step that fails on some events: `stats` names its first message, `ngt top` shows it,
    the events are counted as errored, and the node keeps serving."""
    path = os.path.join(TMP, "errs.lua")
    open(path, "w").write("""
local ngt = require "ngt"
local ev = ngt.schema { x = "f32[8]" }
local picky = ngt.lua { name = "picky", reads = { "x" }, fn = function(ev, n)
   -- about every other batch fails, whole (a Lua step's error is its batch's)
   local row = ev.x[ev.sel[0]]
   if row[0] > row[1] then error("x[0] too large for picky") end
end }
return ngt.menu { schema = ev, chains = { ngt.chain "Picky" { picky, ngt.cut "x[1] > 0" } },
   streams = { main = { "Picky" } } }
""")
    node = Node(path, "--allow-errors")
    try:
        node.wait_events(5000)
        s = node.stats()
        step = [x for x in s["steps"] if x["name"].startswith("lua:picky") or "picky" in x["name"]][0]
        assert step["errors"] > 0 and "too large for picky" in step.get("first_error", ""), step
        top = ngt("top", node.ep, "--count", "1").stdout
        assert "first error:" in top and "too large for picky" in top, top
        assert s["node"]["errored"] > 0, s["node"]
        rep = node.stop()
    finally:
        node.kill()
    ev = rep["events"]
    assert ev["in"] == ev["accepted"] + ev["rejected"] + ev["errored"] and ev["errored"] > 0, ev


CHECKS = {"lua_api": lua_api, "swaps": swaps, "bad_swaps": bad_swaps, "reload": reload, "commands": commands, "curve": curve, "reload_zmq": reload_zmq, "step_errors": step_errors}

if __name__ == "__main__":
    CHECKS[CHECK]()
    print("ok", CHECK)
