#!/usr/bin/env python3
# hls_models.py: the models the hls oracle converts: fad and mdt at their default precisions and
# seeded random models (Dense/Conv1D/Conv2D, tables, softmax, BatchNorm, Add, Concat, odd types).
"""Models, precision configurations and inputs for tools/hls_oracle.py (numpy + onnx only)."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N_RANDOM = 22
QMODES = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV"]
OMODES = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]


def name_config(model, default):
    """What hls4ml's config_from_*_model(granularity='name') writes for these layers: per layer
    every configurable type, 'auto' where hls4ml has no default, and the table settings."""
    import hls4ml
    backend = hls4ml.backends.get_backend("Vivado")
    cls_of = {"Gemm": "Dense", "Relu": "Activation", "Sigmoid": "Activation",
              "Tanh": "Activation", "Softmax": "Softmax", "BatchNormalization":
              "BatchNormalization", "Add": "Merge", "Concat": "Concatenate"}
    names = {model.graph.input[0].name: "InputLayer"}
    for nd in model.graph.node:
        if nd.op_type == "Conv":
            dims = len(nd.attribute[0].ints) if nd.attribute else 1
            names[nd.name] = "Conv1D" if len(next(a.ints for a in nd.attribute
                                                   if a.name == "kernel_shape")) == 1 else "Conv2D"
            del dims
        else:
            names[nd.name] = cls_of[nd.op_type]
    layers = {}
    for n, c in names.items():
        lc = backend.create_layer_class(hls4ml.model.layers.layer_map[c])
        entry = {}
        for a in lc.expected_attributes:
            if not a.configurable:
                continue
            if isinstance(a, hls4ml.model.attributes.TypeAttribute):
                k = a.name[:-2] if a.name.endswith("_t") else a.name
                entry.setdefault("Precision", {})[k] = "auto" if a.default is None else str(a.default)
            elif a.name != "reuse_factor":
                entry[a.name] = a.default
        layers[n] = entry
    return {"Model": {"Precision": {"default": default}, "ReuseFactor": 1, "Strategy": "Latency"},
            "LayerName": layers}


def canonical(root, name, default, n):
    m = onnx.load(os.path.join(root, "models", f"{name}.onnx"))
    x = np.load(os.path.join(root, "models", f"{name}.input.npy"))[:n]
    return name, m, name_config(m, default), x, False


# ---- random models ------------------------------------------------------------------------------

def rtype(rng, wlo, whi, ilo, ihi, modes=True):
    w = int(rng.integers(wlo, whi + 1))
    i = int(rng.integers(ilo, ihi + 1))
    if not modes or rng.uniform() < 0.3:
        return f"fixed<{w},{i}>"
    q = QMODES[int(rng.integers(len(QMODES)))]
    o = OMODES[int(rng.integers(len(OMODES)))]
    return f"fixed<{w},{i},{q},{o}>"


class Builder:
    def __init__(self, rng, in_shape):
        self.rng, self.nodes, self.inits, self.k = rng, [], [], 0
        self.shape = {"input": list(in_shape)}
        self.in_shape = in_shape

    def name(self, base):
        self.k += 1
        return f"{base}{self.k}"

    def init(self, name, a):
        self.inits.append(numpy_helper.from_array(a.astype(np.float32), name))
        return name

    def dense(self, x, n_out, scale=1.0):
        n_in = self.shape[x][0]
        nm = self.name("fc")
        w = self.rng.uniform(-scale, scale, (n_out, n_in)) / np.sqrt(n_in) * 2
        b = self.rng.uniform(-0.5, 0.5, n_out)
        self.nodes.append(helper.make_node("Gemm", [x, self.init(nm + ".w", w),
                                                    self.init(nm + ".b", b)], [nm], name=nm,
                                           transB=1))
        self.shape[nm] = [n_out]
        return nm

    def conv(self, x, c_out, k, pads):
        s = self.shape[x]
        nm = self.name("conv")
        kshape = [k] * (len(s) - 1)
        fan = s[0] * int(np.prod(kshape))
        w = self.rng.uniform(-1, 1, [c_out, s[0]] + kshape) / np.sqrt(fan) * 2
        b = self.rng.uniform(-0.3, 0.3, c_out)
        self.nodes.append(helper.make_node("Conv", [x, self.init(nm + ".w", w),
                                                    self.init(nm + ".b", b)], [nm], name=nm,
                                           kernel_shape=kshape, pads=pads))
        sp = [s[1 + d] + pads[d] + pads[d + len(kshape)] - k + 1 for d in range(len(kshape))]
        self.shape[nm] = [c_out] + sp
        return nm

    def act(self, x, op):
        nm = self.name(op.lower())
        kw = {"axis": -1} if op == "Softmax" else {}
        self.nodes.append(helper.make_node(op, [x], [nm], name=nm, **kw))
        self.shape[nm] = self.shape[x]
        return nm

    def bn(self, x):
        c = self.shape[x][0]
        nm = self.name("bn")
        r = self.rng
        ins = [x, self.init(nm + ".g", r.uniform(0.5, 1.5, c)),
               self.init(nm + ".b", r.uniform(-0.5, 0.5, c)),
               self.init(nm + ".m", r.uniform(-0.3, 0.3, c)),
               self.init(nm + ".v", r.uniform(0.5, 2.0, c))]
        self.nodes.append(helper.make_node("BatchNormalization", ins, [nm], name=nm,
                                           epsilon=1e-3))
        self.shape[nm] = self.shape[x]
        return nm

    def merge(self, op, a, b):
        nm = self.name("add" if op == "Add" else "concat")
        kw = {"axis": 1} if op == "Concat" else {}
        self.nodes.append(helper.make_node(op, [a, b], [nm], name=nm, **kw))
        s = list(self.shape[a])
        if op == "Concat":
            s[0] += self.shape[b][0]
        self.shape[nm] = s
        return nm

    def finish(self, y, name):
        out = self.nodes[-1].output[0]
        assert out == y
        g = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N"] + self.in_shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["N"] + self.shape[y])],
            initializer=self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.checker.check_model(m, full_check=True)
        return m


def random_net(rng, kind):
    acts = ["Relu", "Sigmoid", "Tanh"]
    if kind == "mlp":
        b = Builder(rng, [int(rng.integers(4, 25))])
        x = "input"
        for _ in range(int(rng.integers(2, 4))):
            x = b.dense(x, int(rng.integers(3, 21)))
            x = b.act(x, acts[int(rng.integers(3))])
            if rng.uniform() < 0.3:
                x = b.bn(x)
        x = b.dense(x, int(rng.integers(2, 9)))
        if rng.uniform() < 0.5:
            x = b.act(x, "Softmax")
    elif kind == "res":
        b = Builder(rng, [int(rng.integers(4, 17))])
        h = b.act(b.dense("input", int(rng.integers(4, 17))), "Relu")
        n = int(rng.integers(3, 13))
        x = b.merge("Add", b.dense(h, n), b.dense(h, n))
        x = b.act(x, acts[1 + int(rng.integers(2))])
    elif kind == "cat":
        b = Builder(rng, [int(rng.integers(4, 17))])
        a1 = b.act(b.dense("input", int(rng.integers(3, 11))), "Relu")
        a2 = b.act(b.dense("input", int(rng.integers(3, 11))), "Sigmoid")
        x = b.act(b.dense(b.merge("Concat", a1, a2), int(rng.integers(2, 7))), "Softmax")
    elif kind == "conv1d":
        c, w = int(rng.integers(1, 4)), int(rng.integers(8, 25))
        b = Builder(rng, [c, w])
        k = int(rng.choice([1, 3, 4, 5]))
        x = b.act(b.conv("input", int(rng.integers(2, 7)), k, [(k - 1) // 2, k // 2]), "Relu")
        if rng.uniform() < 0.4:
            x = b.bn(x)
        x = b.conv(x, int(rng.integers(1, 4)), 3, [1, 1])
        x = b.act(x, acts[1 + int(rng.integers(2))])
    else:  # conv2d
        c = int(rng.integers(1, 3))
        b = Builder(rng, [c, 6, 6])
        x = b.act(b.conv("input", int(rng.integers(2, 5)), 3, [1, 1, 1, 1]), "Relu")
        x = b.act(b.conv(x, int(rng.integers(1, 3)), 2, [0, 0, 0, 0]), acts[int(rng.integers(3))])
    return b.finish(x, kind), b.in_shape


def random_config(rng, model, default):
    cfg = name_config(model, default)
    L = cfg["LayerName"]
    L["input"]["Precision"]["result"] = rtype(rng, 8, 18, 2, 6)
    narrow = rng.uniform() < 0.6  # narrow saturating/rounding accumulators: order matters
    for nd in model.graph.node:
        e = L[nd.name]
        p = e.setdefault("Precision", {})
        if nd.op_type in ("Gemm", "Conv"):
            p["weight"] = rtype(rng, 6, 16, 1, 3)
            p["bias"] = rtype(rng, 6, 16, 1, 3)
            if narrow and rng.uniform() < 0.7:
                p["accum"] = rtype(rng, 10, 20, 3, 7)
            if rng.uniform() < 0.5:
                p["result"] = rtype(rng, 8, 20, 3, 8)
        elif nd.op_type in ("Sigmoid", "Tanh"):
            e["table_size"] = int(rng.choice([256, 512, 1024, 2048]))
            e["table_t"] = rtype(rng, 10, 18, 2, 8)
            p["result"] = rtype(rng, 8, 18, 1, 4)
        elif nd.op_type == "Softmax":
            e["implementation"] = str(rng.choice(["stable", "latency"]))
            e["table_size"] = int(rng.choice([256, 512, 1024]))
            e["exp_table_t"] = "ap_fixed<18,8,AP_RND,AP_SAT>"
            e["inv_table_t"] = "ap_fixed<18,8,AP_RND,AP_SAT>"
            p["result"] = rtype(rng, 10, 18, 1, 3)
        elif nd.op_type in ("Relu", "BatchNormalization", "Add", "Concat"):
            p["result"] = rtype(rng, 8, 18, 2, 7)
            if nd.op_type == "BatchNormalization":
                p["scale"] = rtype(rng, 8, 16, 2, 4)
                p["bias"] = rtype(rng, 8, 16, 2, 4)
    return cfg


def random_models():
    kinds = ["mlp", "res", "cat", "conv1d", "conv2d"]
    for k in range(N_RANDOM):
        rng = np.random.default_rng(9100 + k)
        kind = kinds[k % len(kinds)]
        model, in_shape = random_net(rng, kind)
        default = rtype(rng, 12, 20, 4, 7)
        cfg = random_config(rng, model, default)
        x = (rng.standard_normal((64, *in_shape)) * rng.uniform(0.5, 3)).astype(np.float32)
        yield f"rand{k:02d}_{kind}", model, cfg, x, True


def wide_output():
    """An MLP at fixed<24,8> whose last Dense keeps hls4ml's lossless 'auto' result (32
    fractional bits and more): outputs float32 cannot hold, for the NgtOutput = "f64" test."""
    rng = np.random.default_rng(9200)
    b = Builder(rng, [12])
    x = b.dense(b.act(b.dense("input", 10), "Relu"), 6)
    model = b.finish(x, "wide")
    x = (rng.standard_normal((64, 12)) * 2).astype(np.float32)
    return "wide_mlp", model, name_config(model, "fixed<24,8>"), x, True


def wide_tiled():
    """The same at fixed<22,8>: lossless results of 49 bits, within the tiled path's 51, with
    about 40 significant bits: the NgtOutput = "f64" test on the tiled path."""
    rng = np.random.default_rng(9210)
    b = Builder(rng, [12])
    x = b.dense(b.act(b.dense("input", 16), "Relu"), 8)
    model = b.finish(x, "widetiled")
    x = (rng.standard_normal((64, 12)) * 2).astype(np.float32)
    return "wide_tiled", model, name_config(model, "fixed<22,8>"), x, True


def all_models(root):
    yield canonical(root, "fad", "fixed<16,6>", 256)
    yield canonical(root, "mdt", "fixed<20,6>", 128)
    yield from random_models()
    yield wide_output()
    yield wide_tiled()
