# op_zoo.py: the machinery of the operator test zoo: a small graph builder that draws shapes,
# batch sizes and inputs from a per-case seed, and turns a case into an ONNX model plus its data.
"""Case builder for make_op_tests.py (see op_cases.py for the cases themselves).

A case is a function f(g) that declares graph inputs (per-event shapes; the batch dimension "N" is
added in front), initializers, nodes and outputs on a Graph g. The batch size is drawn
from 1..1024 (log-uniformly, or from sizes around tile boundaries), reduced when an event is large so that no input holds more than
MAX_ELEMS values.
"""
import zlib

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
MAX_ELEMS = 1 << 17
MAX_BATCH = 1024


class Graph:
    """What a case builds: inputs, initializers, nodes, outputs; and its random generator."""

    def __init__(self, rng, opset):
        self.rng = rng
        self.opset = opset
        self.inputs = []  # (name, per-event shape, kind, scale)
        self.inits = []
        self.nodes = []
        self.outputs = []  # (name, elem type)

    def dim(self, lo, hi):
        """A random dimension in [lo, hi]."""
        return int(self.rng.integers(lo, hi + 1))

    def input(self, name, shape, kind="normal", scale=1.0):
        """A float32 graph input [N, *shape]. kind: normal, positive (|x| + 0.1), nonzero (sign *
        (|x| + 0.5)), halves (multiples of 0.5, to test rounding of ties), sparse (about half exact zeros),
        special (normal with about 8% NaN, 4% +inf and 4% -inf, and one event in eight all -inf)."""
        self.inputs.append((name, [int(d) for d in shape], kind, scale))
        return name

    def init(self, name, value):
        """An initializer from a numpy array (its dtype is kept)."""
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, name, shape, scale=1.0, positive=False):
        """A float32 random initializer."""
        w = self.rng.standard_normal(shape) * scale
        if positive:
            w = np.abs(w) + 0.1
        return self.init(name, w.astype(np.float32))

    def node(self, op, ins, outs, **attrs):
        self.nodes.append(helper.make_node(op, list(ins), list(outs), **attrs))
        return outs[0] if len(outs) == 1 else outs

    def output(self, name, elem_type=F):
        self.outputs.append((name, elem_type))
        return name


def case_rng(seed, name):
    """Each case has its own generator, so adding or removing a case changes no other case."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


# Batch sizes around tile boundaries, drawn for one case in four (the rest log-uniform).
EDGE_BATCHES = [1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1023, 1024]


def draw_batch(rng, inputs):
    if rng.uniform() < 0.25:
        n = int(rng.choice(EDGE_BATCHES))
    else:
        n = int(np.floor(np.exp(rng.uniform(0.0, np.log(MAX_BATCH + 1)))))
    n = max(1, min(n, MAX_BATCH))
    biggest = max([int(np.prod(s)) for _, s, _, _ in inputs] + [1])
    return max(1, min(n, MAX_ELEMS // biggest))


def draw_input(rng, n, shape, kind, scale):
    x = rng.standard_normal([n] + shape) * scale
    if kind == "positive":
        x = np.abs(x) + 0.1
    elif kind == "nonzero":
        x = np.sign(x + (x == 0)) * (np.abs(x) + 0.5)
    elif kind == "halves":
        x = np.round(x * 2.0) / 2.0 + (rng.uniform(size=x.shape) < 0.5) * rng.uniform(
            -0.2, 0.2, size=x.shape)
    elif kind == "sparse":
        x = x * (rng.uniform(size=x.shape) < 0.5)
    elif kind == "special":
        u = rng.uniform(size=x.shape)
        x = np.where(u < 0.08, np.nan, np.where(u < 0.12, np.inf, np.where(u < 0.16, -np.inf, x)))
        x[rng.uniform(size=n) < 0.125] = -np.inf
    elif kind != "normal":
        raise ValueError(f"unknown input kind '{kind}'")
    return x.astype(np.float32)


def to_model(name, g, out_shapes):
    """The ONNX model of a built case; out_shapes are the outputs' shapes (first dim -> "N")."""
    ins = [helper.make_tensor_value_info(nm, F, ["N"] + s) for nm, s, _, _ in g.inputs]
    outs = [helper.make_tensor_value_info(nm, t, None if s is None else ["N"] + list(s[1:]))
            for (nm, t), s in zip(g.outputs, out_shapes)]
    graph = helper.make_graph(g.nodes, name, ins, outs, initializer=g.inits)
    opset = [helper.make_opsetid("", g.opset)]
    model = helper.make_model(graph, opset_imports=opset, producer_name="ngt-tools-make_op_tests")
    model.ir_version = helper.find_min_ir_version_for(opset)
    return model
