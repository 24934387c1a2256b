"""npy.py: a minimal .npy reader for the CLI tests (no numpy needed): returns (dtype, shape, values)."""
import ast, struct

CODES = {"<f4": "f", "<f8": "d", "|i1": "b", "<i2": "h", "<i4": "i", "<i8": "q", "|u1": "B",
         "<u2": "H", "<u4": "I", "<u8": "Q", "|b1": "?"}

def read(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path + ": not a .npy file"
    major = data[6]
    if major == 1:
        hlen, off = struct.unpack("<H", data[8:10])[0], 10
    else:
        hlen, off = struct.unpack("<I", data[8:12])[0], 12
    header = ast.literal_eval(data[off:off + hlen].decode("latin1"))
    assert not header["fortran_order"]
    code = CODES[header["descr"]]
    shape = tuple(header["shape"])
    count = 1
    for d in shape:
        count *= d
    body = data[off + hlen:]
    values = struct.unpack("<%d%s" % (count, code), body[:count * struct.calcsize(code)])
    return header["descr"], shape, list(values)
