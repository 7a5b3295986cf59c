"""Writes the tiny ONNX models that seed the fuzz targets (fuzz/seeds/models/*.onnx).

Small seeds keep every fuzz execution in the microseconds while reaching the same code as a real
model: the protobuf decoder, operator checks, tract's analysis and optimizer, the QDQ repair, the
planned-memory limit, preprocessing and postprocessing. Deterministic; run with the project's venv:

    "$(scripts/python-env.sh)" fuzz/make_seeds.py
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEEDS = Path(__file__).resolve().parent / "seeds"
OUT = SEEDS / "models"
rng = np.random.default_rng(7)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def save(name, nodes, inputs, outputs, initializers, opset=13):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    (OUT / f"{name}.onnx").write_bytes(model.SerializeToString())


def f32(shape):
    return rng.standard_normal(shape).astype(np.float32)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])

    # The classifier the image target runs: conv → relu → pool → gemm, 3 classes (fuzz/tiny.toml).
    save(
        "tiny_classifier",
        [
            helper.make_node("Conv", ["image", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("GlobalAveragePool", ["r"], ["p"]),
            helper.make_node("Flatten", ["p"], ["f"]),
            helper.make_node("Gemm", ["f", "fc", "fb"], ["logits"], transB=1),
        ],
        [image],
        [logits],
        [const("w", f32((4, 3, 3, 3))), const("b", f32(4)), const("fc", f32((3, 4))), const("fb", f32(3))],
    )

    # QDQ depthwise conv and a quantized softmax: the repair pass and the int8 paths.
    scale, zero = const("s", np.float32(0.05)), const("z", np.uint8(128))
    wq = const("wq", rng.integers(-100, 100, (3, 1, 3, 3)).astype(np.int8))
    ws, wz = const("ws", np.float32(0.01)), const("wz", np.int8(0))
    save(
        "tiny_qdq",
        [
            helper.make_node("QuantizeLinear", ["image", "s", "z"], ["q"]),
            helper.make_node("DequantizeLinear", ["q", "s", "z"], ["dq"]),
            helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wdq"]),
            helper.make_node("Conv", ["dq", "wdq"], ["c"], group=3, pads=[1, 1, 1, 1], strides=[2, 2]),
            helper.make_node("GlobalAveragePool", ["c"], ["p"]),
            helper.make_node("Flatten", ["p"], ["f"]),
            helper.make_node("QuantizeLinear", ["f", "s", "z"], ["fq"]),
            helper.make_node("DequantizeLinear", ["fq", "s", "z"], ["fdq"]),
            helper.make_node("Softmax", ["fdq"], ["sm"]),
            helper.make_node("QuantizeLinear", ["sm", "s2", "z2"], ["smq"]),
            helper.make_node("DequantizeLinear", ["smq", "s2", "z2"], ["logits"]),
        ],
        [image],
        [logits],
        [scale, zero, wq, ws, wz, const("s2", np.float32(1 / 255)), const("z2", np.uint8(0))],
    )

    # Shape arithmetic: the operators whose output size comes from data.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])
    save(
        "tiny_shapes",
        [
            helper.make_node("Reshape", ["x", "shape"], ["r"]),
            helper.make_node("Expand", ["r", "grow"], ["e"]),
            helper.make_node("ConstantOfShape", ["fill"], ["c"], value=const("v", np.array([1.0], np.float32))),
            helper.make_node("Add", ["e", "c"], ["a"]),
            helper.make_node("Transpose", ["a"], ["t"], perm=[1, 0]),
            helper.make_node("Concat", ["t", "t"], ["y"], axis=0),
        ],
        [x],
        [y],
        [const("shape", np.array([3, 2], np.int64)), const("grow", np.array([3, 2], np.int64)),
         const("fill", np.array([3, 2], np.int64))],
    )

    # Resize, pooling and a matmul with a broadcast: more shape inference.
    save(
        "tiny_resize",
        [
            helper.make_node("Resize", ["image", "", "scales"], ["r"], mode="linear"),
            helper.make_node("MaxPool", ["r"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("ReduceMean", ["m"], ["rm"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["rm", "mm"], ["logits"]),
        ],
        [image],
        [logits],
        [const("scales", np.array([1, 1, 2, 2], np.float32)), const("mm", f32((3, 3)))],
    )


def tensors_and_images():
    """Small .npy files of every dtype Ledge reads, and tiny PNG/JPEG images."""
    from PIL import Image

    npy = SEEDS / "npy"
    npy.mkdir(parents=True, exist_ok=True)
    for dtype in ["float32", "int8", "uint8", "int32", "int64"]:
        np.save(npy / f"{dtype}.npy", (rng.standard_normal((1, 3, 4, 4)) * 50).astype(dtype))
    np.save(npy / "fortran.npy", np.asfortranarray(f32((3, 5))))
    np.save(npy / "scalar.npy", np.float32(1.5))
    images = SEEDS / "images"
    images.mkdir(parents=True, exist_ok=True)
    pixels = (rng.random((12, 20, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(images / "rgb.png")
    Image.fromarray(pixels[:, :, 0]).save(images / "grey.png")
    Image.fromarray(np.dstack([pixels, pixels[:, :, :1]])).save(images / "rgba.png")
    Image.fromarray(pixels).save(images / "rgb.jpg", quality=80)
    Image.fromarray(pixels).save(images / "progressive.jpg", quality=60, progressive=True)


def hostile_fixture():
    """A 4 TiB ConstantOfShape in a 100-byte model: every binding's bad-input tests load it."""
    fixture = Path(__file__).resolve().parent.parent / "demo-models/fixtures/plan-4tib.onnx"
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1 << 20, 1 << 20])
    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["dims"], ["y"])],
        "plan-4tib",
        [],
        [y],
        [const("dims", np.array([1 << 20, 1 << 20], np.int64))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    fixture.write_bytes(model.SerializeToString())


if __name__ == "__main__":
    main()
    tensors_and_images()
    hostile_fixture()
