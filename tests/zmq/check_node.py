"""check_node.py NGT CHECK: the ZeroMQ node with real processes over loopback (ipc:// in a fresh
directory, tcp:// on a free 127.0.0.1 port): a node, `ngt send`, `ngt recv` and raw pyzmq senders.
Checks:
  equality     N events sent: in = N = accepted + rejected + errored, the receivers get exactly the
               accepted events, byte-identical to `ngt run --input` on the same data (tcp and ipc)
  malformed    truncated, garbage, wrong version, wrong schema id, wrong column length, counts above
               max, oversize, a repeated sequence: each refused and counted by reason, and the node
               keeps serving (good messages after them all arrive)
  epoch        a sender restarting with a new epoch: its events count again from 0, nothing lost;
               a gap within an epoch counts as lost upstream
  backpressure a sink whose receiver does not read yet: the node blocks instead of dropping, then
               delivers every accepted event once the receiver reads
  gone         a sink whose receiver never comes: bounded exit after --linger-ms, the accepted
               events counted undelivered, exit status 1
  python       examples/send_events.py speaks the format: the node takes all its events
  script       a node described by its script (ngt.source.zmq, ngt.sink.zmq)
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import zmq

NGT = os.path.abspath(sys.argv[1])
CHECK = sys.argv[2]
MENU = "configs/l1_demo.lua"
ROOT = os.getcwd()
TMP = tempfile.mkdtemp(prefix="ngt_zmq_")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(*args, **kw):
    return subprocess.run([NGT, *args], capture_output=True, text=True, timeout=300, **kw)


def start(*args):
    return subprocess.Popen([NGT, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(p, what, timeout=120):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        fail(f"{what} did not finish:\n{out}")
    if p.returncode != 0:
        fail(f"{what} exited {p.returncode}:\n{out}")
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def endpoint(kind, name):
    if kind == "ipc":
        return f"ipc://{TMP}/{name}.sock"
    return f"tcp://127.0.0.1:{free_port()}"


def record(events, out):
    r = run("run", MENU, "--events", str(events), "--threads", "2", "--quiet", "--record", "--output", out)
    if r.returncode != 0:
        fail("ngt run --record: " + r.stderr)


def node(src, sinks, json_path, *extra):
    sink = ",".join(f"{s}={ep}" for s, ep in sinks.items())
    args = ["run", MENU, "--source", src, "--stop-at-end", "--threads", "2", "--json", json_path, "--quiet"]
    if sink:
        args += ["--sink", sink]
    return start(*args, *extra)


def totals(json_path):
    with open(json_path) as f:
        r = json.load(f)
    ev = r["events"]
    if ev["in"] != ev["accepted"] + ev["rejected"] + ev["errored"]:
        fail(f"totals do not add up: {ev}")
    return r


sys.path.insert(0, os.path.join(ROOT, "examples"))
import send_events  # noqa: E402


def schema_layout():
    """(schema id, input column names in frame order, batch scalar names) of the menu."""
    sid, cols, scalars = send_events.schema(run("inspect", MENU).stdout)
    return sid, [c[0] for c in cols], [s[0] for s in scalars]


def check_equality():
    for kind in ("ipc", "tcp"):
        gen = f"{TMP}/gen_{kind}"
        n = 20000 if kind == "ipc" else 7000
        record(n, gen)
        src, phys, expr = endpoint(kind, "in"), endpoint(kind, "phys"), endpoint(kind, "expr")
        nj = f"{TMP}/node_{kind}.json"
        nd = node(src, {"physics": phys, "express": expr}, nj, "--output", f"{TMP}/nodeout_{kind}")
        time.sleep(0.3)
        rdir = f"{TMP}/recv_{kind}"
        r1 = start("recv", phys, "--menu", MENU, "--output", rdir, "--timeout", "60")
        r2 = start("recv", expr, "--menu", MENU, "--output", rdir, "--timeout", "60")
        s = run("send", src, "--menu", MENU, "--input", f"{gen}/all", "--batch", "97")
        if s.returncode != 0:
            fail("ngt send: " + s.stderr)
        finish(nd, "node")
        finish(r1, "recv physics")
        finish(r2, "recv express")
        r = totals(nj)
        if r["events"]["in"] != n:
            fail(f"{kind}: node took {r['events']['in']} events, {n} sent")
        if r["source"]["refused_messages"] or r["source"]["lost_upstream"]:
            fail(f"{kind}: refused or lost: {r['source']}")
        acc = {s["name"]: s["accepted"] for s in r["streams"]}
        for stream in ("physics", "express"):
            files = sorted(os.listdir(f"{gen}/{stream}"))
            if sorted(os.listdir(f"{rdir}/{stream}")) != files:
                fail(f"{kind} {stream}: files {sorted(os.listdir(f'{rdir}/{stream}'))} != {files}")
            for fn in files:
                a = open(f"{gen}/{stream}/{fn}", "rb").read()
                b = open(f"{rdir}/{stream}/{fn}", "rb").read()
                if a != b:
                    fail(f"{kind} {stream}/{fn} differs from ngt run --input")
            got = np.load(f"{rdir}/{stream}/ngt.status.npy").shape[0]
            if got != acc[stream]:
                fail(f"{kind} {stream}: received {got}, the node accepted {acc[stream]}")
        print(f"{kind}: {n} events in, accepted {r['events']['accepted']}, streams {acc}: byte-identical")


def hdr(schema_id, n, first, nframes, scalars, epoch=1, source=7, flags=0, version=1):
    return struct.pack("<4sHHIIQQQIIQQ", b"NGT1", version, 64 + len(scalars), flags, source, schema_id,
                       epoch, first, n, nframes, time.time_ns(), 0) + scalars


def good_frames(gen, cols, scalars, lo, hi):
    arrays = [np.load(f"{gen}/all/{c}.npy")[lo:hi] for c in cols]
    sc = b"".join(np.load(f"{gen}/all/{s}.npy")[lo].tobytes() for s in scalars)
    return [np.ascontiguousarray(a).tobytes() for a in arrays], sc, arrays


def check_malformed():
    sid, cols, scalars = schema_layout()
    gen = f"{TMP}/mal"
    record(400, gen)
    src = endpoint("ipc", "mal")
    nj = f"{TMP}/mal.json"
    nd = node(src, {}, nj, "--max-events", "1000")
    time.sleep(0.3)
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUSH)
    s.connect(src)
    seq = 0

    def msg(lo, hi, **kw):
        fr, sc, _ = good_frames(gen, cols, scalars, lo, hi)
        return [hdr(sid, hi - lo, lo, 1 + len(fr), sc, **kw)] + fr

    good = 0
    bad = {}
    m = msg(0, 10); s.send_multipart(m); good += 10; seq = 10
    m = msg(10, 20); s.send_multipart(m[:3]); bad["malformed"] = bad.get("malformed", 0) + 1  # truncated
    s.send_multipart([b"garbage" * 5]); bad["malformed"] += 1
    s.send_multipart([os.urandom(300), os.urandom(7)]); bad["malformed"] += 1
    m = msg(10, 20, version=2); s.send_multipart(m); bad["version"] = 1
    fr, sc, _ = good_frames(gen, cols, scalars, 10, 20)
    s.send_multipart([hdr(sid ^ 1, 10, 10, 1 + len(fr), sc)] + fr); bad["schema"] = 1
    m = msg(10, 20); m[2] = m[2][:-4]; s.send_multipart(m); bad["malformed"] += 1  # wrong column length
    fr, sc, arrays = good_frames(gen, cols, scalars, 10, 20)
    ci = [i for i, c in enumerate(cols) if c.endswith(".n")][0]
    cnt = arrays[ci].copy(); cnt[3] = 99
    fr[ci] = cnt.tobytes()
    s.send_multipart([hdr(sid, 10, 10, 1 + len(fr), sc)] + fr); bad["counts"] = 1
    big = [hdr(sid, 5000, 10, 1 + len(cols), sc)] + [b"\0" * 8] * len(cols)
    s.send_multipart(big); bad["oversize"] = 1
    m = msg(20, 30); s.send_multipart(m); good += 10  # the node still serves
    m = msg(15, 25); s.send_multipart(m); bad["sequence"] = 1  # repeats 20..24
    m = msg(30, 40, flags=1); s.send_multipart(m); good += 10
    s.close(linger=5000)
    ctx.term()
    finish(nd, "node")
    r = totals(nj)
    src_st = r["source"]
    if r["events"]["in"] != good:
        fail(f"the node took {r['events']['in']} events, {good} were good: {src_st}")
    for reason, n in bad.items():
        if src_st["refused_by"][reason] != n:
            fail(f"refused_by {reason}: {src_st['refused_by'][reason]}, expected {n} ({src_st})")
    if src_st["refused_messages"] != sum(bad.values()):
        fail(f"refused {src_st['refused_messages']}, expected {sum(bad.values())}")
    if not src_st["first_error"]:
        fail("no first error message")
    print("malformed: refused", src_st["refused_by"], "first:", src_st["first_error"])


def check_epoch():
    gen = f"{TMP}/ep"
    record(300, gen)
    sid, cols, scalars = schema_layout()
    # a node that keeps serving across sender restarts (no --stop-at-end); SIGINT ends it
    nj = f"{TMP}/ep2.json"
    src = endpoint("ipc", "ep2")
    nd = start("run", MENU, "--source", src, "--threads", "2", "--json", nj, "--quiet")
    time.sleep(0.3)
    for epoch in (1, 2):
        s = run("send", src, "--menu", MENU, "--input", f"{gen}/all", "--events", "100", "--epoch", str(epoch),
                "--source-id", "3", "--batch", "50")
        if s.returncode != 0:
            fail("send: " + s.stderr)
    ctx = zmq.Context()
    so = ctx.socket(zmq.PUSH)
    so.connect(src)
    for lo in (0, 100):
        fr, sc, _ = good_frames(gen, cols, scalars, lo, lo + 50)
        so.send_multipart([hdr(sid, 50, lo, 1 + len(fr), sc, epoch=3, source=3)] + fr)
    so.close(linger=5000)
    ctx.term()
    time.sleep(1.0)
    nd.send_signal(2)  # SIGINT: drains and reports
    finish(nd, "node (SIGINT)")
    r = totals(nj)
    st = r["source"]
    if r["events"]["in"] != 300 or st["lost_upstream"] != 50 or st["epochs"] != 3 or st["refused_messages"]:
        fail(f"epochs: in {r['events']['in']} (want 300), {st} (want lost 50, epochs 3)")
    print("epoch: restarts counted apart, gap counted:", st["lost_upstream"], "lost,", st["epochs"], "epochs")


def check_backpressure():
    gen = f"{TMP}/bp"
    n = 30000
    record(n, gen)
    src, all_ep = endpoint("ipc", "bpin"), endpoint("ipc", "bpout")
    nj = f"{TMP}/bp.json"
    # small batches and output messages: the sink's queue and ZeroMQ's high-water marks fill
    # long before the 30000 events are through
    nd = node(src, {"physics": all_ep}, nj, "--batch", "16", "--flush-ms", "0.1")
    time.sleep(0.3)
    snd = start("send", src, "--menu", MENU, "--input", f"{gen}/all", "--batch", "8")
    time.sleep(3.0)
    # nobody reads the sink yet: the node blocks (sink queue, pool, source) and so does the sender,
    # whose 3750 messages are more than the two high-water marks (1000 each) and the pool hold
    if nd.poll() is not None:
        fail("the node finished while its sink had no reader (it dropped events)")
    if snd.poll() is not None:
        fail("the sender finished while the node's sink had no reader: no back-pressure")
    rdir = f"{TMP}/bp_recv"
    rc = run("recv", all_ep, "--menu", MENU, "--output", rdir, "--timeout", "60")
    if rc.returncode != 0:
        fail("recv: " + rc.stderr + rc.stdout)
    finish(snd, "send")
    finish(nd, "node")
    r = totals(nj)
    acc = {s["name"]: s["accepted"] for s in r["streams"]}
    got = np.load(f"{rdir}/physics/ngt.status.npy").shape[0]
    if r["events"]["in"] != n or got != acc["physics"]:
        fail(f"backpressure: in {r['events']['in']} of {n}; received {got} of {acc['physics']}")
    print(f"backpressure: blocked without a reader, then all {got} accepted events delivered")


def check_gone():
    """A sink whose receiver never comes: after a stop the node waits --linger-ms for it, then
    exits with status 1, every accepted event of that stream counted as undelivered (none lost
    silently), and the totals still add up."""
    import signal
    gen = f"{TMP}/gone"
    record(4000, gen)
    src, all_ep = endpoint("ipc", "gonein"), endpoint("ipc", "goneout")
    nj = f"{TMP}/gone.json"
    nd = node(src, {"physics": all_ep}, nj, "--batch", "16", "--linger-ms", "300")
    time.sleep(0.3)
    snd = start("send", src, "--menu", MENU, "--input", f"{gen}/all", "--batch", "8")
    time.sleep(2.0)
    t0 = time.monotonic()
    nd.send_signal(signal.SIGINT)
    try:
        out, _ = nd.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        nd.kill()
        fail("the node did not exit after SIGINT with a sink nobody reads")
    took = time.monotonic() - t0
    snd.kill()
    snd.wait()
    if nd.returncode != 1 or "not delivered" not in out:
        fail(f"exit {nd.returncode}, wanted 1 with 'not delivered':\n{out}")
    r = totals(nj)
    acc = {s["name"]: s["accepted"] for s in r["streams"]}
    src_ = r["source"]
    if acc["physics"] == 0 or src_["undelivered_events"] + src_["sent_events"] != acc["physics"]:
        fail(f"undelivered {src_['undelivered_events']} + sent {src_['sent_events']} != accepted {acc['physics']}")
    print(f"gone: exit after {took:.1f} s, {src_['undelivered_events']} accepted events reported undelivered")


def check_python():
    py = sys.executable
    src = endpoint("ipc", "py")
    nj = f"{TMP}/py.json"
    nd = node(src, {}, nj)
    time.sleep(0.3)
    p = subprocess.run([py, "examples/send_events.py", src, "--events", "2000", "--batch", "128",
                        "--ngt", NGT, "--menu", MENU],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        fail("send_events.py: " + p.stderr)
    finish(nd, "node")
    r = totals(nj)
    if r["events"]["in"] != 2000 or r["source"]["refused_messages"]:
        fail(f"python sender: {r['events']} {r['source']}")
    print("python: 2000 events taken, none refused")


def check_script():
    menu = "tests/zmq/menu_node.lua"
    env = dict(os.environ, NGT_ZMQ_SRC=endpoint("ipc", "scr_in"), NGT_ZMQ_SINK=endpoint("ipc", "scr_out"))
    nj = f"{TMP}/scr.json"
    nd = subprocess.Popen([NGT, "run", menu, "--threads", "2", "--json", nj, "--quiet"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.3)
    rc = subprocess.Popen([NGT, "recv", env["NGT_ZMQ_SINK"], "--menu", menu, "--output", f"{TMP}/scr",
                           "--timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    s = run("send", env["NGT_ZMQ_SRC"], "--menu", menu, "--events", "3000", "--batch", "64")
    if s.returncode != 0:
        fail("send: " + s.stderr)
    finish(nd, "node from its script")
    out = finish(rc, "recv")
    r = totals(nj)
    acc = {x["name"]: x["accepted"] for x in r["streams"]}
    got = np.load(f"{TMP}/scr/physics/ngt.status.npy").shape[0]
    if r["events"]["in"] != 3000 or got != acc["physics"] or got == 0:
        fail(f"script node: in {r['events']['in']}, accepted {acc}, received {got}: {out}")
    print(f"script: source and sink from ngt.menu: {got} accepted events received")


{"script": check_script, "equality": check_equality, "malformed": check_malformed, "epoch": check_epoch,
 "backpressure": check_backpressure, "gone": check_gone, "python": check_python}[CHECK]()
print("ok")
