#!/usr/bin/env python3
# make_npy_fixtures.py: writes .npy files with numpy for the core_npy tests: one per dtype with
# values the test recomputes, the three format versions, and files ngt must refuse.
"""Usage: make_npy_fixtures.py DIR  (the committed copies live in tests/npy/data)."""
import os
import sys

import numpy as np

K = 0x9E3779B97F4A7C15  # the test computes element i as (i * K) mod 2**64, cast to the dtype


def ints(dtype, shape):
    n = int(np.prod(shape))
    u = np.array([(i * K) % 2**64 for i in range(n)], dtype=np.uint64)
    return u.astype(dtype).reshape(shape)


def floats(dtype, shape):
    n = int(np.prod(shape))
    return ((np.arange(n, dtype=np.float64) - 5.0) * 0.25).astype(dtype).reshape(shape)


def good(d):
    """Files ngt reads: name -> array (written with np.save, format 1.0)."""
    return {
        "f4": floats(np.float32, (4, 3)),
        "f8": floats(np.float64, (2, 3, 2)),
        "i1": ints(np.int8, (10,)),
        "i2": ints(np.int16, (3, 3)),
        "i4": ints(np.int32, (2, 1, 2, 1, 3)),
        "i8": ints(np.int64, (5, 2)),
        "u1": ints(np.uint8, (7,)),
        "u2": ints(np.uint16, (2, 4)),
        "u4": ints(np.uint32, (3, 2)),
        "u8": ints(np.uint64, (4,)),
        "b1": (np.arange(9) % 3 == 0).reshape(3, 3),
        "scalar": np.float32(2.5),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "wide": floats(np.float32, (1025, 2)),
    }


def bad():
    """Files ngt must refuse: name -> array."""
    return {
        "fortran": np.asfortranarray(floats(np.float32, (2, 3))),
        "bigendian": floats(np.dtype(">f4"), (3,)),
        "half": floats(np.float16, (3,)),
        "complex": np.zeros(3, dtype=np.complex64),
        "structured": np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]),
        "rank6": floats(np.float32, (1, 1, 1, 1, 1, 2)),
    }


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for name, a in list(good(d).items()) + list(bad().items()):
        np.save(os.path.join(d, f"{name}.npy"), a)
    for v in (2, 3):
        with open(os.path.join(d, f"v{v}.npy"), "wb") as f:
            np.lib.format.write_array(f, floats(np.float32, (4, 3)), version=(v, 0))


if __name__ == "__main__":
    main()
