#!/usr/bin/env python3
# hls_oracle.py: converts ONNX models with hls4ml (pinned, from PyPI) as its PyTorch front end
# would, records predict() outputs and the resolved per-layer types as goldens for tests/hls.
"""Record hls4ml's bit-exact outputs for the hls backend's tests.

  ~/.cache/ngt/venv/bin/python tools/hls_oracle.py [--out tests/hls/data/models] [--only NAME] [--wide]

For each model (the canonical fad and mdt, and the random models of hls_models.py) writes
OUT/NAME/: config.json (the precision configuration, hls4ml's shape), input.npy, output.npy
(predict(), float64, in the ONNX model's layout), types.json (the types hls4ml resolved per layer,
'auto' included) and pinned.json (hls4ml version, backend, io type, strategy). Random models also
get model.onnx. --wide shows that each conversion is faithful: it converts the model at
ap_fixed<60,30> everywhere, with each lookup-table activation (sigmoid, tanh, softmax: hls4ml's own
functions, exact only to their table step) swapped for ReLU, and compares with the same model
evaluated in float64 by onnx's reference evaluator: max |diff| <= 1e-6, else exit status 1.

hls4ml's PyTorch front end needs torch, whose PyPI wheel loads CUDA libraries at import; this
script builds the same layer dictionaries that front end's handlers build (Dense from
nn.Linear with torch-layout weights, Conv1D/Conv2D channels_first, Activation, Softmax,
BatchNormalization, Merge 'add', Concatenate) and hands them to ModelGraph.from_layer_list,
as pytorch_to_hls() does, with the configuration config_from_pytorch_model() writes.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import hls_models  # noqa: E402

PINNED = {"hls4ml": "1.3.0", "backend": "Vivado", "io_type": "io_parallel", "strategy": "Latency",
          "front_end": "PyTorch layer dictionaries (pytorch_to_hls)", "channels_last": "full"}


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def layer_list(model):
    """hls4ml layer dictionaries for an ONNX graph of the supported subset."""
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    shapes = {}
    inp = g.input[0]
    dims = [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]]
    # the input layer is 'x', as torch.fx names forward(self, x)'s placeholder ('input' is
    # reserved in hls4ml); the configuration's entry for the ONNX input name is moved to it
    layers = [{"name": "x", "class_name": "InputLayer", "input_shape": dims}]
    shapes[inp.name] = dims
    producer = {inp.name: "x"}
    for nd in g.node:
        ins = [producer[x] for x in nd.input if x in producer]
        s = shapes[nd.input[0]]
        L = {"name": nd.name, "inputs": ins}
        if nd.op_type == "Gemm":
            w, b = inits[nd.input[1]], inits[nd.input[2]]
            L.update(class_name="Dense", weight_data=w, bias_data=b, n_in=w.shape[1],
                     n_out=w.shape[0], use_bias=True)
            out = [w.shape[0]]
        elif nd.op_type == "Conv":
            w, b = inits[nd.input[1]], inits[nd.input[2]]
            pads = list(attr(nd, "pads"))
            if w.ndim == 3:
                L.update(class_name="Conv1D", data_format="channels_first", weight_data=w,
                         bias_data=b, in_width=s[1], n_chan=s[0], n_filt=w.shape[0],
                         filt_width=w.shape[2], stride_width=1, dilation=1, pad_left=pads[0],
                         pad_right=pads[1])
                L["out_width"] = s[1] + pads[0] + pads[1] - w.shape[2] + 1
                out = [w.shape[0], L["out_width"]]
            else:
                L.update(class_name="Conv2D", data_format="channels_first", weight_data=w,
                         bias_data=b, in_height=s[1], in_width=s[2], n_chan=s[0],
                         n_filt=w.shape[0], filt_height=w.shape[2], filt_width=w.shape[3],
                         stride_height=1, stride_width=1, dilation=1, pad_top=pads[0],
                         pad_bottom=pads[2], pad_left=pads[1], pad_right=pads[3])
                L["out_height"] = s[1] + pads[0] + pads[2] - w.shape[2] + 1
                L["out_width"] = s[2] + pads[1] + pads[3] - w.shape[3] + 1
                out = [w.shape[0], L["out_height"], L["out_width"]]
        elif nd.op_type in ("Relu", "Sigmoid", "Tanh"):
            L.update(class_name="Activation", activation=nd.op_type.lower())
            out = s
        elif nd.op_type == "Softmax":
            L.update(class_name="Softmax", activation="softmax", axis=-1)
            out = s
        elif nd.op_type == "BatchNormalization":
            gam, bet, mu, var = (inits[x] for x in nd.input[1:5])
            n = int(np.prod(s))
            L.update(class_name="BatchNormalization", data_format="channels_first",
                     epsilon=float(attr(nd, "epsilon", 1e-5)), use_gamma=True, use_beta=True,
                     gamma_data=gam, beta_data=bet, mean_data=mu, variance_data=var, n_in=n,
                     n_out=n, n_filt=-1 if len(s) == 1 else s[0])
            out = s
        elif nd.op_type == "Add":
            L.update(class_name="Merge", op="add")
            out = s
        elif nd.op_type == "Concat":
            ax = attr(nd, "axis") - 1
            L.update(class_name="Concatenate", op=f"concatenate{len(s)}d", axis=ax)
            out = list(s)
            out[ax] += shapes[nd.input[1]][ax]
        else:
            raise SystemExit(f"hls_oracle: {nd.name}: {nd.op_type} is not supported")
        layers.append(L)
        shapes[nd.output[0]] = out
        producer[nd.output[0]] = nd.name
    return layers, producer[g.output[0].name], shapes[g.output[0].name]


def hls_config(cfg, out_dir, input_name):
    from hls4ml.utils.config import create_config
    c = create_config(output_dir=out_dir, project_name="myproject", backend="Vivado",
                      io_type="io_parallel")
    model = dict(cfg.get("Model", {}))
    prec = model.get("Precision", "fixed<16,6>")
    model["Precision"] = prec if isinstance(prec, dict) else {"default": prec}
    model.setdefault("ReuseFactor", 1)
    model.setdefault("Strategy", "Latency")
    model.setdefault("ChannelsLastConversion", "full")
    model.setdefault("TransposeOutputs", False)
    model.setdefault("BramFactor", 1_000_000_000)
    model.setdefault("TraceOutput", False)
    names = json.loads(json.dumps(cfg.get("LayerName", {})))
    if input_name in names:
        names["x"] = names.pop(input_name)
    c["HLSConfig"] = {"Model": model, "LayerName": names}
    if "LayerType" in cfg:  # keyed by hls4ml's layer classes, as hls4ml reads it
        c["HLSConfig"]["LayerType"] = json.loads(json.dumps(cfg["LayerType"]))
    return c


def convert(onnx_model, cfg, work):
    from hls4ml.model import ModelGraph
    layers, out_name, out_shape = layer_list(onnx_model)
    c = hls_config(cfg, work, onnx_model.graph.input[0].name)
    c["InputShape"] = tuple(layers[0]["input_shape"])
    hm = ModelGraph.from_layer_list(c, layers, inputs=[layers[0]["name"]], outputs=[out_name])
    hm.compile()
    return hm, out_shape


def resolved_types(hm):
    t = {}
    for layer in hm.get_layers():
        t[layer.name] = {k: str(v.precision) for k, v in layer.types.items()}
        t[layer.name]["class"] = layer.class_name
    return t


def to_onnx_layout(y, shape):
    """hls4ml keeps channels last: [W][C] or [H][W][C] -> the ONNX model's [C][W] / [C][H][W]."""
    n = y.shape[0]
    if len(shape) == 2:
        return y.reshape(n, shape[1], shape[0]).transpose(0, 2, 1)
    if len(shape) == 3:
        return y.reshape(n, shape[1], shape[2], shape[0]).transpose(0, 3, 1, 2)
    return y.reshape(n, *shape)


def run_float64(model, x):
    """The model evaluated in float64 by onnx's reference evaluator (float32 itself, as ONNX
    Runtime computes, is not exact to 1e-6 once values exceed 1)."""
    from onnx.reference import ReferenceEvaluator
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for init in m.graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT:
            init.CopyFrom(numpy_helper.from_array(
                numpy_helper.to_array(init).astype(np.float64), init.name))
    for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT:
            v.type.tensor_type.elem_type = onnx.TensorProto.DOUBLE
    y = ReferenceEvaluator(m).run(None, {m.graph.input[0].name: x.astype(np.float64)})[0]
    return np.asarray(y, dtype=np.float64)


def predict(hm, x, out_shape):
    # ChannelsLastConversion 'full' puts a Transpose after the input: predict() takes the ONNX
    # (channels first) layout; the output stays channels last (TransposeOutputs False)
    y = hm.predict(np.ascontiguousarray(x.astype(np.float64)))
    return to_onnx_layout(np.asarray(y, dtype=np.float64).reshape(x.shape[0], -1), out_shape)


def without_tables(model):
    """A copy of model with every Sigmoid, Tanh and Softmax node turned into a Relu."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for nd in m.graph.node:
        if nd.op_type in ("Sigmoid", "Tanh", "Softmax"):
            nd.op_type = "Relu"
            del nd.attribute[:]
    return m


def do_model(name, model, cfg, x, out, wide, keep_onnx):
    import hls4ml
    work = tempfile.mkdtemp(prefix=f"hls_oracle_{name}_")
    try:
        if wide:
            # Lookup tables (sigmoid, tanh, softmax) are hls4ml's own functions, exact only to
            # their step; what the conversion itself decides (weights, layouts, padding, order,
            # Add/Concat/BatchNorm) is checked on the model with each table activation swapped
            # for ReLU, whose conversion differs only in the activation's name.
            smooth = without_tables(model)
            wcfg = {"Model": {"Precision": {"default": "fixed<60,30>"}},
                    "LayerName": {n: {"Precision": {"result": "fixed<60,30>",
                                                    "accum": "fixed<60,30>"}}
                                  for n in [nd.name for nd in smooth.graph.node]}}
            hm, shape = convert(smooth, wcfg, work)
            y = predict(hm, x, shape)
            ref = run_float64(smooth, x)
            d = float(np.max(np.abs(y - ref)))
            swapped = sum(a.op_type != b.op_type
                          for a, b in zip(model.graph.node, smooth.graph.node))
            print(f"{name}: wide types vs float64: max |diff| {d:.3g}"
                  f"{f' ({swapped} table activations as ReLU)' if swapped else ''}"
                  f"{'' if d <= 1e-6 else '  FAIL: over 1e-6'}")
            return d
        hm, shape = convert(model, cfg, work)
        y = predict(hm, x, shape)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        if keep_onnx:
            onnx.save(model, os.path.join(d, "model.onnx"))
        np.save(os.path.join(d, "input.npy"), x)
        np.save(os.path.join(d, "output.npy"), y)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1, sort_keys=True)
        with open(os.path.join(d, "types.json"), "w") as f:
            json.dump(resolved_types(hm), f, indent=1, sort_keys=True)
        pin = dict(PINNED, hls4ml=hls4ml.__version__, numpy=np.__version__)
        with open(os.path.join(d, "pinned.json"), "w") as f:
            json.dump(pin, f, indent=1, sort_keys=True)
        print(f"{name}: {x.shape[0]} events, output {list(y.shape)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/hls/data/models"))
    ap.add_argument("--only", help="one model by name")
    ap.add_argument("--wide", action="store_true", help="faithfulness check at wide types")
    args = ap.parse_args()
    worst = 0.0
    for name, model, cfg, x, keep in hls_models.all_models(ROOT):
        if args.only and name != args.only:
            continue
        d = do_model(name, model, cfg, x, args.out, args.wide, keep)
        if args.wide and d is not None:
            worst = max(worst, d)
    if args.wide:
        print(f"worst max |diff| {worst:.3g} ({'faithful' if worst <= 1e-6 else 'FAIL: over 1e-6'})")
        return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
