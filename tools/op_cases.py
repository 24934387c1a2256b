# op_cases.py: the cases of the operator test zoo, one small function per model form, each listed
# with the opsets it is generated at (where the operator's definition changed along the way).
"""Every case keeps the batch as the first dimension of every graph input and output: Transpose
and Concat never move or join axis 0, Flatten splits at axis >= 1, Gather and Slice index other
axes. LATEST stands for the newest opset both onnx and onnxruntime accept (make_op_tests.py)."""
import numpy as np
from onnx import TensorProto as T
from onnx import numpy_helper

LATEST = "latest"
I64_MAX = np.iinfo(np.int64).max
I64_MIN = np.iinfo(np.int64).min


def i64(*v):
    return np.array(v, dtype=np.int64)


# ---- Gemm and MatMul -----------------------------------------------------------------------------
def gemm_transb_bias(g):
    k, m = g.dim(1, 40), g.dim(1, 40)
    g.node("Gemm", [g.input("x", [k]), g.weight("w", [m, k]), g.weight("b", [m])],
           [g.output("y")], transB=1)


def gemm_alpha_beta_rowbias(g):
    k, m = g.dim(1, 24), g.dim(1, 24)
    g.node("Gemm", [g.input("x", [k]), g.weight("w", [k, m]), g.weight("c", [1, m])],
           [g.output("y")], alpha=0.7, beta=1.3)


def gemm_scalar_bias(g):
    k, m = g.dim(1, 24), g.dim(1, 24)
    g.node("Gemm", [g.input("x", [k]), g.weight("w", [m, k]), g.weight("c", [1])],
           [g.output("y")], transB=1, beta=0.5)


def gemm_no_bias(g):
    k, m = g.dim(1, 24), g.dim(1, 24)
    g.node("Gemm", [g.input("x", [k]), g.weight("w", [k, m])], [g.output("y")], alpha=2.0)


def gemm_full_bias_input(g):
    k, m = g.dim(1, 16), g.dim(1, 16)
    g.node("Gemm", [g.input("x", [k]), g.weight("w", [m, k]), g.input("c", [m])],
           [g.output("y")], transB=1, beta=-1.0)


def gemm_transa(g):
    k, m = g.dim(1, 16), g.dim(1, 16)
    xt = g.node("Transpose", [g.input("x", [k])], ["xt"], perm=[1, 0])
    g.node("Gemm", [xt, g.weight("w", [m, k]), g.weight("b", [m])], [g.output("y")], transA=1,
           transB=1)


def matmul_2d(g):
    k, m = g.dim(1, 32), g.dim(1, 32)
    g.node("MatMul", [g.input("x", [k]), g.weight("w", [k, m])], [g.output("y")])


def matmul_3d(g):
    s, k, m = g.dim(1, 6), g.dim(1, 16), g.dim(1, 16)
    g.node("MatMul", [g.input("x", [s, k]), g.weight("w", [k, m])], [g.output("y")])


def matmul_batched(g):
    s, k, m = g.dim(1, 6), g.dim(1, 8), g.dim(1, 8)
    g.node("MatMul", [g.input("a", [s, k]), g.input("b", [k, m])], [g.output("y")])


def matmul_broadcast(g):
    a, s, k, m = g.dim(2, 4), g.dim(1, 5), g.dim(1, 8), g.dim(1, 8)
    g.node("MatMul", [g.input("x", [a, s, k]), g.weight("w", [a, k, m])], [g.output("y")])


# ---- Element-wise binary with numpy broadcasting ---------------------------------------------------
def binary(op, pattern, special=False):
    kind = "nonzero" if op == "Div" else "normal"
    kind = "special" if special else kind

    def build(g):
        a, b = g.dim(1, 7), g.dim(1, 9)
        if pattern == "same":
            ins = [g.input("x", [a, b], kind), g.input("z", [a, b], kind)]
        elif pattern == "row":
            w = g.rng.standard_normal(b)
            w = np.sign(w) * (np.abs(w) + 0.5) if op == "Div" else w
            ins = [g.input("x", [a, b]), g.init("c", w.astype(np.float32))]
        elif pattern == "outer":
            ins = [g.input("x", [a, 1]), g.input("z", [1, b], kind)]
        else:  # "lhs_const": a constant [a, b] on the left, the input broadcast from [N, 1, b]
            ins = [g.weight("c", [a, b]), g.input("z", [1, b], kind)]
        g.node(op, ins, [g.output("y")])

    return build


# ---- Element-wise unary -------------------------------------------------------------------------
def unary(op, kind="normal", scale=1.0, rank=2, **attrs):
    def build(g):
        shape = [g.dim(1, 8) for _ in range(rank)]
        g.node(op, [g.input("x", shape, kind, scale)], [g.output("y")], **attrs)

    return build


def softmax(rank, axis=None, kind="normal"):
    def build(g):
        shape = [g.dim(1, 7) for _ in range(rank)]
        attrs = {} if axis is None else {"axis": axis}
        g.node("Softmax", [g.input("x", shape, kind, scale=3.0)], [g.output("y")], **attrs)

    return build


def clip(lo, hi, kind="normal"):
    def build(g):
        ins = [g.input("x", [g.dim(1, 8), g.dim(1, 8)], kind, scale=2.0)]
        ins.append("" if lo is None else g.init("lo", np.float32(lo)))
        ins.append("" if hi is None else g.init("hi", np.float32(hi)))
        while ins[-1] == "":
            ins.pop()
        g.node("Clip", ins, [g.output("y")])

    return build


# ---- Convolution and pooling ----------------------------------------------------------------------
def conv(spatial, group=1, bias=True, **attrs):
    def build(g):
        cin_g, cout_g = g.dim(1, 3), g.dim(1, 3)
        cin, cout = cin_g * group, cout_g * group
        kernel = [g.dim(1, 4) for _ in range(spatial)]
        size = [g.dim(6, 14) for _ in range(spatial)]
        ins = [g.input("x", [cin] + size), g.weight("w", [cout, cin_g] + kernel, scale=0.5)]
        if bias:
            ins.append(g.weight("b", [cout]))
        g.node("Conv", ins, [g.output("y")], kernel_shape=kernel, group=group, **attrs)

    return build


def conv_mdt_like(g):
    g.node("Conv", [g.input("x", [1, 216]), g.weight("w", [12, 1, 24], 0.2), g.weight("b", [12])],
           [g.output("y")], kernel_shape=[24], pads=[11, 12])


def pool(op, spatial, kernel, kind="normal", **attrs):
    def build(g):
        c = g.dim(1, 4)
        size = [g.dim(max(kernel) + 2, 12) for _ in range(spatial)]
        g.node(op, [g.input("x", [c] + size, kind)], [g.output("y")], kernel_shape=kernel, **attrs)
        if op == "MaxPool" and kind == "special":
            g.expect = lambda xs: [maxpool_nan(xs[0], kernel, **attrs)]

    return build


def maxpool_nan(x, kernel, strides=None, pads=None, dilations=None):
    """MaxPool as ngt defines it: NaN when the window holds a NaN, else the window's largest
    value (-inf when all are -inf). ONNX Runtime's result for a NaN depends on its kernel path
    (the 1-d loop skips NaN, the 2-d MLAS kernel keeps or drops it by position) and it gives
    -FLT_MAX for some windows of -inf, so these cases are checked against this function."""
    s = len(kernel)
    strides = strides or [1] * s
    dilations = dilations or [1] * s
    pads = pads or [0] * (2 * s)
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(pads[d], pads[d + s]) for d in range(s)],
                constant_values=np.nan)
    pad = np.pad(np.zeros(x.shape, bool), [(0, 0), (0, 0)] + [(pads[d], pads[d + s]) for d in range(s)],
                 constant_values=True)
    out = [(xp.shape[2 + d] - (kernel[d] - 1) * dilations[d] - 1) // strides[d] + 1 for d in range(s)]
    y = np.empty(x.shape[:2] + tuple(out), np.float32)
    for o in np.ndindex(*out):
        sl = tuple(slice(o[d] * strides[d], o[d] * strides[d] + (kernel[d] - 1) * dilations[d] + 1,
                         dilations[d]) for d in range(s))
        w = xp[(slice(None), slice(None)) + sl].reshape(x.shape[0], x.shape[1], -1)
        inside = ~pad[(slice(None), slice(None)) + sl].reshape(x.shape[0], x.shape[1], -1)
        has_nan = (np.isnan(w) & inside).any(axis=2)
        mx = np.where(inside, np.nan_to_num(w, nan=-np.inf, posinf=np.inf, neginf=-np.inf),
                      -np.inf).max(axis=2)
        y[(slice(None), slice(None)) + o] = np.where(has_nan, np.nan, mx)
    return y


def batchnorm(spatial, epsilon=None):
    def build(g):
        c = g.dim(1, 6)
        size = [g.dim(1, 8) for _ in range(spatial)]
        ins = [g.input("x", [c] + size), g.weight("scale", [c]), g.weight("bias", [c]),
               g.weight("mean", [c]), g.weight("var", [c], positive=True)]
        attrs = {} if epsilon is None else {"epsilon": epsilon}
        g.node("BatchNormalization", ins, [g.output("y")], **attrs)

    return build


def batchnorm_special(g):
    c, w = g.dim(1, 6), g.dim(1, 8)
    ins = [g.input("x", [c, w], "special"), g.weight("scale", [c]), g.weight("bias", [c]),
           g.weight("mean", [c]), g.weight("var", [c], positive=True)]
    g.node("BatchNormalization", ins, [g.output("y")])


def matmul_special(g):
    k, m = g.dim(1, 32), g.dim(1, 32)
    g.node("MatMul", [g.input("x", [k], "special"), g.weight("w", [k, m])], [g.output("y")])


# ---- Shapes and indexing --------------------------------------------------------------------------
def flatten(rank, axis=None):
    def build(g):
        attrs = {} if axis is None else {"axis": axis}
        shape = [g.dim(1, 5) for _ in range(rank)]
        g.node("Flatten", [g.input("x", shape)], [g.output("y")], **attrs)

    return build


def reshape(target, **attrs):
    """target(a, b, c) gives the new shape for an input [N, a, b, c]."""

    def build(g):
        a, b, c = g.dim(1, 4), g.dim(1, 4), g.dim(1, 4)
        g.node("Reshape", [g.input("x", [a, b, c]), g.init("shape", i64(*target(a, b, c)))],
               [g.output("y")], **attrs)

    return build


def transpose(perm):
    def build(g):
        shape = [g.dim(1, 5) for _ in range(len(perm) - 1)]
        g.node("Transpose", [g.input("x", shape)], [g.output("y")], perm=perm)

    return build


def concat_inputs(g):
    a, b, c = g.dim(1, 4), g.dim(1, 5), g.dim(1, 5)
    g.node("Concat", [g.input("x", [a, b]), g.input("z", [a, c])], [g.output("y")], axis=-1)


def concat_computed(g):
    """Concat of an input and a value computed from another input (an initializer cannot be
    joined: it has no batch dimension and Concat does not broadcast)."""
    a, b, c = g.dim(1, 4), g.dim(1, 5), g.dim(1, 5)
    s = g.node("Sigmoid", [g.input("z", [c, b])], ["s"])
    g.node("Concat", [g.input("x", [a, b]), s], [g.output("y")], axis=1)


def concat_three(g):
    a, b = g.dim(1, 4), g.dim(1, 4)
    ins = [g.input(f"x{i}", [a, g.dim(1, 4), b]) for i in range(3)]
    g.node("Concat", ins, [g.output("y")], axis=2)


def slice_(starts, ends, axes=None, steps=None):
    def build(g):
        shape = [g.dim(4, 9), g.dim(4, 9)]
        ins = [g.input("x", shape), g.init("starts", i64(*starts)), g.init("ends", i64(*ends))]
        if axes is not None:
            ins.append(g.init("axes", i64(*axes)))
        if steps is not None:
            ins.append(g.init("steps", i64(*steps)))
        g.node("Slice", ins, [g.output("y")])

    return build


def gather(axis, indices, dtype=np.int64):
    def build(g):
        shape = [g.dim(4, 7), g.dim(4, 7)]
        g.node("Gather", [g.input("x", shape), g.init("idx", np.array(indices, dtype=dtype))],
               [g.output("y")], axis=axis)

    return build


# ---- Types and constants --------------------------------------------------------------------------
def cast(to, kind="normal"):
    def build(g):
        x = g.input("x", [g.dim(1, 8), g.dim(1, 6)], kind, scale=10.0)
        g.node("Cast", [x], [g.output("y", to)], to=to)

    return build


def cast_roundtrip(g):
    c = g.node("Cast", [g.input("x", [g.dim(1, 8)], scale=10.0)], ["c"], to=T.INT32)
    g.node("Cast", [c], [g.output("y")], to=T.FLOAT)


def castlike(dtype, elem):
    def build(g):
        g.node("CastLike", [g.input("x", [g.dim(1, 8)], scale=10.0),
                            g.init("like", np.zeros(1, dtype=dtype))], [g.output("y", elem)])

    return build


def constant(attr):
    def build(g):
        b = g.dim(1, 6)
        if attr == "value":
            v = numpy_helper.from_array(g.rng.standard_normal(b).astype(np.float32), "v")
            c = g.node("Constant", [], ["c"], value=v)
        elif attr == "value_float":
            c = g.node("Constant", [], ["c"], value_float=float(g.rng.standard_normal()))
        else:
            c = g.node("Constant", [], ["c"],
                       value_floats=[float(v) for v in g.rng.standard_normal(b)])
        g.node("Mul", [g.input("x", [g.dim(1, 4), b]), c], [g.output("y")])

    return build


# ---- Few-node models ------------------------------------------------------------------------------
def gemm_act(act, kind="special", **attrs):
    """Gemm and an activation genc fuses into it (Relu, LeakyRelu, Clip)."""

    def build(g):
        k, m = g.dim(1, 24), g.dim(1, 40)
        h = g.node("Gemm", [g.input("x", [k], kind), g.weight("w", [m, k]), g.weight("b", [m])],
                   ["h"], transB=1)
        ins = [h]
        if act == "Clip":
            ins += ["" if attrs.get("lo") is None else g.init("lo", np.float32(attrs["lo"])),
                    "" if attrs.get("hi") is None else g.init("hi", np.float32(attrs["hi"]))]
            while ins[-1] == "":
                ins.pop()
            attrs.clear()
        g.node(act, ins, [g.output("y")], **attrs)

    return build


def conv_relu(kind="special"):
    def build(g):
        cin, cout, s = g.dim(1, 3), g.dim(1, 6), g.dim(6, 12)
        h = g.node("Conv", [g.input("x", [cin, s, s], kind), g.weight("w", [cout, cin, 3, 3], 0.4),
                            g.weight("b", [cout])], ["h"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
        g.node("Relu", [h], [g.output("y")])

    return build


def mlp(g, kind="normal"):
    k, h, m = g.dim(4, 40), g.dim(4, 32), g.dim(1, 16)
    x = g.input("x", [k], kind)
    h1 = g.node("Gemm", [x, g.weight("w1", [h, k], 0.3), g.weight("b1", [h])], ["h1"], transB=1)
    r = g.node("Relu", [h1], ["r"])
    z = g.node("Gemm", [r, g.weight("w2", [m, h], 0.3), g.weight("b2", [m])], ["z"], transB=1)
    g.node("Sigmoid", [z], [g.output("y")])


def cnn(g):
    c, s = g.dim(1, 3), g.dim(6, 10)
    x = g.input("x", [c, s, s])
    h = g.node("Conv", [x, g.weight("w", [4, c, 3, 3], 0.4), g.weight("b", [4])], ["h"],
               kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    bn = g.node("BatchNormalization", [h, g.weight("sc", [4]), g.weight("sh", [4]),
                                       g.weight("mu", [4]), g.weight("var", [4], positive=True)],
                ["bn"])
    r = g.node("Relu", [bn], ["r"])
    p = g.node("MaxPool", [r], ["p"], kernel_shape=[2, 2], strides=[2, 2])
    f = g.node("Flatten", [p], ["f"])
    d = 4 * (s // 2) * (s // 2)
    z = g.node("Gemm", [f, g.weight("wd", [5, d], 0.2), g.weight("bd", [5])], ["z"], transB=1)
    g.node("Softmax", [z], [g.output("y")], axis=1)


def residual(g):
    k = g.dim(2, 16)
    x = g.input("x", [k])
    h = g.node("Gemm", [x, g.weight("w", [k, k], 0.3), g.weight("b", [k])], ["h"], transB=1)
    t = g.node("Tanh", [h], ["t"])
    g.node("Add", [t, x], [g.output("y")])


def two_outputs(g):
    a, b = g.dim(1, 6), g.dim(1, 6)
    x = g.input("x", [a, b])
    g.node("Exp", [x], [g.output("e")])
    t = g.node("Transpose", [x], ["t"], perm=[0, 2, 1])
    g.node("LeakyRelu", [t], [g.output("l")], alpha=0.2)


def reshape_matmul(g):
    a, b, m = g.dim(1, 4), g.dim(1, 4), g.dim(1, 8)
    x = g.input("x", [a, b])
    f = g.node("Reshape", [x, g.init("shape", i64(0, a * b))], ["f"])
    g.node("MatMul", [f, g.weight("w", [a * b, m])], [g.output("y")])


# ---- The list: (name, builder, opsets) ------------------------------------------------------------
def cases():
    out = [
        ("gemm_transb_bias", gemm_transb_bias, [11, 13, LATEST]),
        ("gemm_alpha_beta_rowbias", gemm_alpha_beta_rowbias, [11, 13]),
        ("gemm_scalar_bias", gemm_scalar_bias, [11, 13]),
        ("gemm_no_bias", gemm_no_bias, [11, 13]),
        ("gemm_full_bias_input", gemm_full_bias_input, [11, 13]),
        ("gemm_transa", gemm_transa, [11, 13]),
        ("matmul_2d", matmul_2d, [11, 13]),
        ("matmul_3d", matmul_3d, [13]),
        ("matmul_batched", matmul_batched, [11, 13]),
        ("matmul_broadcast", matmul_broadcast, [13]),
    ]
    opsets = [11, 13, 14, LATEST]
    for op in ("Add", "Sub", "Mul", "Div"):
        for i, pattern in enumerate(("same", "row", "outer", "lhs_const")):
            out.append((f"{op.lower()}_{pattern}", binary(op, pattern), [opsets[i]]))
    out += [
        ("relu", unary("Relu", rank=3), [11, 14]),
        ("leakyrelu", unary("LeakyRelu", alpha=0.1), [11, 16]),
        ("leakyrelu_default", unary("LeakyRelu"), [16]),
        ("elu", unary("Elu", alpha=0.7, rank=3), [11, 22]),
        ("elu_default", unary("Elu"), [11]),
        ("sigmoid", unary("Sigmoid", scale=4.0), [11, 13]),
        ("tanh", unary("Tanh", scale=2.0), [11, 13]),
        ("exp", unary("Exp", scale=2.0), [11, 13]),
        ("log", unary("Log", "positive", 3.0), [11, 13]),
        ("sqrt", unary("Sqrt", "positive", 3.0), [11, 13]),
        ("round", unary("Round", "halves", 3.0), [11, 22]),
        ("identity", unary("Identity", rank=3), [11, 16, LATEST]),
        ("softmax_2d_axis1", softmax(1, 1), [11, 13]),
        ("softmax_3d_default", softmax(2), [11, 13]),
        ("softmax_3d_axis1", softmax(2, 1), [11, 13]),
        ("softmax_4d_axis2", softmax(3, 2), [11, 13]),
        ("softmax_3d_axis_neg2", softmax(2, -2), [13]),
        ("clip_min_max", clip(-0.5, 0.8), [11, 13]),
        ("clip_min", clip(0.0, None), [11]),
        ("clip_max", clip(None, 0.25), [13]),
        ("clip_none", clip(None, None), [13]),
        ("conv1d", conv(1, pads=[1, 1]), [11, 22]),
        ("conv1d_no_bias", conv(1, bias=False), [11]),
        ("conv1d_stride_dil_asym", conv(1, pads=[1, 2], strides=[2], dilations=[2]), [11, 22]),
        ("conv1d_group", conv(1, group=2, pads=[0, 1]), [11]),
        ("conv1d_mdt_like", conv_mdt_like, [17]),
        ("conv2d", conv(2, pads=[1, 1, 1, 1]), [11, 22]),
        ("conv2d_stride_dil_pad", conv(2, pads=[1, 0, 2, 1], strides=[2, 1], dilations=[1, 2]),
         [11]),
        ("conv2d_group3", conv(2, group=3, bias=False, pads=[1, 1, 1, 1]), [13]),
        ("maxpool1d", pool("MaxPool", 1, [3], strides=[2], pads=[1, 1]), [11, 12]),
        ("maxpool1d_dilated", pool("MaxPool", 1, [2], dilations=[2]), [12]),
        ("maxpool2d", pool("MaxPool", 2, [2, 2], strides=[2, 2]), [11, 22]),
        ("maxpool2d_ceil_pad", pool("MaxPool", 2, [3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                    ceil_mode=1), [11]),
        ("avgpool1d", pool("AveragePool", 1, [3], pads=[1, 1]), [11, 19]),
        ("avgpool1d_count_pad", pool("AveragePool", 1, [3], pads=[1, 1], count_include_pad=1),
         [19]),
        ("avgpool2d", pool("AveragePool", 2, [2, 3], strides=[2, 1], pads=[0, 1, 0, 1]),
         [11, 22]),
        ("batchnorm_2d", batchnorm(0), [15]),
        ("batchnorm_3d", batchnorm(1, 1e-3), [11]),
        ("batchnorm_4d", batchnorm(2), [14]),
        ("flatten_default", flatten(3), [11, 13, 21]),
        ("flatten_axis_neg", flatten(3, -3), [13]),
        ("flatten_axis1", flatten(3, 1), [21]),
        ("reshape_copy_dim", reshape(lambda a, b, c: (0, -1)), [11, 13]),
        ("reshape_infer_batch", reshape(lambda a, b, c: (-1, a * b, c)), [14]),
        ("reshape_allowzero0", reshape(lambda a, b, c: (0, 0, -1), allowzero=0), [14]),
        ("reshape_split", reshape(lambda a, b, c: (0, a, -1)), [21]),
        ("transpose_021", transpose([0, 2, 1]), [11]),
        ("transpose_0312", transpose([0, 3, 1, 2]), [13]),
        ("transpose_0231", transpose([0, 2, 3, 1]), [21]),
        ("concat_inputs", concat_inputs, [11, 13]),
        ("concat_computed", concat_computed, [13]),
        ("concat_three", concat_three, [11]),
        ("slice_basic", slice_([1], [3], [1]), [11, 13]),
        ("slice_steps", slice_([0, 1], [I64_MAX, -1], [2, 1], [2, 3]), [13]),
        ("slice_negative_step", slice_([-1], [I64_MIN], [-1], [-1]), [13]),
        ("slice_neg_axis_clamp", slice_([-3], [100], [-2]), [11]),
        ("slice_no_axes", slice_([0, 1, 0], [I64_MAX, 3, 2]), [13]),
        ("gather_axis1", gather(1, [3, 0, 1, 3]), [11, 13]),
        ("gather_axis2_2d", gather(2, [[0, 1], [2, -1]]), [13]),
        ("gather_scalar", gather(1, 2), [11]),
        ("gather_int32", gather(2, [-4, 2, 0], np.int32), [13]),
        ("cast_double", cast(T.DOUBLE), [13]),
        ("cast_int32", cast(T.INT32), [13, 19]),
        ("cast_int64", cast(T.INT64), [21]),
        ("cast_bool", cast(T.BOOL, "sparse"), [13]),
        ("cast_roundtrip", cast_roundtrip, [13, 19]),
        ("castlike_int32", castlike(np.int32, T.INT32), [15]),
        ("castlike_double", castlike(np.float64, T.DOUBLE), [19]),
        ("castlike_float", castlike(np.float32, T.FLOAT), [21]),
        ("constant_value", constant("value"), [11, 13]),
        ("constant_value_float", constant("value_float"), [13]),
        ("constant_value_floats", constant("value_floats"), [21]),
        ("mlp", mlp, [11, 17]),
        ("cnn", cnn, [13]),
        ("residual", residual, [14]),
        ("two_outputs", two_outputs, [13]),
        ("reshape_matmul", reshape_matmul, [14]),
    ]
    # Fed NaN and +-inf (kind "special"): ONNX Runtime's NaN and infinity semantics, op by op.
    s = "special"
    out += [
        ("nan_relu", unary("Relu", s, rank=3), [14]),
        ("nan_leakyrelu", unary("LeakyRelu", s, alpha=0.1), [16]),
        ("nan_elu", unary("Elu", s, alpha=0.7), [13]),
        ("nan_sigmoid", unary("Sigmoid", s), [13]),
        ("nan_tanh", unary("Tanh", s), [13]),
        ("nan_exp", unary("Exp", s), [13]),
        ("nan_log", unary("Log", s), [13]),
        ("nan_sqrt", unary("Sqrt", s), [13]),
        ("nan_round", unary("Round", s), [13]),
        ("nan_identity", unary("Identity", s), [13]),
        ("nan_clip_min_max", clip(-0.5, 0.8, s), [13]),
        ("nan_clip_min", clip(0.0, None, s), [13]),
        ("nan_clip_max", clip(None, 0.25, s), [13]),
        ("nan_clip_none", clip(None, None, s), [13]),
        ("nan_softmax_2d", softmax(1, 1, s), [13]),
        ("nan_softmax_3d_axis1", softmax(2, 1, s), [13]),
        ("nan_avgpool2d", pool("AveragePool", 2, [2, 2], s, strides=[2, 2], pads=[0, 1, 0, 1]),
         [13]),
        ("nan_maxpool1d", pool("MaxPool", 1, [3], s, strides=[2], pads=[1, 1]), [13]),
        ("nan_maxpool2d", pool("MaxPool", 2, [2, 2], s, strides=[2, 2], pads=[1, 1, 1, 1]), [13]),
        ("nan_batchnorm", batchnorm_special, [14]),
        ("nan_gemm_relu", gemm_act("Relu"), [13]),
        ("nan_gemm_leakyrelu", gemm_act("LeakyRelu", alpha=0.2), [16]),
        ("nan_gemm_clip", gemm_act("Clip", lo=0.0, hi=6.0), [13]),
        ("nan_gemm_clip_max", gemm_act("Clip", hi=1.0), [13]),
        ("nan_conv_relu", conv_relu(), [13]),
        ("nan_matmul", matmul_special, [13]),
        ("nan_mlp", lambda g: mlp(g, s), [13]),
    ]
    for op in ("Add", "Sub", "Mul", "Div"):
        out.append((f"nan_{op.lower()}", binary(op, "same", True), [13]))
    return out
