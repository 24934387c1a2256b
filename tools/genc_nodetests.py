#!/usr/bin/env python3
# genc_nodetests.py: the ONNX backend node tests shipped inside the pinned onnx package, for the
# operators genc supports, converted for the genc_nodetests test: DIR/<test>/model.onnx,
# input_<k>.npy, output_<k>.npy (from test_data_set_0's TensorProto files) and DIR/cases.txt.
import argparse, glob, os, shutil, sys

import numpy as np
import onnx
from onnx import numpy_helper

# Operators genc supports (DESIGN.md section 6) and those the reader turns into them.
SUPPORTED = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh",
    "Softmax", "Conv", "MaxPool", "AveragePool", "BatchNormalization", "Flatten", "Reshape",
    "Transpose", "Concat", "Slice", "Gather", "Clip", "Cast", "CastLike", "Round", "Exp", "Log",
    "Sqrt", "Identity", "Constant", "Dropout", "Squeeze", "Unsqueeze",
}
DTYPES = {np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
          np.uint32, np.uint64, np.bool_}


def node_dir():
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")


def tensors(files):
    out = []
    for f in files:
        t = onnx.TensorProto()
        with open(f, "rb") as fh:
            t.ParseFromString(fh.read())
        try:
            out.append(numpy_helper.to_array(t))
        except (ValueError, TypeError):
            return None  # not a tensor (a sequence or an optional)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    cases = []
    for d in sorted(glob.glob(os.path.join(node_dir(), "test_*"))):
        name = os.path.basename(d)
        model = onnx.load(os.path.join(d, "model.onnx"))
        ops = {n.op_type for n in model.graph.node}
        if not ops or not ops <= SUPPORTED:
            continue
        if any(n.domain not in ("", "ai.onnx") for n in model.graph.node):
            continue
        ds = os.path.join(d, "test_data_set_0")
        ins = tensors(sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                             key=lambda p: int(p.split("_")[-1][:-3])))
        outs = tensors(sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                              key=lambda p: int(p.split("_")[-1][:-3])))
        if ins is None or outs is None:
            continue
        os.makedirs(os.path.join(args.out, name))
        shutil.copy(os.path.join(d, "model.onnx"), os.path.join(args.out, name, "model.onnx"))
        for kind, arrs in (("input", ins), ("output", outs)):
            for k, a in enumerate(arrs):
                if a.dtype.type in DTYPES:  # others (float16, strings) the reader refuses
                    np.save(os.path.join(args.out, name, "%s_%d.npy" % (kind, k)),
                            np.ascontiguousarray(a))
        cases.append(name)
    with open(os.path.join(args.out, "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")
    print("genc_nodetests: %d node tests of supported operators in %s" % (len(cases), args.out))


if __name__ == "__main__":
    sys.exit(main())
