#!/usr/bin/env python3
# make_models.py: builds the canonical models fad and mdt (DESIGN.md section 11) from onnx + numpy
# alone, with fixed seeds, and records reference inputs and ONNX Runtime outputs beside them.
"""Build the canonical ngt models and their reference inputs/outputs.

Writes, into --out (default: models/ next to this script's parent):
  fad.onnx         MLP 77 -> 32 -> 32 -> 32 -> 76, ReLU between, linear output (Gemm, transB=1)
  fad.input.npy    1024 events x 77 float32, physics-like (see docs/models.md)
  fad.output.npy   ONNX Runtime's outputs for fad.input.npy (CPU, 1 intra-op thread)
  mdt.onnx         Conv1D 12x24 'same' -> ReLU -> Conv1D 12x3 'same' -> ReLU -> Conv1D 1x1 -> Sigmoid,
                   briefly trained (mdt_train.py) to mark the channels of track segments
  mdt.input.npy    1024 events x 1 x 216 float32, hit-like (see docs/models.md)
  mdt.output.npy   ONNX Runtime's outputs for mdt.input.npy

Every run with the same seed writes identical bytes (--check verifies this by building twice).
"""
import argparse
import filecmp
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import mdt_train

OPSET = 17
IR_VERSION = 8
N_EVENTS = 1024
FAD_SIZES = [77, 32, 32, 32, 76]
MDT_WIDTH = 216
# (out_channels, in_channels, kernel, pad_begin, pad_end) per Conv1D layer of mdt.
MDT_LAYERS = [(12, 1, 24, 11, 12), (12, 12, 3, 1, 1), (1, 12, 1, 0, 0)]
MDT_PARAMS = 757
MDT_TRAIN_EVENTS = 256
MDT_TRAIN_STEPS = 120


def torch_default_init(rng, out_dim, fan_in, weight_shape):
    """torch.nn.Linear/Conv default: kaiming_uniform(a=sqrt(5)) weights and uniform bias, both
    U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / np.sqrt(fan_in)
    w = rng.uniform(-bound, bound, size=weight_shape).astype(np.float32)
    b = rng.uniform(-bound, bound, size=(out_dim,)).astype(np.float32)
    return w, b


def finish_model(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="ngt-tools-make_models")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def build_fad(rng):
    """The fad autoencoder-like MLP, weights in torch layout weight[out][in] (Gemm transB=1)."""
    nodes, inits = [], []
    x = "input"
    n_layers = len(FAD_SIZES) - 1
    for i in range(n_layers):
        fan_in, fan_out = FAD_SIZES[i], FAD_SIZES[i + 1]
        w, b = torch_default_init(rng, fan_out, fan_in, (fan_out, fan_in))
        wn, bn = f"fc{i + 1}.weight", f"fc{i + 1}.bias"
        inits += [numpy_helper.from_array(w, wn), numpy_helper.from_array(b, bn)]
        last = i == n_layers - 1
        y = "output" if last else f"fc{i + 1}"
        nodes.append(helper.make_node("Gemm", [x, wn, bn], [y], name=f"fc{i + 1}", alpha=1.0,
                                      beta=1.0, transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [y], [f"relu{i + 1}"], name=f"relu{i + 1}"))
            y = f"relu{i + 1}"
        x = y
    graph = helper.make_graph(
        nodes, "fad",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", FAD_SIZES[0]])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", FAD_SIZES[-1]])],
        initializer=inits)
    return finish_model(graph)


def mdt_params(rng, train_rng):
    """torch-default init, then a short seeded training run on events from train_rng (see
    mdt_train.py) so that the net marks the channels of track segments."""
    params = []
    for cout, cin, k, _, _ in MDT_LAYERS:
        w, b = torch_default_init(rng, cout, cin * k, (cout, cin, k))
        params += [w.astype(np.float64), b.astype(np.float64)]
    x, mask = mdt_inputs(train_rng, MDT_TRAIN_EVENTS)
    loss = mdt_train.train(params, MDT_LAYERS, x.astype(np.float64), mask, MDT_TRAIN_STEPS)
    print(f"mdt: trained {MDT_TRAIN_STEPS} steps on {MDT_TRAIN_EVENTS} events, loss {loss:.4f}")
    return [p.astype(np.float32) for p in params]


def build_mdt(params):
    """The mdt 1D CNN in NCW layout; 'same' padding written out as explicit pads."""
    nodes, inits = [], []
    x = "input"
    for i, (cout, cin, k, pb, pe) in enumerate(MDT_LAYERS):
        w, b = params[2 * i], params[2 * i + 1]
        wn, bn = f"conv{i + 1}.weight", f"conv{i + 1}.bias"
        inits += [numpy_helper.from_array(w, wn), numpy_helper.from_array(b, bn)]
        y = f"conv{i + 1}"
        nodes.append(helper.make_node("Conv", [x, wn, bn], [y], name=y, kernel_shape=[k],
                                      pads=[pb, pe], strides=[1], dilations=[1], group=1))
        last = i == len(MDT_LAYERS) - 1
        act, an = ("Sigmoid", "output") if last else ("Relu", f"relu{i + 1}")
        nodes.append(helper.make_node(act, [y], [an], name=f"{act.lower()}{i + 1}"))
        x = an
    graph = helper.make_graph(
        nodes, "mdt",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, MDT_WIDTH])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 1, MDT_WIDTH])],
        initializer=inits)
    return finish_model(graph)


def power_law(rng, size, pt_min, alpha, cap):
    """Falling spectrum dN/dpT ~ pT^-alpha above pt_min, capped at cap * pt_min."""
    u = rng.uniform(0.0, 1.0, size=size)
    pt = pt_min * (1.0 - u) ** (-1.0 / (alpha - 1.0))
    return np.minimum(pt, cap * pt_min)


def fad_inputs(rng, n):
    """77 non-negative features per event, in units of 100 GeV: four collections of 19 object pT
    slots (jets, e/gamma, muons, taus), each sorted leading first, zero where no object, and the
    missing transverse energy last. Multiplicities are Poisson; pT falls as pT^-4 above 20 GeV."""
    means = [6.0, 1.5, 1.0, 0.7]
    cols = []
    for mean in means:
        mult = np.minimum(rng.poisson(mean, size=n), 19)
        pt = power_law(rng, (n, 19), 0.2, 4.0, 50.0)
        pt = -np.sort(-pt, axis=1)
        pt[np.arange(19)[None, :] >= mult[:, None]] = 0.0
        cols.append(pt)
    met = rng.exponential(0.3, size=(n, 1))
    return np.concatenate(cols + [met], axis=1).astype(np.float32)


def mdt_inputs(rng, n):
    """216 channels per event: Poisson(6) noise hits of amplitude U(0.05, 1) at random channels,
    and in about half of the events a track-like segment of 6 to 24 adjacent channels with
    amplitude U(0.3, 1). Other channels are zero. Returns (hits float32, track mask float64)."""
    x = np.zeros((n, 1, MDT_WIDTH), dtype=np.float64)
    mask = np.zeros_like(x)
    for e in range(n):
        k = rng.poisson(6.0)
        ch = rng.integers(0, MDT_WIDTH, size=k)
        x[e, 0, ch] = rng.uniform(0.05, 1.0, size=k)
        if rng.uniform() < 0.5:
            length = int(rng.integers(6, 25))
            start = int(rng.integers(0, MDT_WIDTH - length + 1))
            x[e, 0, start:start + length] = rng.uniform(0.3, 1.0, size=length)
            mask[e, 0, start:start + length] = 1.0
    return x.astype(np.float32), mask


def run_ort(model, x):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    return sess.run(["output"], {"input": x})[0]


def n_params(model):
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer)


def save(out, name, model, x, seed_offset, seed):
    with open(os.path.join(out, f"{name}.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    y = run_ort(model, x)
    np.save(os.path.join(out, f"{name}.input.npy"), x)
    np.save(os.path.join(out, f"{name}.output.npy"), y)
    print(f"{name}: {n_params(model)} parameters, input {list(x.shape)}, output "
          f"{list(y.shape)}, seed {seed + seed_offset}")


def build_all(out, seed):
    os.makedirs(out, exist_ok=True)
    fad = build_fad(np.random.default_rng(seed))
    save(out, "fad", fad, fad_inputs(np.random.default_rng(seed + 1), N_EVENTS), 0, seed)
    params = mdt_params(np.random.default_rng(seed + 2), np.random.default_rng(seed + 4))
    mdt = build_mdt(params)
    if n_params(mdt) != MDT_PARAMS:
        sys.exit(f"make_models: mdt has {n_params(mdt)} parameters, expected {MDT_PARAMS}")
    x, _ = mdt_inputs(np.random.default_rng(seed + 3), N_EVENTS)
    save(out, "mdt", mdt, x, 2, seed)


FILES = [f"{m}{s}" for m in ("fad", "mdt") for s in (".onnx", ".input.npy", ".output.npy")]


def check_deterministic(out, seed):
    """Builds a second copy in a temporary directory and compares it byte for byte."""
    with tempfile.TemporaryDirectory() as tmp:
        build_all(tmp, seed)
        diff = [f for f in FILES
                if not filecmp.cmp(os.path.join(out, f), os.path.join(tmp, f), shallow=False)]
    if diff:
        sys.exit(f"make_models: not deterministic, these differ between two runs: {diff}")
    print("make_models: second build is byte-identical")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(root, "models"), help="output directory")
    ap.add_argument("--seed", type=int, default=20240, help="base seed (default 20240)")
    ap.add_argument("--check", action="store_true",
                    help="build a second time in a temporary directory and verify identical bytes")
    args = ap.parse_args()
    build_all(args.out, args.seed)
    if args.check:
        check_deterministic(args.out, args.seed)


if __name__ == "__main__":
    main()
