#!/usr/bin/env python3
"""check_farm.py NGT CHECK: farm mode with real processes (docs/farm.md).

Each check starts its own nats-server -js on 127.0.0.1 (a free port, a fresh storage directory),
sets the farm up with a short AckWait, runs nodes, senders and the receiver as separate ngt
processes, asserts the farm totals, and stops everything it started (also on failure).

  kill     two nodes and a sender spreading work over ~2 s: one node dies by SIGKILL between its
           results' PubAcks and its inputs' acks (a test hook), another is SIGKILLed by the test
           mid-stream, a third is added while the sender runs and must take work. 0 events lost;
           the redelivered results (past the duplicate window) recognised as duplicates.
  restart  the server is stopped and started again on the same file storage while a (slowed)
           node works: nothing lost.
  poison   a message of another schema and a garbage message: handed back until MaxDeliver, then
           terminated, counted as poisoned (ids where readable); the valid events all counted and
           nothing left pending.
  progress a node working longer than AckWait on one fetch (a test hook slows it down) keeps its
           messages with in-progress acks: nothing redelivered.
  errors   a menu whose Lua step fails on some calls: those events are errored (not lost, not
           handed back), every message acknowledged, the node exits 3 naming the step; the farm's
           errored and accepted equal ngt run's on the same events.
  control  `ngt farm prescale COLUMN` reaches every node, each replies (a missing column: failed,
           exit 1); `ngt farm status` shows them; `ngt farm stop` stops them; misconfiguration
           refused with clear errors; malformed control messages answered with an error.
  swap     two nodes, a model swapped mid-stream by `ngt farm swap`: both reply ok, 0 events
           lost, every result decided by the version its provenance names (each event's decision
           equals that version's offline `ngt run`); bad swaps (garbage file, wrong shape, missing
           file, unknown model, unknown backend) refused by both nodes with the reason, the old
           version kept on every node.
  output   `ngt recv --farm --output DIR` of two nodes' results: every file byte-identical to
           `ngt run --input` on the same recorded events (l1_demo: batch scalars, models, streams).
Exit 77 (skipped) when nats-server is not installed.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MENU = os.path.join(HERE, "menu_farm.lua")
OTHER = os.path.join(HERE, "other_schema.lua")
ERRORS = os.path.join(HERE, "menu_errors.lua")
PROCS = []


def find_server():
    path = shutil.which("nats-server")
    for p in (path, "/usr/sbin/nats-server", "/usr/bin/nats-server"):
        if p and os.access(p, os.X_OK):
            return p
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fail(msg):
    print("FAIL:", msg)
    raise SystemExit(1)


def start(args, env=None, log=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    out = open(log, "w") if log else subprocess.DEVNULL
    p = subprocess.Popen(args, env=e, stdout=out, stderr=subprocess.STDOUT)
    p.log = log
    PROCS.append(p)
    return p


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()


class Server:
    def __init__(self, tmp):
        self.exe = find_server()
        self.port = free_port()
        self.store = os.path.join(tmp, "js")
        self.log = os.path.join(tmp, "server.log")
        self.url = "nats://127.0.0.1:%d" % self.port
        self.p = None

    def start(self):
        self.p = start([self.exe, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", self.store],
                       log=self.log)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        fail("nats-server did not start (see %s)" % self.log)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=20)


def ngt(ngt_bin, *args, check=True, timeout=60):
    r = subprocess.run([ngt_bin] + list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        fail("ngt %s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def farm_args(srv, stream):
    return ["--farm", srv.url, "--stream", stream]


def node(ngt_bin, srv, stream, tmp, name, node_id, env=None, idle=None, extra=(), menu=MENU):
    args = [ngt_bin, "run", menu] + farm_args(srv, stream) + ["--node-id", str(node_id), "--quiet",
                                                              "--json", os.path.join(tmp, name + ".json")]
    if idle is not None:
        args += ["--idle-exit", str(idle)]
    return start(args + list(extra), env=env, log=os.path.join(tmp, name + ".log"))


def node_report(tmp, name):
    with open(os.path.join(tmp, name + ".json")) as f:
        return json.load(f)["farm"]


def recv(ngt_bin, srv, stream, tmp, ends=1, timeout=20, menu=MENU):
    out = os.path.join(tmp, "recv.json")
    r = ngt(ngt_bin, "recv", *farm_args(srv, stream), "--menu", menu, "--ends", str(ends),
            "--timeout", str(timeout), "--json", out, check=False, timeout=timeout + 30)
    print(r.stdout, r.stderr, end="")
    if r.returncode != 0:
        fail("ngt recv: exit %d" % r.returncode)
    with open(out) as f:
        return json.load(f)


def reference(ngt_bin, events, batch, tmp):
    """Accepted events of the menu over the same generated events (ngt run, one process)."""
    out = os.path.join(tmp, "ref.json")
    ngt(ngt_bin, "run", MENU, "--events", str(events), "--batch", str(batch), "--quiet", "--json", out)
    with open(out) as f:
        rep = json.load(f)
    return rep["events"]["accepted"]


def wait(p, what, timeout=60):
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        fail("%s did not finish within %d s" % (what, timeout))


def check_kill(ngt_bin, srv, tmp):
    events, batch = 40000, 100
    ngt(ngt_bin, "farm", "setup", *farm_args(srv, "K"), "--ack-wait-ms", "1500", "--max-deliver", "5",
        "--dup-window-ms", "300")
    # node 1 dies (SIGKILL, by itself) after 3 rounds: results stored, inputs not acknowledged
    n1 = node(ngt_bin, srv, "K", tmp, "node1", 1, env={"NGT_FARM_TEST_KILL_AFTER": "3"})
    n2 = node(ngt_bin, srv, "K", tmp, "node2", 2, env={"NGT_FARM_TEST_SLOW_US": "500"})
    time.sleep(0.3)
    sender = start([ngt_bin, "send", *farm_args(srv, "K"), "--menu", MENU, "--events", str(events),
                    "--batch", str(batch), "--rate", "20000"], log=os.path.join(tmp, "send.log"))
    time.sleep(0.8)
    if n2.poll() is not None:
        fail("node 2 ended before it could be killed")
    n2.kill()  # SIGKILL mid-stream
    n2.wait()
    n3 = node(ngt_bin, srv, "K", tmp, "node3", 3, idle=4)
    if wait(sender, "the sender") != 0:
        fail("ngt send failed: " + open(sender.log).read())
    if wait(n1, "node 1") != -signal.SIGKILL:
        fail("node 1 did not die by its test hook (exit %s)" % n1.returncode)
    if wait(n3, "node 3") != 0:
        fail("node 3 failed: " + open(n3.log).read())
    took = node_report(tmp, "node3")
    print("node 3 (added while running):", took)
    if took["messages"] == 0 or took["results"] == 0:
        fail("node 3, added while the sender ran, took no work")
    if took["redelivered"] == 0:
        fail("nothing was redelivered after two nodes died")
    t = recv(ngt_bin, srv, "K", tmp)
    accepted = reference(ngt_bin, events, batch, tmp)
    if t["in"] != events:
        fail("farm totals: in %d, sent %d" % (t["in"], events))
    if t["in"] != t["accepted"] + t["rejected"] + t["errored"]:
        fail("farm totals do not add up")
    if t["accepted"] != accepted:
        fail("accepted %d, ngt run on the same events accepts %d" % (t["accepted"], accepted))
    if t["duplicates"] < 1:
        fail("no duplicate recognised (node 1 died after its results were stored)")
    if t["nodes"] < 2 or t["ends_complete"] != 1:
        fail("nodes %d, complete %d" % (t["nodes"], t["ends_complete"]))
    print("kill: %d events, 0 lost, %d duplicates recognised" % (t["in"], t["duplicates"]))


def check_restart(ngt_bin, srv, tmp):
    events, batch = 6000, 20
    ngt(ngt_bin, "farm", "setup", *farm_args(srv, "R"), "--ack-wait-ms", "1500")
    ngt(ngt_bin, "send", *farm_args(srv, "R"), "--menu", MENU, "--events", str(events), "--batch", str(batch))
    n = node(ngt_bin, srv, "R", tmp, "node", 1, env={"NGT_FARM_TEST_SLOW_US": "5000"}, idle=5,
             extra=["--fetch", "4"])
    time.sleep(0.6)
    if n.poll() is not None:
        fail("the node ended before the restart")
    srv.stop()
    time.sleep(0.5)
    srv.start()
    if wait(n, "the node", 120) != 0:
        fail("node failed: " + open(n.log).read())
    rep = node_report(tmp, "node")
    print("node:", rep)
    t = recv(ngt_bin, srv, "R", tmp)
    if t["in"] != events or t["ends_complete"] != 1:
        fail("after the restart: in %d of %d" % (t["in"], events))
    if t["in"] != t["accepted"] + t["rejected"] + t["errored"]:
        fail("farm totals do not add up")
    if t["accepted"] != reference(ngt_bin, events, batch, tmp):
        fail("accepted differs from ngt run's")
    print("restart: %d events, nothing lost" % t["in"])


def raw_publish(srv, subject, payload):
    """A core-NATS publish over the text protocol (the stream stores it like any other)."""
    s = socket.create_connection(("127.0.0.1", srv.port), 5)
    f = s.makefile("rb")
    f.readline()  # INFO
    s.sendall(b'CONNECT {"verbose":false}\r\nPUB ' + subject.encode() + b" %d\r\n" % len(payload) +
              payload + b"\r\nPING\r\n")
    while True:
        line = f.readline()
        if not line or line.startswith(b"PONG"):
            break
        if line.startswith(b"-ERR"):
            fail("raw publish: " + line.decode())
    s.close()


def check_poison(ngt_bin, srv, tmp):
    events = 1000
    ngt(ngt_bin, "farm", "setup", *farm_args(srv, "P"), "--ack-wait-ms", "1000", "--max-deliver", "3")
    ngt(ngt_bin, "send", *farm_args(srv, "P"), "--menu", OTHER, "--events", "50", "--batch", "50",
        "--source-id", "7")
    raw_publish(srv, "P.in", b"this is not a wire-v1 message")
    ngt(ngt_bin, "send", *farm_args(srv, "P"), "--menu", MENU, "--events", str(events), "--batch", "100")
    n = node(ngt_bin, srv, "P", tmp, "node", 1, idle=3)
    if wait(n, "the node") != 0:
        fail("node failed: " + open(n.log).read())
    rep = node_report(tmp, "node")
    print("node:", rep)
    # the wrong-schema sender sent 2 messages (50 events, then its end of stream); garbage 1
    if rep["poisoned"] != 3 or rep["naks"] != 6:
        fail("poisoned %d (want 3), handed back %d (want 6: 2 deliveries of 3 each)" %
             (rep["poisoned"], rep["naks"]))
    t = recv(ngt_bin, srv, "P", tmp)
    if t["poisoned"] != 3 or t["poisoned_events"] != 50:
        fail("receiver: poisoned %d (%d events), want 3 (50)" % (t["poisoned"], t["poisoned_events"]))
    if t["in"] != events or t["in"] != t["accepted"] + t["rejected"] + t["errored"]:
        fail("valid events: in %d of %d" % (t["in"], events))
    st = ngt(ngt_bin, "farm", "status", *farm_args(srv, "P"), "--wait-ms", "100").stdout
    print(st, end="")
    if "pending 0, ack pending 0" not in st:
        fail("messages left pending after poisoning")
    print("poison: 3 messages terminated and counted, %d valid events counted" % t["in"])


def check_progress(ngt_bin, srv, tmp):
    ngt(ngt_bin, "farm", "setup", *farm_args(srv, "G"), "--ack-wait-ms", "1000", "--max-deliver", "5")
    ngt(ngt_bin, "send", *farm_args(srv, "G"), "--menu", MENU, "--events", "800", "--batch", "100")
    # 9 messages (8 of 100 events and the end of stream), 0.4 s each, fetched 4 at a time: a fetch
    # takes 1.6 s, longer than the 1 s AckWait
    n = node(ngt_bin, srv, "G", tmp, "node", 1, env={"NGT_FARM_TEST_SLOW_US": "400000"}, idle=2.5,
             extra=["--fetch", "4"])
    if wait(n, "the node", 60) != 0:
        fail("node failed: " + open(n.log).read())
    rep = node_report(tmp, "node")
    print("node:", rep)
    if rep["messages"] != 9 or rep["redelivered"] != 0 or rep["server_duplicates"] != 0:
        fail("messages %d (want 9), redelivered %d (want 0): in-progress acks did not hold the fetch"
             % (rep["messages"], rep["redelivered"]))
    t = recv(ngt_bin, srv, "G", tmp)
    if t["in"] != 800 or t["duplicates"] != 0:
        fail("in %d, duplicates %d" % (t["in"], t["duplicates"]))
    print("progress: a fetch of 1.6 s held with a 1 s AckWait, nothing redelivered")


def check_errors(ngt_bin, srv, tmp):
    events, batch = 2000, 100
    ngt(ngt_bin, "farm", "setup", *farm_args(srv, "E"), "--ack-wait-ms", "2000", "--max-deliver", "3")
    ngt(ngt_bin, "send", *farm_args(srv, "E"), "--menu", MENU, "--events", str(events), "--batch", str(batch))
    n = node(ngt_bin, srv, "E", tmp, "node", 1, idle=2.5, menu=ERRORS)
    if wait(n, "the node") != 3:
        fail("node: exit %s (want 3: events errored)\n%s" % (n.returncode, open(n.log).read()))
    log = open(n.log).read()
    if "thrower" not in log or "boom" not in log:
        fail("the node did not name the failing step: " + log)
    rep = node_report(tmp, "node")
    print("node:", rep)
    if rep["errored"] == 0 or rep["naks"] != 0 or rep["poisoned"] != 0 or rep["retried"] != 0:
        fail("step errors: errored %d (want > 0), handed back %d, poisoned %d, retried %d (want 0)"
             % (rep["errored"], rep["naks"], rep["poisoned"], rep["retried"]))
    t = recv(ngt_bin, srv, "E", tmp, menu=ERRORS)
    if t["in"] != events or t["in"] != t["accepted"] + t["rejected"] + t["errored"]:
        fail("in %d of %d, or the totals do not add up" % (t["in"], events))
    out = os.path.join(tmp, "ref.json")
    ngt(ngt_bin, "run", ERRORS, "--events", str(events), "--batch", str(batch), "--threads", "1",
        "--quiet", "--allow-errors", "--json", out)
    with open(out) as f:
        ref = json.load(f)["events"]
    if (t["errored"], t["accepted"]) != (ref["errored"], ref["accepted"]):
        fail("errored %d, accepted %d; ngt run: errored %d, accepted %d"
             % (t["errored"], t["accepted"], ref["errored"], ref["accepted"]))
    st = ngt(ngt_bin, "farm", "status", *farm_args(srv, "E"), "--wait-ms", "100").stdout
    if "pending 0, ack pending 0" not in st:
        fail("messages left pending after step errors: " + st)
    print("errors: %d events, %d errored by the failing step, every message acknowledged"
          % (t["in"], t["errored"]))


def check_control(ngt_bin, srv, tmp):
    r = ngt(ngt_bin, "run", MENU, *farm_args(srv, "C"), "--quiet", check=False)
    if r.returncode != 1 or "stream C not found" not in r.stderr or "--create" not in r.stderr:
        fail("a missing stream: exit %d, %s" % (r.returncode, r.stderr))
    ngt(ngt_bin, "farm", "setup", *farm_args(srv, "C"), "--ack-wait-ms", "2000", "--max-deliver", "4")
    r = ngt(ngt_bin, "run", MENU, *farm_args(srv, "C"), "--ack-wait-ms", "5000", "--quiet", check=False)
    if r.returncode != 1 or "AckWait 2000 ms, 5000 ms asked for" not in r.stderr:
        fail("a misconfigured consumer: exit %d, %s" % (r.returncode, r.stderr))
    nodes = [node(ngt_bin, srv, "C", tmp, "node%d" % i, i) for i in (1, 2)]
    time.sleep(1.5)
    st = ngt(ngt_bin, "farm", "status", *farm_args(srv, "C")).stdout
    print(st, end="")
    if "nodes heard within 1500 ms: 2" not in st or "AckWait 2000 ms, MaxDeliver 4" not in st:
        fail("status does not show both nodes and the consumer")
    r = farm_cmd(ngt_bin, srv, "C", "prescale", "-", "--nodes", "2")
    if "node 1: ok: prescale column ''" not in r.stdout or "node 2: ok: prescale column ''" not in r.stdout:
        fail("prescale -: replies " + r.stdout)
    r = farm_cmd(ngt_bin, srv, "C", "prescale", "nosuchcolumn", status=1)
    if r.stdout.count(": failed: ") != 2 or "nosuchcolumn" not in r.stdout:
        fail("prescale nosuchcolumn: replies " + r.stdout)
    r = farm_cmd(ngt_bin, srv, "C", "stop", "--nodes", "3", "--wait-ms", "2000", status=1)
    if "2 of 3 nodes replied" not in r.stderr or "stop: 2 nodes ok, 0 failed" not in r.stdout:
        fail("stop with --nodes 3: " + r.stdout + r.stderr)
    for i, p in enumerate(nodes):
        if wait(p, "node %d after stop" % (i + 1), 20) != 0:
            fail("node %d: exit %d" % (i + 1, p.returncode))
        rep = node_report(tmp, "node%d" % (i + 1))
        if "nosuchcolumn" not in rep["first_error"]:
            fail("node %d did not get the prescale command: %s" % (i + 1, rep))
    print("control: both nodes got the commands and stopped")


def raw_request(srv, subject, payload, replies, timeout=10.0):
    """A core-NATS request over the text protocol: publishes payload with a reply subject and
    returns the replies' texts (up to `replies`, or what came within timeout)."""
    s = socket.create_connection(("127.0.0.1", srv.port), 5)
    f = s.makefile("rb")
    f.readline()  # INFO
    s.sendall(b'CONNECT {"verbose":false}\r\nSUB _raw.inbox 1\r\nPUB ' + subject.encode() +
              b" _raw.inbox %d\r\n" % len(payload) + payload + b"\r\n")
    out = []
    s.settimeout(timeout)  # a timed-out socket file cannot be read again: one timeout in all
    while len(out) < replies:
        try:
            line = f.readline()
        except OSError:
            break
        if not line:
            break
        if line.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
        elif line.startswith(b"MSG"):
            size = int(line.split()[-1])
            out.append(f.read(size + 2)[:size].decode())
        elif line.startswith(b"-ERR"):
            fail("raw request: " + line.decode())
    s.close()
    return out


def gemm_model(path, w, b, n_in=8):
    """y[1] = x[n_in] @ w + b as ONNX."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])
    inits = [helper.make_tensor("w", TensorProto.FLOAT, [n_in, 1], np.asarray(w, np.float32).ravel()),
             helper.make_tensor("b", TensorProto.FLOAT, [1], np.asarray([b], np.float32))]
    g = helper.make_graph([helper.make_node("Gemm", ["x", "w", "b"], ["y"])], "m", [x], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


SWAP_MENU = """
local ngt = require "ngt"
local ev = ngt.schema { x = "f32[8]" }
local m = ngt.model { name = "m", file = "%s", backend = "ref" }
return ngt.menu { schema = ev, chains = {
   ngt.chain "Sel" { ngt.infer(m, "x", "y"), ngt.cut "y[0] > 0" },
   ngt.chain "Minbias" { ngt.prescale(10) },
}, streams = { main = { "Sel" }, minbias = { "Minbias" } } }
"""


def file_hash(path):
    """FNV-1a 64 of a file, as the registry computes it."""
    h = 0xcbf29ce484222325
    for byte in open(path, "rb").read():
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def farm_cmd(ngt_bin, srv, stream, *args, status=0):
    r = ngt(ngt_bin, "farm", *args, *farm_args(srv, stream), check=False)
    print(r.stdout, r.stderr, end="")
    if status is not None and r.returncode != status:
        fail("ngt farm %s: exit %d, want %d" % (" ".join(args), r.returncode, status))
    return r


def check_swap(ngt_bin, srv, tmp):
    import numpy as np
    rng = np.random.default_rng(7)
    wa, wb = rng.normal(size=8), rng.normal(size=8)
    model_a = gemm_model(os.path.join(tmp, "a.onnx"), wa, -0.3 * wa.sum())
    model_b = gemm_model(os.path.join(tmp, "b.onnx"), wb, -0.3 * wb.sum())
    wide = gemm_model(os.path.join(tmp, "wide.onnx"), rng.normal(size=9), 0.0, n_in=9)
    garbage = os.path.join(tmp, "garbage.onnx")
    open(garbage, "wb").write(b"\x08\x07garbage" * 10)
    ha, hb = file_hash(model_a), file_hash(model_b)
    menu = os.path.join(tmp, "swap.lua")
    open(menu, "w").write(SWAP_MENU % model_a)
    events, batch = 30000, 100
    ngt(ngt_bin, "farm", "setup", *farm_args(srv, "S"), "--ack-wait-ms", "5000", "--max-deliver", "3")
    # no idle exit: the nodes serve until `ngt farm stop` (slow machines, sanitizer builds)
    nodes = [node(ngt_bin, srv, "S", tmp, "node%d" % i, i, env={"NGT_FARM_TEST_SLOW_US": "4000"},
                  menu=menu) for i in (1, 2)]
    time.sleep(0.5)
    sender = start([ngt_bin, "send", *farm_args(srv, "S"), "--menu", menu, "--events", str(events),
                    "--batch", str(batch), "--rate", "4000"], log=os.path.join(tmp, "send.log"))
    # malformed control messages reach the nodes: answered with an error, nothing else happens
    for payload, why in ((b"frobnicate", "unknown command 'frobnicate'"), (b"swap m", "swap needs MODEL BACKEND FILE"),
                         (b"", "unknown command ''"), (b"prescale", "unknown command 'prescale'"),
                         (b"stop\x00now", "text without NUL")):
        got = raw_request(srv, "S.control", payload, 2)
        if len(got) != 2 or not all(": failed: " in g and why in g for g in got):
            fail("control message %r: replies %s, want 2 failed with '%s'" % (payload, got, why))
    time.sleep(1.0)
    # the swap, mid-stream: every node answers ok with the new version's hash
    r = farm_cmd(ngt_bin, srv, "S", "swap", "m", model_b, "--nodes", "2", "--wait-ms", "20000")
    for i in (1, 2):
        if "node %d: ok: model m is %s (serial 2, hash %016x)" % (i, model_b, hb) not in r.stdout:
            fail("node %d did not report the swap to %s" % (i, model_b))
    # bad swaps: each node refuses with the reason and keeps B
    cases = [(("m", garbage), "garbage.onnx"),
             (("m", wide), "input 0 is f32[9], the current version's f32[8]"),
             (("m", os.path.join(tmp, "missing.onnx")), "cannot open"),
             (("nosuch", model_a), "unknown model"),
             (("m", model_a, "--backend", "nosuch"), "unknown backend")]
    for args, why in cases:
        r = farm_cmd(ngt_bin, srv, "S", "swap", *args, "--nodes", "2", status=1)
        for i in (1, 2):
            line = [l for l in r.stdout.splitlines() if l.startswith("node %d: " % i)]
            if len(line) != 1 or ": failed: " not in line[0] or why not in line[0] or \
                    ("kept the current version" not in line[0] and args[0] == "m"):
                fail("bad swap %s: node %d said %s, want failed with '%s'" % (args, i, line, why))
        if "swap: 0 nodes ok, 2 failed" not in r.stdout:
            fail("bad swap %s: summary %s" % (args, r.stdout))
    r = farm_cmd(ngt_bin, srv, "S", "swap", "m", "--nodes", "2", status=2)
    if "swap needs MODEL FILE" not in r.stderr:
        fail("ngt farm swap without FILE: " + r.stderr)
    for _ in range(5):  # heartbeats come once a second: a loaded machine may miss one
        st = farm_cmd(ngt_bin, srv, "S", "status", "--wait-ms", "2500").stdout
        if "nodes heard within 2500 ms: 2" in st:
            break
    if st.count("models=m:%016x:2" % hb) != 2:
        fail("status does not show version 2 (%016x) on both nodes:\n%s" % (hb, st))
    if wait(sender, "the sender") != 0:
        fail("ngt send failed: " + open(sender.log).read())
    # every event counted once, each decided by the version its result names
    out = os.path.join(tmp, "farmout")
    res = os.path.join(tmp, "recv.json")
    r = ngt(ngt_bin, "recv", *farm_args(srv, "S"), "--menu", menu, "--timeout", "20", "--json", res,
            "--output", out, timeout=60)
    print(r.stdout, end="")
    r = farm_cmd(ngt_bin, srv, "S", "stop", "--nodes", "2")
    if "node 1: ok: stopping" not in r.stdout or "node 2: ok: stopping" not in r.stdout:
        fail("stop: replies " + r.stdout)
    for i, p in enumerate(nodes):
        if wait(p, "node %d" % (i + 1)) != 0:
            fail("node %d failed: %s" % (i + 1, open(p.log).read()))
        rep = node_report(tmp, "node%d" % (i + 1))
        if rep["swaps"] != 1 or rep["swaps_failed"] != len(cases):
            fail("node %d: swaps %d, refused %d; want 1 and %d" % (i + 1, rep["swaps"], rep["swaps_failed"], len(cases)))
        if "frobnicate" not in rep["first_error"]:
            fail("node %d: first error %s (want the first bad control message's)" % (i + 1, rep["first_error"]))
        log = open(nodes[i].log).read()
        if "ok: model m is %s" % model_b not in log or log.count(": failed: swap ") != len(cases):
            fail("node %d's log does not say how its swaps ended:\n%s" % (i + 1, log))
    t = json.load(open(res))
    if t["in"] != events or t["ends_complete"] != 1 or t["nodes"] != 2:
        fail("farm totals: in %d of %d, complete %d, nodes %d" % (t["in"], events, t["ends_complete"], t["nodes"]))
    dec = np.load(os.path.join(out, "all", "ngt.decision.npy"))
    models = np.load(os.path.join(out, "all", "ngt.models.npy"))
    if dec.shape[0] != events or models.shape != (events, 1):
        fail("output shapes %s %s" % (dec.shape, models.shape))
    if open(os.path.join(out, "all", "ngt.models.txt")).read().split() != ["m"]:
        fail("ngt.models.txt")
    used = models[:, 0]
    if not set(np.unique(used).tolist()) <= {ha, hb}:
        fail("versions %s besides A %016x and B %016x" % (np.unique(used), ha, hb))
    na, nb = int((used == ha).sum()), int((used == hb).sum())
    if na < 1000 or nb < 1000:
        fail("the swap was not mid-stream: %d events on A, %d on B" % (na, nb))
    offline = {}
    for h, model in ((ha, model_a), (hb, model_b)):
        mp = os.path.join(tmp, "off-%x.lua" % h)
        open(mp, "w").write(SWAP_MENU % model)
        od = os.path.join(tmp, "off-%x" % h)
        ngt(ngt_bin, "run", mp, "--events", str(events), "--batch", str(batch), "--threads", "1",
            "--quiet", "--output", od)
        offline[h] = np.load(os.path.join(od, "all", "ngt.decision.npy"))
    sel = np.uint64(1)  # chain 0 is "Sel"
    differ = int((((offline[ha] & sel) != 0) != ((offline[hb] & sel) != 0)).sum())
    if differ < events // 20:
        fail("the two versions disagree on %d events only: the check would not bite" % differ)
    want = np.where(used == ha, offline[ha][:, 0], offline[hb][:, 0])
    bad = np.nonzero(dec[:, 0] != want)[0]
    if bad.size:
        fail("%d events decided otherwise than the version their result names, first %s" % (bad.size, bad[:5]))
    print("swap: %d events, 0 lost, %d on A and %d on B, each decided by its version; %d bad swaps "
          "refused by both nodes" % (events, na, nb, len(cases)))


def check_output(ngt_bin, srv, tmp):
    menu = os.path.join(os.getcwd(), "configs", "l1_demo.lua")
    events = 12000
    gen, ref, out = (os.path.join(tmp, d) for d in ("gen", "ref", "farmout"))
    ngt(ngt_bin, "run", menu, "--events", str(events), "--quiet", "--record", "--output", gen, timeout=120)
    ngt(ngt_bin, "run", menu, "--input", os.path.join(gen, "all"), "--threads", "1", "--quiet",
        "--output", ref, timeout=120)
    ngt(ngt_bin, "farm", "setup", *farm_args(srv, "O"), "--ack-wait-ms", "5000")
    nodes = [node(ngt_bin, srv, "O", tmp, "node%d" % i, i, idle=3, menu=menu,
                  env={"NGT_FARM_TEST_SLOW_US": "3000"}) for i in (1, 2)]
    ngt(ngt_bin, "send", *farm_args(srv, "O"), "--menu", menu, "--input", os.path.join(gen, "all"),
        "--batch", "97", timeout=120)
    for i, p in enumerate(nodes):
        if wait(p, "node %d" % (i + 1), 120) != 0:
            fail("node %d failed: %s" % (i + 1, open(p.log).read()))
        if node_report(tmp, "node%d" % (i + 1))["results"] == 0:
            fail("node %d took no work: the order of the results was not mixed" % (i + 1))
    res = os.path.join(tmp, "recv.json")
    r = ngt(ngt_bin, "recv", *farm_args(srv, "O"), "--menu", menu, "--timeout", "20", "--json", res,
            "--output", out, timeout=120)
    print(r.stdout, end="")
    t = json.load(open(res))
    if t["in"] != events or t["nodes"] != 2:
        fail("farm totals: in %d of %d, nodes %d" % (t["in"], events, t["nodes"]))
    dirs = sorted(os.listdir(ref))
    if sorted(os.listdir(out)) != dirs:
        fail("directories %s, ngt run wrote %s" % (sorted(os.listdir(out)), dirs))
    files = 0
    for d in dirs:
        want = sorted(os.listdir(os.path.join(ref, d)))
        got = sorted(os.listdir(os.path.join(out, d)))
        if got != want:
            fail("%s: files %s, ngt run wrote %s" % (d, got, want))
        for fn in want:
            a = open(os.path.join(ref, d, fn), "rb").read()
            b = open(os.path.join(out, d, fn), "rb").read()
            if a != b:
                fail("%s/%s differs from ngt run --input's" % (d, fn))
            files += 1
    print("output: %d events from 2 nodes, %d files byte-identical to ngt run --input" % (events, files))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    ngt_bin, check = os.path.abspath(sys.argv[1]), sys.argv[2]
    if not find_server():
        print("SKIP: nats-server not installed (scripts/bootstrap installs it)")
        return 77
    tmp = tempfile.mkdtemp(prefix="ngt_farm_")
    srv = Server(tmp)
    try:
        srv.start()
        {"kill": check_kill, "restart": check_restart, "poison": check_poison,
         "progress": check_progress, "errors": check_errors, "control": check_control,
         "swap": check_swap, "output": check_output}[check](ngt_bin, srv, tmp)
    finally:
        stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
