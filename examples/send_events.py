#!/usr/bin/env python3
"""send_events.py: a sender in Python (pyzmq + numpy) speaking ngt's wire format v1 (docs/wire.md).

    python examples/send_events.py tcp://127.0.0.1:5555 --menu configs/l1_demo.lua --events 10000

The schema comes from `ngt inspect MENU` (its first lines are the schema's canonical text, whose
FNV-1a 64 hash is the schema id); events are random but valid (collection counts within 0..max).
The last message carries the end-of-stream flag.
"""
import argparse
import re
import struct
import subprocess
import time

import numpy as np
import zmq

DTYPES = {"f32": "<f4", "f64": "<f8", "i8": "i1", "i16": "<i2", "i32": "<i4", "i64": "<i8",
          "u8": "u1", "u16": "<u2", "u32": "<u4", "u64": "<u8", "bool": "u1"}
END, VERSION = 1, 1


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def parse_type(t):
    base, dims = re.match(r"^(\w+)((?:\[\d+\])*)$", t).groups()
    return DTYPES[base], tuple(int(d) for d in re.findall(r"\d+", dims))


def schema(text):
    """(schema id, frame columns [(name, dtype, shape, max or None)], scalars [(name, dtype)])."""
    lines = []
    for line in text.splitlines():
        if not re.match(r"^(ngt-schema|column|collection|scalar|identity) ", line):
            break
        lines.append(line)
    canon = "".join(line + "\n" for line in lines)
    cols, scalars = [], []
    for line in lines[1:]:
        w = line.split()
        if w[0] == "column":
            dt, shape = parse_type(w[2])
            cols.append((w[1], dt, shape, None))
        elif w[0] == "scalar":
            scalars.append((w[1], DTYPES[w[2]]))
        elif w[0] == "collection":
            name, mx = w[1], int(w[2])
            cols.append((name + ".n", "<i4", (), mx))
            for f in w[3:]:
                fname, ft = f.split(":")
                cols.append((f"{name}.{fname}", DTYPES[ft], (mx,), None))
    return fnv1a64(canon.encode()), cols, scalars


def header(schema_id, n, first, n_frames, scalars, source=0, epoch=0, flags=0):
    return struct.pack("<4sHHIIQQQIIQQ", b"NGT1", VERSION, 64 + len(scalars), flags, source,
                       schema_id, epoch, first, n, n_frames, time.time_ns(), 0) + scalars


def random_batch(rng, cols, n):
    out = []
    for name, dt, shape, mx in cols:
        if mx is not None:  # a collection count
            out.append(rng.integers(0, mx + 1, size=n).astype(dt))
        elif np.dtype(dt).kind == "f":
            out.append(rng.exponential(30.0, size=(n, *shape)).astype(dt))
        else:
            out.append(rng.integers(0, 4, size=(n, *shape)).astype(dt))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("endpoint")
    ap.add_argument("--menu", default="configs/l1_demo.lua")
    ap.add_argument("--ngt", default="build/ngt")
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--source", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    text = subprocess.run([a.ngt, "inspect", a.menu], check=True, capture_output=True, text=True).stdout
    sid, cols, scalars = schema(text)
    sc = b"".join(np.array([1], dtype=dt).tobytes() for _, dt in scalars)  # run 1, lumi 1, ...
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, -1)
    sock.connect(a.endpoint)
    rng = np.random.default_rng(a.seed)
    epoch, sent = time.time_ns(), 0
    while sent < a.events:
        n = min(a.batch, a.events - sent)
        arrays = random_batch(rng, cols, n)
        flags = END if sent + n == a.events else 0
        frames = [header(sid, n, sent, 1 + len(cols), sc, a.source, epoch, flags)]
        frames += [np.ascontiguousarray(x).tobytes() for x in arrays]
        sock.send_multipart(frames)
        sent += n
    sock.close()
    ctx.term()
    print(f"sent {sent} events")


if __name__ == "__main__":
    main()
