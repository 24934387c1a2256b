#!/usr/bin/env python3
# hls_configs.py: precision configurations written by hls4ml's own generator
# (config_from_pytorch_model, granularity 'name' and 'type': CamelCase keys), for configs/ and for the
# hls tests; run once (needs scripts/bootstrap --peers), the outputs are committed.
"""Write hls4ml-generated precision configurations.

  ~/.cache/ngt/venv/bin/python tools/hls_configs.py

configs/fad_hls.json, configs/mdt_hls.json: what hls4ml's config_from_pytorch_model(model,
granularity='name', backend='Vivado', default_precision=...) writes for the canonical models,
unedited ('auto' Dense/Conv accumulators and results, TableSize, Implementation, ReuseFactor,
Trace, ...). tests/hls/data/models/gen_*/: a generated configuration edited as a user would
(CamelCase keys: TableSize, Implementation, a layer Precision default), with hls4ml's predict()
outputs on it (tools/hls_oracle.py), so the hls backend is checked on the keys as hls4ml writes
them; gen_type_*/: the same from granularity 'type' (LayerType keyed by hls4ml's layer classes),
every class's types changed.

The generator's layer list comes from its PyTorch front end, which needs torch (its PyPI wheel
loads CUDA libraries at import); this script hands the generator the same layer dictionaries
tools/hls_oracle.py builds for that front end. The input layer, which torch.fx names 'x', is
written under the ONNX graph input's name, as ngt names it.
"""
import json
import os
import sys

import numpy as np
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import hls_models  # noqa: E402
import hls_oracle  # noqa: E402


def generated(model, default, granularity="name"):
    """hls4ml's config_from_pytorch_model output for an ONNX model of the supported subset."""
    import importlib

    import hls4ml
    p2h = importlib.import_module("hls4ml.converters.pytorch_to_hls")  # the module, not the
    # function of the same name that hls4ml.converters exports
    layers, _, _ = hls_oracle.layer_list(model)
    saved = p2h.parse_pytorch_model
    p2h.parse_pytorch_model = lambda config, verbose=True: (layers, ["x"], None)
    try:
        cfg = hls4ml.utils.config_from_pytorch_model(
            None, tuple(layers[0]["input_shape"]), granularity=granularity, backend="Vivado",
            default_precision=default)
    finally:
        p2h.parse_pytorch_model = saved
    del cfg["PytorchModel"]  # the torch module itself, not configuration
    del cfg["InputShape"]
    if granularity == "name":
        names = cfg["LayerName"]
        names[model.graph.input[0].name] = names.pop("x")
    return cfg


def write(path, cfg):
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT))


def edited(model, default, rng):
    """A generated configuration edited with hls4ml's own (CamelCase) keys, to non-defaults."""
    cfg = generated(model, default)
    for nd in model.graph.node:
        e = cfg["LayerName"][nd.name]
        if nd.op_type in ("Sigmoid", "Tanh"):
            e["TableSize"] = int(rng.choice([256, 512, 2048]))
        elif nd.op_type == "Softmax":
            e["Implementation"] = "latency"
            e["TableSize"] = 512
        elif nd.op_type in ("Gemm", "Conv") and rng.uniform() < 0.5:
            e["Precision"] = {"default": hls_models.rtype(rng, 10, 18, 3, 6)}
    return cfg


def edited_type(model, default, rng, k):
    """A granularity 'type' configuration (LayerType, keyed by hls4ml's layer classes) edited
    with hls4ml's keys: every class's types (and tables) changed, so a reader that ignored
    LayerType would differ. The generator's 'InputLayer' entry, which hls4ml never applies (the
    input layer's class is Input), is narrowed too; the first model sets the real 'Input' class,
    and a LayerName entry overrides one Dense's result (LayerName > LayerType > Model); the
    second sets Dense's AccumT, the third PointwiseConv1D's (its 1x1 conv)."""
    cfg = generated(model, default, "type")
    for cls, e in cfg["LayerType"].items():
        p = e.setdefault("Precision", {})
        if cls in ("Dense", "Conv1D", "Conv2D"):
            p["weight"] = hls_models.rtype(rng, 7, 12, 1, 3)
            p["bias"] = hls_models.rtype(rng, 7, 12, 1, 3)
            p["result"] = hls_models.rtype(rng, 12, 18, 4, 7)
        elif cls == "Activation":
            p["result"] = hls_models.rtype(rng, 10, 16, 2, 5)
            e["TableSize"] = int(rng.choice([256, 512, 2048]))
            e["TableT"] = "fixed<16,4,RND,SAT>"
        elif cls == "Softmax":
            e["Implementation"] = "latency"
            e["TableSize"] = 512
            e["ExpTableT"] = "fixed<16,6,RND,SAT>"
        elif cls in ("Merge", "Concatenate", "BatchNormalization"):
            p["result"] = hls_models.rtype(rng, 12, 18, 4, 7)
        elif cls == "InputLayer":
            p["result"] = "fixed<8,2>"
    if k == 1:  # a layer-level accumulator type (AccumT) replaces Precision's
        cfg["LayerType"]["Dense"]["AccumT"] = "fixed<22,9>"
    if k == 2:  # the 1x1 Conv1D, remade as PointwiseConv1D, takes that class's settings
        cfg["LayerType"]["PointwiseConv1D"] = {"AccumT": "fixed<24,8>"}
    if k == 0:
        cfg["LayerType"]["Input"] = {"Precision": {"result": "fixed<14,5,RND,SAT>"}}
        dense = next(nd.name for nd in model.graph.node if nd.op_type == "Gemm")
        cfg["LayerName"] = {dense: {"Precision": {"result": "fixed<15,6,RND_CONV,SAT>"}}}
    return cfg


def main():
    for name, default in (("fad", "fixed<16,6>"), ("mdt", "fixed<20,6>")):
        m = onnx.load(os.path.join(ROOT, "models", f"{name}.onnx"))
        write(os.path.join(ROOT, "configs", f"{name}_hls.json"), generated(m, default))
    out = os.path.join(ROOT, "tests/hls/data/models")
    for k, src in enumerate(("rand02_cat", "rand06_res", "rand13_conv1d")):
        rng = np.random.default_rng(9300 + k)
        m = onnx.load(os.path.join(out, src, "model.onnx"))
        x = np.load(os.path.join(out, src, "input.npy"))
        name = "gen_" + src.split("_", 1)[1]
        hls_oracle.do_model(name, m, edited(m, "fixed<16,6>", rng), x, out, False, True)
    for k, src in enumerate(("rand02_cat", "rand06_res", "rand13_conv1d", "rand14_conv2d")):
        rng = np.random.default_rng(9400 + k)
        m = onnx.load(os.path.join(out, src, "model.onnx"))
        x = np.load(os.path.join(out, src, "input.npy"))
        name = "gen_type_" + src.split("_", 1)[1]
        hls_oracle.do_model(name, m, edited_type(m, "fixed<16,6>", rng, k), x, out, False, True)


if __name__ == "__main__":
    main()
