#!/usr/bin/env python3
"""Small models for the kinds of model users bring that Ledge once refused (issue 18), with
onnxruntime's outputs as the expected values. Writes demo-models/fixtures/field/:

  upsample_opset7.onnx   Upsample (opset 7, `scales` attribute): nearest ×3 then linear ×2
  upsample_opset9.onnx   Upsample (opset 9, scales as input 1): nearest ×4 then linear ×2
  dynamic_hw.onnx        a classifier exported with symbolic height and width ([1, 3, h, w])
  qdq_uint16.onnx        16-bit QDQ (QuantizeLinear/DequantizeLinear to uint16, opset 21)
  uint8_nhwc.onnx/.toml  a classifier taking uint8 NHWC pixels (as TFLite-converted models do)
  grey.onnx/.toml        a classifier of one-channel (luma) images, [1, 1, 32, 32]
  pattern.png            a 32×32 colour picture for the last two (its size is theirs: no resampling)
and, beside the external-data field case (demo-models/fixtures/external-data/, a copy of the field case), its
model with the data location changed: escape.onnx (`../external-data/model.onnx.data`: leaves the
folder), absolute.onnx (`/etc/hostname`), short.onnx (an offset past the end of the data file).

  x5.npy, x8.npy, x_48x64.npy   inputs; expected.json and upsample_opset*.out.npy: onnxruntime's
                         outputs on them (graph optimizations off)

Run with the python of scripts/python-env.sh: `python scripts/field_models.py`.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = pathlib.Path(__file__).resolve().parent.parent / "demo-models" / "fixtures" / "field"


def save(model: onnx.ModelProto, name: str) -> pathlib.Path:
    onnx.checker.check_model(model)
    path = OUT / name
    onnx.save(model, path)
    return path


def run(path: pathlib.Path, feeds: dict) -> list:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return [o.tolist() for o in session.run(None, feeds)]


def upsample(opset: int) -> onnx.ModelProto:
    first = 3 if opset < 9 else 4
    nodes, inits = [], []
    for i, (mode, scale) in enumerate([("nearest", first), ("linear", 2)]):
        scales = [1.0, 1.0, float(scale), float(scale)]
        src = "x" if i == 0 else "u0"
        if opset < 9:
            nodes.append(helper.make_node("Upsample", [src], [f"u{i}"], mode=mode, scales=scales))
        else:
            inits.append(numpy_helper.from_array(np.array(scales, np.float32), f"scales{i}"))
            nodes.append(helper.make_node("Upsample", [src, f"scales{i}"], [f"u{i}"], mode=mode))
    size = 5 * first * 2
    graph = helper.make_graph(
        nodes,
        f"upsample{opset}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("u1", TensorProto.FLOAT, [1, 2, size, size])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=7)


def classifier_body(rng: np.random.Generator, src: str, channels: int = 3) -> tuple[list, list]:
    w = numpy_helper.from_array(rng.normal(0, 0.5, (4, channels, 3, 3)).astype(np.float32), "w")
    fc = numpy_helper.from_array(rng.normal(0, 0.5, (4, 4)).astype(np.float32), "fc")
    nodes = [
        helper.make_node("Conv", [src, "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("MatMul", ["f", "fc"], ["logits"]),
    ]
    return nodes, [w, fc]


def dynamic_hw(rng: np.random.Generator) -> onnx.ModelProto:
    nodes, inits = classifier_body(rng, "input")
    graph = helper.make_graph(
        nodes,
        "dynamic_hw",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def qdq_uint16(rng: np.random.Generator) -> onnx.ModelProto:
    nodes, inits = classifier_body(rng, "xdq")
    inits += [
        numpy_helper.from_array(np.array(0.01, np.float32), "s"),
        numpy_helper.from_array(np.array(32768, np.uint16), "zp"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "s", "zp"], ["xdq"]),
    ] + nodes
    graph = helper.make_graph(
        nodes,
        "qdq_uint16",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)


def external_variants() -> None:
    """The external-data case's model pointing at data it must not read."""
    folder = OUT.parent / "external-data"
    for name, change in [
        ("escape", {"location": "../external-data/model.onnx.data"}),
        ("absolute", {"location": "/etc/hostname"}),
        ("short", {"offset": "1000", "length": "128"}),
    ]:
        model = onnx.load(folder / "model.onnx", load_external_data=False)
        for tensor in model.graph.initializer:
            if "location" not in change and tensor.name != "fc_w":
                continue
            for entry in tensor.external_data:
                if entry.key in change:
                    entry.value = change[entry.key]
        target = OUT if name != "short" else folder
        onnx.save(model, target / f"{name}.onnx")


MANIFEST = """name = "{name}"
version = "1.0.0"

[input]
layout = "{layout}"
color = "RGB"

[input.resize]
kind = "stretch"
filter = "bilinear"

[input.normalize]
{normalize}

[output]
kind = "logits"
labels = ["a", "b", "c", "d"]
"""


def uint8_nhwc(rng: np.random.Generator) -> onnx.ModelProto:
    nodes, inits = classifier_body(rng, "nchw")
    inits += [
        numpy_helper.from_array(np.array(127.5, np.float32), "mid"),
    ]
    nodes = [
        helper.make_node("Cast", ["pixels"], ["xf"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["xf", "mid"], ["xc"]),
        helper.make_node("Div", ["xc", "mid"], ["xn"]),
        helper.make_node("Transpose", ["xn"], ["nchw"], perm=[0, 3, 1, 2]),
    ] + nodes
    graph = helper.make_graph(
        nodes,
        "uint8_nhwc",
        [helper.make_tensor_value_info("pixels", TensorProto.UINT8, [1, 32, 32, 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def grey(rng: np.random.Generator) -> onnx.ModelProto:
    nodes, inits = classifier_body(rng, "input", channels=1)
    graph = helper.make_graph(
        nodes,
        "grey",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def softmax(x: np.ndarray) -> list:
    e = np.exp(x - x.max())
    return (e / e.sum()).ravel().tolist()


def image_models(rng: np.random.Generator, expected: dict) -> None:
    from PIL import Image

    yy, xx = np.mgrid[0:32, 0:32]
    rgb = np.stack([xx * 8, yy * 8, (xx + yy) * 4], axis=-1).clip(0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(OUT / "pattern.png")
    path = save(uint8_nhwc(rng), "uint8_nhwc.onnx")
    (OUT / "uint8_nhwc.toml").write_text(
        MANIFEST.format(name="uint8-nhwc", layout="NHWC", normalize="scale = [1.0]\noffset = [0.0]")
    )
    logits = run(path, {"pixels": rgb[None]})[0]
    expected["uint8_nhwc_pattern"] = softmax(np.array(logits))
    path = save(grey(rng), "grey.onnx")
    (OUT / "grey.toml").write_text(
        MANIFEST.format(name="grey", layout="NCHW", normalize="mean = [127.5]\nstd = [127.5]")
    )
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    logits = run(path, {"input": ((luma - 127.5) / 127.5)[None, None].astype(np.float32)})[0]
    expected["grey_pattern"] = softmax(np.array(logits))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(18)
    x8 = rng.normal(0, 1, (1, 3, 8, 8)).astype(np.float32)
    x48 = rng.normal(0, 1, (1, 3, 48, 64)).astype(np.float32)
    np.save(OUT / "x8.npy", x8)
    np.save(OUT / "x_48x64.npy", x48)
    expected = {}
    x5 = rng.normal(0, 1, (1, 2, 5, 5)).astype(np.float32)
    np.save(OUT / "x5.npy", x5)
    for opset in (7, 9):
        path = save(upsample(opset), f"upsample_opset{opset}.onnx")
        np.save(OUT / f"{path.stem}.out.npy", np.array(run(path, {"x": x5})[0], np.float32))
    path = save(dynamic_hw(rng), "dynamic_hw.onnx")
    expected["dynamic_hw_48x64"] = run(path, {"input": x48})[0]
    expected["dynamic_hw_8x8"] = run(path, {"input": x8})[0]
    path = save(qdq_uint16(rng), "qdq_uint16.onnx")
    expected["qdq_uint16"] = run(path, {"x": x8})[0]
    external_variants()
    image_models(rng, expected)
    (OUT / "expected.json").write_text(json.dumps(expected) + "\n")
    for f in sorted(OUT.iterdir()):
        print(f"{f.stat().st_size:8d}  {f.relative_to(OUT.parent.parent.parent)}")


if __name__ == "__main__":
    main()
