#!/usr/bin/env python3
"""A text-detector-shaped model for the max_plan_bytes estimate (core/tests/plan_memory.rs).

    $(scripts/python-env.sh) scripts/make-plan-memory-model.py            # writes the fixture
    $(scripts/python-env.sh) scripts/make-plan-memory-model.py --measure LEDGE_CLI

Writes demo-models/fixtures/plan-detector.onnx: a 1x3x736x1472 input (PP-OCR's detector size), a
32-channel full-resolution stem, a small downsampling path, an FPN-style way back up with skip
additions, and a full-resolution head (1x1 conv, depthwise 3x3, 1x1 to one channel, Sigmoid),
as DB text detectors are built. The weights are few (about 34 KB); the activations are big: every
tensor the graph produces sums to 1.22 GB = 1.14 GiB (the old measure, over the 1 GiB default), while
about 0.42 GB are alive at once (Ledge estimates 416 MB; `ledge run`
peaks at 370 MB of RSS).

--measure LEDGE_CLI runs `LEDGE_CLI run` on it under /usr/bin/time -v (zeros as input) and prints
the peak RSS beside the estimate Ledge refuses it with at --max-plan-bytes 1048576 (the
largest constant is checked first, against 1 byte it would be the one reported).
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-models" / "fixtures" / "plan-detector.onnx"
H, W = 736, 1472


def build() -> onnx.ModelProto:
    rng = np.random.default_rng(18)
    nodes, inits = [], []

    def conv(name, x, cin, cout, k, stride=1, group=1, relu=True):
        w = (rng.standard_normal((cout, cin // group, k, k)) / np.sqrt(cin // group * k * k)).astype(np.float32)
        b = np.zeros(cout, np.float32)
        inits.extend([numpy_helper.from_array(w, f"{name}.w"), numpy_helper.from_array(b, f"{name}.b")])
        out = f"{name}.conv"
        nodes.append(
            helper.make_node(
                "Conv", [x, f"{name}.w", f"{name}.b"], [out], name=name,
                kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4, group=group,
            )
        )
        if relu:
            nodes.append(helper.make_node("Relu", [out], [f"{name}.relu"], name=f"{name}_relu"))
            return f"{name}.relu"
        return out

    def up(name, x):
        nodes.append(helper.make_node("Resize", [x, "", "up.scales"], [name], name=name, mode="nearest"))
        return name

    def add(name, a, b):
        nodes.append(helper.make_node("Add", [a, b], [name], name=name))
        return name

    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "up.scales"))
    stem = conv("stem", "x", 3, 32, 3)             # 32 x 736 x 1472
    d1 = conv("d1", stem, 32, 8, 3, stride=2)       # 8 x 368 x 736
    d2 = conv("d2", d1, 8, 16, 3, stride=2)         # 16 x 184 x 368
    d3 = conv("d3", d2, 16, 16, 3, stride=2)        # 16 x 92 x 184
    p2 = add("p2", up("u3", d3), d2)                # 16 x 184 x 368
    l2 = conv("l2", p2, 16, 8, 1, relu=False)       # 8 x 184 x 368
    p1 = add("p1", up("u2", l2), d1)                # 8 x 368 x 736
    l1 = conv("l1", p1, 8, 32, 1, relu=False)       # 32 x 368 x 736
    p0 = add("p0", up("u1", l1), stem)              # 32 x 736 x 1472
    h = conv("h1", p0, 32, 32, 1)
    h = conv("h2", h, 32, 32, 3, group=32)
    h = conv("h3", h, 32, 1, 1, relu=False)
    nodes.append(helper.make_node("Sigmoid", [h], ["maps"], name="maps"))
    graph = helper.make_graph(
        nodes,
        "plan-detector",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, H, W])],
        [helper.make_tensor_value_info("maps", TensorProto.FLOAT, [1, 1, H, W])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ledge")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def tensor_sum(model: onnx.ModelProto) -> int:
    """Bytes of every tensor the graph produces plus its initializers (the old measure)."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    total = 0
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
        total += int(np.prod([d.dim_value for d in vi.type.tensor_type.shape.dim])) * 4
    return total + sum(int(np.prod(i.dims)) * 4 for i in model.graph.initializer)


def measure(cli: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        x = Path(tmp) / "x.npy"
        np.save(x, np.zeros((1, 3, H, W), np.float32))
        refused = subprocess.run(
            [cli, "run", str(OUT), "--input", str(x), "--max-plan-bytes", str(1 << 20)],
            capture_output=True, text=True,
        )
        estimate = re.search(r"\((\d+) bytes", refused.stderr)
        print("estimate:", estimate.group(1) if estimate else refused.stderr.strip())
        for _ in range(3):
            run = subprocess.run(
                ["/usr/bin/time", "-v", cli, "run", str(OUT), "--input", str(x), "--output", str(Path(tmp) / "y.npy")],
                capture_output=True, text=True,
            )
            if run.returncode != 0:
                sys.exit(run.stderr)
            rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
            print("peak RSS bytes:", int(rss.group(1)) * 1024)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--measure", metavar="LEDGE_CLI")
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return 0
    model = build()
    onnx.save(model, OUT)
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size} bytes; all tensors sum to {tensor_sum(model)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
