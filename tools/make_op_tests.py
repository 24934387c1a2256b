#!/usr/bin/env python3
# make_op_tests.py: writes the operator test zoo: small random ONNX models (op_cases.py) with
# inputs and ONNX Runtime's outputs, for the conformance tests of the ref and genc backends.
"""Generate the ngt operator test zoo.

For every case writes DIR/<case>/model.onnx, DIR/<case>/input_<k>.npy (k-th graph input, float32),
DIR/<case>/output_<k>.npy (k-th graph output, as ONNX Runtime computes it on the CPU with one
intra-op thread), and DIR/cases.txt (one case name per line, in generation order). Case names end
in _o<opset>. Every graph input and output has the batch as its first dimension, named "N".
The same seed always gives the same bytes.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import op_cases  # noqa: E402
import op_zoo  # noqa: E402


def session(model):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def latest_opset():
    """The newest opset that both the onnx package defines and onnxruntime runs."""
    for opset in range(onnx.defs.onnx_opset_version(), 10, -1):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1])
        g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = helper.find_min_ir_version_for([helper.make_opsetid("", opset)])
        try:
            session(m)
            return opset
        except Exception:  # onnxruntime refuses opsets newer than it knows
            continue
    sys.exit("make_op_tests: onnxruntime runs no opset >= 11")


def build_case(name, builder, opset, seed):
    """Returns (model, inputs, outputs) of one case; raises when the case breaks a format rule."""
    g = op_zoo.Graph(op_zoo.case_rng(seed, name), opset)
    builder(g)
    n = op_zoo.draw_batch(g.rng, g.inputs)
    xs = [op_zoo.draw_input(g.rng, n, s, kind, scale) for _, s, kind, scale in g.inputs]
    feeds = {nm: x for (nm, _, _, _), x in zip(g.inputs, xs)}
    probe = op_zoo.to_model(name, g, [None] * len(g.outputs))
    ys = session(probe).run([nm for nm, _ in g.outputs], feeds)
    for (nm, _), y in zip(g.outputs, ys):
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(f"{name}: output '{nm}' has shape {y.shape}, not batch {n} first")
    expect = getattr(g, "expect", None)  # the case's own expectation where ORT's is path-dependent
    if expect is not None:
        ys = expect(xs)
    model = op_zoo.to_model(name, g, [y.shape for y in ys])
    onnx.checker.check_model(model, full_check=True)
    return model, xs, ys


def write_case(out, name, model, xs, ys):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for k, x in enumerate(xs):
        np.save(os.path.join(d, f"input_{k}.npy"), x)
    for k, y in enumerate(ys):
        np.save(os.path.join(d, f"output_{k}.npy"), np.ascontiguousarray(y))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, metavar="DIR", help="output directory")
    ap.add_argument("--seed", type=int, default=1, help="seed of every case (default 1)")
    ap.add_argument("--list", action="store_true", help="print the case names and exit")
    args = ap.parse_args()
    latest = latest_opset()
    names, ops = [], set()
    for base, builder, opsets in op_cases.cases():
        for opset in opsets:
            opset = latest if opset == op_cases.LATEST else opset
            name = f"{base}_o{opset}"
            if args.list:
                print(name)
                continue
            model, xs, ys = build_case(name, builder, opset, args.seed)
            write_case(args.out, name, model, xs, ys)
            ops.update(nd.op_type for nd in model.graph.node)
            names.append(name)
    if args.list:
        return
    with open(os.path.join(args.out, "cases.txt"), "w") as f:
        f.write("".join(f"{nm}\n" for nm in names))
    print(f"make_op_tests: {len(names)} cases, {len(ops)} operators, opsets 11..{latest}, "
          f"in {args.out}")


if __name__ == "__main__":
    main()
