#!/usr/bin/env python3
"""Produce Ledge's demo models and the shared test vectors.

Subcommands (run with the python of scripts/python-env.sh):

  quantize  fp32 sources (shared/models) -> unpacked int8 models and fixtures in a build folder
  vectors   demo-models/ -> demo-models/vectors/cases.json + tensors/*.npy, and demo-models/images/
  report    sizes fp32 vs int8 and agreement of int8 with fp32 -> stdout and demo-models/report.json

The preprocessing below is the reference that Ledge's Rust core implements; it is driven by the same
manifest.toml files that `ledge pack` embeds in the models. scripts/make-demo-models.sh chains it all.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image

# Placeholder tolerances (max |Δscore| against the onnxruntime reference) written into cases.json.
# Tensor cases feed the exact preprocessed tensor; image cases also exercise decoding and resizing.
TENSOR_TOLERANCE = 0.02
IMAGE_TOLERANCE = 0.08

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared" / "models"
DEFAULT_BUILD = REPO / "target" / "demo-models-build"
DEFAULT_MODELS = REPO / "demo-models"


@dataclasses.dataclass(frozen=True)
class Demo:
    """One demo model: its fp32 source in shared/models, its test images, its extra calibration data."""

    name: str
    source: str
    top_k: int
    # Test images: glob patterns relative to shared/models/images, in case order.
    image_patterns: tuple[str, ...]
    # Calibration image name -> (band height, stride) in pixels: the image is also cut into
    # full-width horizontal bands, each used upright and rotated by 180°.
    calib_strips: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)

    def images(self, shared: Path) -> list[Path]:
        found = []
        for pattern in self.image_patterns:
            matches = sorted((shared / "images").glob(pattern))
            if not matches:
                fail(f"no test image matches {shared / 'images' / pattern}")
            found += matches
        return found


DEMOS = [
    Demo(
        "efficientnet-lite0",
        "efficientnet_lite0_fp32.onnx",
        5,
        ("test/chelsea.png", "test/coffee.png", "test/camera.png"),
    ),
    # The calibration photos and textures alone leave the activation ranges of a text-line classifier
    # badly calibrated (3 of the 6 upside-down test lines came out as 0°, at p ≈ 0.5): add text-line
    # bands of the scanned book page (calib/page.png, line pitch ≈ 24 px), in both orientations.
    Demo(
        "ppocr-cls", "ppocr_cls_mnv3_fp32.onnx", 2, ("ocr-lines/*.png",), calib_strips={"page.png": (32, 16)}
    ),
]

SOFTMAX_FIXTURE = "ppocr-cls-softmax-qdq"
QOPERATOR_FIXTURE = "ppocr-cls-qoperator"
# The fixture's cases: lines from both orientations.
SOFTMAX_FIXTURE_LINES = ["line0_0", "line0_180", "line1_0", "line1_180"]
# Every shared text line is wider than 4:1, so it fills the 192-px input and keep_aspect_pad never
# pads. These derived images (the start of a line, 2.5 times as wide as high) make the padding
# part of the vectors: source stem -> derived stem.
SHORT_LINES = {"line3_0": "line3short_0", "line3_180": "line3short_180"}

FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos3": Image.Resampling.LANCZOS,
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fail(msg: str) -> None:
    raise SystemExit(f"error: {msg}")


# --------------------------------------------------------------------------------------------------
# Manifest and preprocessing (the reference for core::preprocess)
# --------------------------------------------------------------------------------------------------


def load_manifest(path: Path) -> dict:
    with open(path, "rb") as f:
        manifest = tomllib.load(f)
    manifest["_path"] = path
    return manifest


def input_hw(model_path: Path) -> tuple[list[int], str]:
    """Static input shape and name of a single-input model (initializers are not inputs)."""
    model = onnx.load(str(model_path), load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        fail(f"{model_path}: expected one input, found {[i.name for i in inputs]}")
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or any(d <= 0 for d in dims):
        fail(f"{model_path}: input shape {dims} is not a static 4-d shape")
    return dims, inputs[0].name


def target_size(manifest: dict, shape: list[int]) -> tuple[int, int]:
    """(tw, th) from the model's input shape and the manifest's layout."""
    layout = manifest["input"]["layout"]
    if layout == "NCHW":
        return shape[3], shape[2]
    if layout == "NHWC":
        return shape[2], shape[1]
    fail(f"unknown layout {layout!r}")
    raise AssertionError


def preprocess(
    image_path: Path, manifest: dict, shape: list[int], perturb: np.random.Generator | None = None
) -> np.ndarray:
    """Decode, resize, normalize and lay out one image file as the model's float32 input tensor."""
    with Image.open(image_path) as img:
        return preprocess_image(img, manifest, shape, perturb)


def preprocess_image(
    img: Image.Image, manifest: dict, shape: list[int], perturb: np.random.Generator | None = None
) -> np.ndarray:
    """Resize, normalize and lay out one decoded image as the model's float32 input tensor.

    `perturb` (report's tolerance probe only) adds -1/0/+1 to every resized 8-bit pixel value, as a
    resize implementation that rounds differently would.
    """
    inp = manifest["input"]
    tw, th = target_size(manifest, shape)
    img = img.convert("RGB")
    w, h = img.size
    resize = inp["resize"]
    kind = resize["kind"]
    flt = FILTERS[resize["filter"]]
    rw = tw
    if kind == "center_crop":
        f = float(resize["crop_fraction"])
        crop_w = f * min(w, h * tw / th)
        crop_h = crop_w * th / tw
        left = (w - crop_w) / 2
        top = (h - crop_h) / 2
        img = img.resize((tw, th), flt, box=(left, top, left + crop_w, top + crop_h))
    elif kind == "keep_aspect_pad":
        rw = min(tw, math.ceil(th * w / h))
        img = img.resize((rw, th), flt)
    elif kind == "stretch":
        img = img.resize((tw, th), flt)
    else:
        fail(f"unknown resize kind {kind!r}")

    x = np.asarray(img, dtype=np.float32)  # th x rw x 3, RGB, 0..255
    if perturb is not None:
        x = np.clip(x + perturb.integers(-1, 2, size=x.shape), 0, 255).astype(np.float32)
    if inp["color"] == "BGR":
        x = x[:, :, ::-1]
    elif inp["color"] != "RGB":
        fail(f"unknown color {inp['color']!r}")
    norm = inp["normalize"]
    if "mean" in norm:
        mean = np.asarray(norm["mean"], dtype=np.float32)
        std = np.asarray(norm["std"], dtype=np.float32)
        x = (x - mean) / std
    else:
        scale = np.asarray(norm["scale"], dtype=np.float32)
        offset = np.asarray(norm["offset"], dtype=np.float32)
        x = x * scale + offset

    pad_value = np.float32(resize.get("pad_value", 0.0))
    full = np.full((th, tw, 3), pad_value, dtype=np.float32)
    full[:, :rw, :] = x
    if inp["layout"] == "NCHW":
        full = full.transpose(2, 0, 1)
    return np.ascontiguousarray(full[np.newaxis], dtype=np.float32)


# --------------------------------------------------------------------------------------------------
# Inference helpers
# --------------------------------------------------------------------------------------------------


def session(
    model_path: Path,
    threads: int = 1,
    level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
) -> ort.InferenceSession:
    """The reference configuration: CPU, one thread, all graph optimizations (fused int8 kernels)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = level
    return ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])


def scores(sess: ort.InferenceSession, tensor: np.ndarray, output_kind: str) -> np.ndarray:
    """What a user sees, float64: softmax(logits) or the model's probabilities."""
    out = sess.run(None, {sess.get_inputs()[0].name: tensor})[0]
    v = np.asarray(out, dtype=np.float64).reshape(-1)
    if output_kind == "logits":
        e = np.exp(v - v.max())
        return e / e.sum()
    if output_kind == "probabilities":
        return v
    fail(f"unknown output kind {output_kind!r}")
    raise AssertionError


def top_k(p: np.ndarray, k: int) -> list[int]:
    # Stable sort: ties keep index order.
    return [int(i) for i in np.argsort(-p, kind="stable")[:k]]


def bench_ms(sess: ort.InferenceSession, tensor: np.ndarray, runs: int = 30) -> float:
    feed = {sess.get_inputs()[0].name: tensor}
    for _ in range(3):
        sess.run(None, feed)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000.0)


def read_labels(manifest: dict) -> list[str]:
    path = manifest["_path"].parent / manifest["output"]["labels_file"]
    return path.read_text(encoding="utf-8").splitlines()


# --------------------------------------------------------------------------------------------------
# quantize
# --------------------------------------------------------------------------------------------------


class ImageReader(CalibrationDataReader):
    def __init__(self, input_name: str, tensors: list[np.ndarray]):
        self.input_name = input_name
        self.tensors = tensors
        self.i = 0

    def get_next(self):
        if self.i >= len(self.tensors):
            return None
        self.i += 1
        return {self.input_name: self.tensors[self.i - 1]}

    def __len__(self):
        return len(self.tensors)

    def rewind(self) -> None:
        self.i = 0


def op_nodes(model: onnx.ModelProto, op_type: str) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.op_type == op_type]


def softmax_qdq_pattern(model: onnx.ModelProto) -> list[str]:
    """Names of Softmax nodes fed by DequantizeLinear and feeding (only) QuantizeLinear."""
    producer = {o: n for n in model.graph.node for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    found = []
    for n in op_nodes(model, "Softmax"):
        src = producer.get(n.input[0])
        dst = consumers.get(n.output[0], [])
        if (
            src is not None
            and src.op_type == "DequantizeLinear"
            and dst
            and all(c.op_type == "QuantizeLinear" for c in dst)
        ):
            found.append(n.name)
    return found


def quantize_one(
    src: Path,
    out: Path,
    tensors: list[np.ndarray],
    input_name: str,
    *,
    quant_format: QuantFormat = QuantFormat.QDQ,
    activation_type: QuantType = QuantType.QUInt8,
    exclude_softmax: bool = True,
) -> onnx.ModelProto:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ledge-quant-") as tmp:
        pre = Path(tmp) / "preprocessed.onnx"
        # Symbolic shape inference (needs sympy) is for dynamic-shape transformer graphs; these
        # models have static shapes, which ONNX shape inference resolves completely.
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        pre_model = onnx.load(str(pre))
        softmax = op_nodes(pre_model, "Softmax")
        if any(not n.name for n in softmax):
            fail(f"{src}: unnamed Softmax node, cannot exclude it from quantization")
        quantize_static(
            str(pre),
            str(out),
            ImageReader(input_name, tensors),
            quant_format=quant_format,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
            weight_type=QuantType.QInt8,
            activation_type=activation_type,
            nodes_to_exclude=[n.name for n in softmax] if exclude_softmax else [],
            # Keep the logits in float: with a narrow calibration set the calibrated logit range
            # clips confident predictions.
            extra_options={"OpTypesToExcludeOutputQuantization": ["Gemm", "MatMul"]},
            calibration_providers=["CPUExecutionProvider"],
        )
    model = tidy(onnx.load(str(out)))
    onnx.save(model, str(out))
    onnx.checker.check_model(model)
    return model


def tidy(model: onnx.ModelProto) -> onnx.ModelProto:
    """Clean-ups that do not change what the model computes.

    - metadata_props: drop what onnxsim and the quantizer left (kilobytes of node lists); `ledge pack`
      writes Ledge's own entries.
    - opset_import: drop the domains no node uses (quant_pre_process's ORT-optimized save lists
      com.microsoft, ai.onnx.training, org.pytorch.aten, ...).
    - output shapes: the PP-OCR export declares its output as [-1, 2]; -1 is not a valid ONNX dim
      and the input batch is pinned to 1, so the output batch is 1 too.
    """
    del model.metadata_props[:]
    used = {n.domain for n in model.graph.node} | {""}
    keep = [o for o in model.opset_import if o.domain in used or o.domain == "ai.onnx"]
    del model.opset_import[:]
    model.opset_import.extend(keep)
    inits = {i.name for i in model.graph.initializer}
    static_batch_1 = all(
        i.type.tensor_type.shape.dim and i.type.tensor_type.shape.dim[0].dim_value == 1
        for i in model.graph.input
        if i.name not in inits
    )
    for o in model.graph.output:
        for d in o.type.tensor_type.shape.dim:
            if d.HasField("dim_value") and d.dim_value < 0:
                if not static_batch_1:
                    fail(f"output {o.name} has dim {d.dim_value} and the input batch is not 1")
                d.dim_value = 1
    return model


def cmd_quantize(args: argparse.Namespace) -> None:
    shared: Path = args.shared
    out: Path = args.out
    calib_images = sorted(p for p in (shared / "images" / "calib").iterdir() if p.is_file())
    if not calib_images:
        fail(f"no calibration images in {shared / 'images' / 'calib'}")
    log(f"calibration images: {len(calib_images)} from {shared / 'images' / 'calib'}")

    for demo in DEMOS:
        src = shared / demo.source
        manifest = load_manifest(args.manifests / demo.name / "manifest.toml")
        shape, input_name = input_hw(src)
        tensors = [preprocess(p, manifest, shape) for p in calib_images]
        for image_name, (band, stride) in sorted(demo.calib_strips.items()):
            with Image.open(shared / "images" / "calib" / image_name) as img:
                img = img.convert("RGB")
                for top in range(0, img.height - band + 1, stride):
                    strip = img.crop((0, top, img.width, top + band))
                    upside_down = strip.transpose(Image.Transpose.ROTATE_180)
                    tensors.append(preprocess_image(strip, manifest, shape))
                    tensors.append(preprocess_image(upside_down, manifest, shape))
        log(f"{demo.name}: {len(tensors)} calibration tensors")
        dst = out / demo.name / "model.onnx"
        t0 = time.perf_counter()
        model = quantize_one(src, dst, tensors, input_name)
        if softmax_qdq_pattern(model):
            fail(f"{dst}: Softmax is quantized although it was excluded")
        log(f"{dst}: {dst.stat().st_size} bytes ({time.perf_counter() - t0:.1f} s)")

        if demo.name != "ppocr-cls":
            continue

        # Fixture 1: ORT's QOperator format (QLinearAdd etc.), which tract cannot run.
        dst = out / "fixtures" / f"{QOPERATOR_FIXTURE}.onnx"
        model = quantize_one(src, dst, tensors, input_name, quant_format=QuantFormat.QOperator)
        ops = sorted({n.op_type for n in model.graph.node if n.op_type.startswith("QLinear") or n.domain})
        if not op_nodes(model, "QLinearAdd"):
            fail(f"{dst}: no QLinearAdd node (quantized ops: {ops})")
        log(f"{dst}: {dst.stat().st_size} bytes, quantized ops {ops}")

        # Fixture 2: quantized Softmax, DequantizeLinear -> Softmax -> QuantizeLinear.
        dst = out / "fixtures" / f"{SOFTMAX_FIXTURE}.onnx"
        model = quantize_one(
            src, dst, tensors, input_name, activation_type=QuantType.QInt8, exclude_softmax=False
        )
        found = softmax_qdq_pattern(model)
        if not found:
            fail(f"{dst}: no DequantizeLinear -> Softmax -> QuantizeLinear pattern")
        log(f"{dst}: {dst.stat().st_size} bytes, quantized Softmax nodes {found}")


# --------------------------------------------------------------------------------------------------
# vectors
# --------------------------------------------------------------------------------------------------


def expected_entries(p: np.ndarray, k: int, labels: list[str]) -> list[dict]:
    return [{"index": i, "label": labels[i], "score": float(p[i])} for i in top_k(p, k)]


def check_orientation(stem: str, top1: int, what: str) -> None:
    want = 0 if stem.endswith("_0") else 1
    if top1 != want:
        log(f"WARNING: {what} on {stem}: top-1 is index {top1}, expected {want}")


def cmd_vectors(args: argparse.Namespace) -> None:
    models: Path = args.models.resolve()
    shared: Path = args.shared
    vec_dir: Path = (args.out or models / "vectors").resolve()
    tensor_dir = vec_dir / "tensors"
    images_dir = models / "images"
    try:
        vec_dir.relative_to(models)
    except ValueError:
        fail(f"--out {vec_dir} must be inside --models {models} (case paths are relative to it)")

    # Start from a clean slate so that removed cases leave no stale files.
    if tensor_dir.exists():
        shutil.rmtree(tensor_dir)
    tensor_dir.mkdir(parents=True)
    images_dir.mkdir(parents=True, exist_ok=True)
    for demo in DEMOS:
        for src in demo.images(shared):
            shutil.copyfile(src, images_dir / src.name)
    for source, derived in SHORT_LINES.items():
        with Image.open(images_dir / f"{source}.png") as im:
            w, h = im.size
            cw = min(w, round(2.5 * h))
            # An upright line starts on the left; one rotated by 180° starts on the right.
            box = (0, 0, cw, h) if source.endswith("_0") else (w - cw, 0, w, h)
            im.crop(box).save(images_dir / f"{derived}.png", optimize=True)

    def rel(p: Path) -> str:
        return p.relative_to(models).as_posix()

    cases = []

    def add_cases(
        name: str,
        model_path: Path,
        manifest: dict,
        fp32: ort.InferenceSession,
        fp32_manifest: dict,
        stems: list[str],
        k: int,
        tensor_prefix: str,
        manifest_field: Path | None,
    ) -> None:
        sess = session(model_path)
        shape, _ = input_hw(model_path)
        labels = read_labels(manifest)
        for stem in stems:
            image = images_dir / f"{stem}.png"
            x = preprocess(image, manifest, shape)
            npy = tensor_dir / f"{tensor_prefix}_{stem}.npy"
            if npy.exists():
                if not np.array_equal(np.load(npy), x):
                    fail(f"{npy}: same file name, different tensor for {name}")
            else:
                np.save(npy, x)
            p = scores(sess, x, manifest["output"]["kind"])
            if len(labels) != p.size:
                fail(f"{manifest['_path']}: {len(labels)} labels for {p.size} outputs")
            fp32_top1 = top_k(scores(fp32, x, fp32_manifest["output"]["kind"]), 1)[0]
            expected = expected_entries(p, k, labels)
            if stem.startswith("line"):
                check_orientation(stem, expected[0]["index"], name)
            log(
                f"{name}/{stem}: "
                + ", ".join(f"{e['label']} {e['score']:.4f}" for e in expected)
                + f" (fp32 top-1 {fp32_top1})"
            )
            for level, tol in (("tensor", TENSOR_TOLERANCE), ("image", IMAGE_TOLERANCE)):
                case = {
                    "name": f"{name}/{stem}/{level}",
                    "level": level,
                    "model": rel(model_path),
                }
                if manifest_field is not None:
                    case["manifest"] = rel(manifest_field)
                case.update(
                    {
                        "image": rel(image),
                        "tensor": rel(npy),
                        "top_k": k,
                        "expected": expected,
                        "tolerance": tol,
                        "fp32_top1": fp32_top1,
                    }
                )
                cases.append(case)

    for demo in DEMOS:
        manifest = load_manifest(models / demo.name / "manifest.toml")
        fp32 = session(shared / demo.source)
        stems = [p.stem for p in demo.images(shared)]
        if demo.name == "ppocr-cls":
            stems += list(SHORT_LINES.values())
        add_cases(
            demo.name,
            models / demo.name / "model.onnx",
            manifest,
            fp32,
            manifest,
            stems,
            demo.top_k,
            demo.name,
            None,
        )
        if demo.name == "ppocr-cls":
            fx_manifest_path = models / "fixtures" / f"{SOFTMAX_FIXTURE}.toml"
            fx_manifest = load_manifest(fx_manifest_path)
            # The fixture shares ppocr-cls's preprocessing, hence its tensors (checked above).
            add_cases(
                SOFTMAX_FIXTURE,
                models / "fixtures" / f"{SOFTMAX_FIXTURE}.onnx",
                fx_manifest,
                fp32,
                manifest,
                SOFTMAX_FIXTURE_LINES,
                demo.top_k,
                demo.name,
                fx_manifest_path,
            )

    doc = {
        "format": 1,
        "generator": f"scripts/demo_models.py vectors (onnxruntime {ort.__version__}, 1 thread)",
        "cases": cases,
    }
    vec_dir.mkdir(parents=True, exist_ok=True)
    (vec_dir / "cases.json").write_text(
        json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    log(f"{vec_dir / 'cases.json'}: {len(cases)} cases, {len(list(tensor_dir.iterdir()))} tensors")


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------


def compare(
    fp32_path: Path, int8_path: Path, manifest: dict, kind_fp32: str, images: list[Path], k: int, bench: bool
) -> dict:
    shape, _ = input_hw(fp32_path)
    fp32 = session(fp32_path)
    int8 = session(int8_path)
    agree = 0
    max_delta = 0.0
    per_image = []
    x = None
    for image in images:
        x = preprocess(image, manifest, shape)
        p32 = scores(fp32, x, kind_fp32)
        p8 = scores(int8, x, manifest["output"]["kind"])
        t32, t8 = top_k(p32, k), top_k(p8, k)
        # Largest probability change over the classes either model ranks in its top k.
        delta = max(abs(p8[i] - p32[i]) for i in set(t32) | set(t8))
        agree += t32[0] == t8[0]
        max_delta = max(max_delta, delta)
        per_image.append(
            {
                "image": image.name,
                "fp32_top1": t32[0],
                "fp32_score": round(float(p32[t32[0]]), 6),
                "int8_top1": t8[0],
                "int8_score": round(float(p8[t8[0]]), 6),
                "max_abs_delta_top_k": round(float(delta), 6),
            }
        )
    assert x is not None
    result = {
        "top1_agreement": agree,
        "images": len(images),
        "top_k": k,
        "max_abs_delta_top_k": round(float(max_delta), 6),
        "per_image": per_image,
    }
    if bench:
        # Median of 30 runs on the last image; varies from run to run, hence opt-in.
        result["ort_ms_1_thread"] = {"fp32": round(bench_ms(fp32, x), 2), "int8": round(bench_ms(int8, x), 2)}
    return result


def tolerance_probe(model_path: Path, manifest: dict, images: list[Path], k: int) -> dict:
    """How far onnxruntime's own scores move under changes that another engine or another resize
    implementation brings, as max |Δscore| over the reference's top-k classes:

    - no_graph_optimization: ORT_DISABLE_ALL, i.e. QDQ executed as written (DequantizeLinear, float
      Conv, QuantizeLinear) instead of ORT's fused integer kernels; close to what tract does with QDQ.
    - two_threads: 2 intra-op threads instead of 1.
    - pixel_noise_1: the reference model fed images whose resized 8-bit pixels moved by -1/0/+1
      (seeded), i.e. a resize that rounds differently.
    """
    shape, _ = input_hw(model_path)
    kind = manifest["output"]["kind"]
    ref = session(model_path)
    variants = {
        "no_graph_optimization": session(model_path, level=ort.GraphOptimizationLevel.ORT_DISABLE_ALL),
        "two_threads": session(model_path, threads=2),
    }
    result = {name: 0.0 for name in [*variants, "pixel_noise_1"]}
    rng = np.random.default_rng(0)
    for image in images:
        x = preprocess(image, manifest, shape)
        p = scores(ref, x, kind)
        idx = top_k(p, k)
        for name, sess in variants.items():
            q = scores(sess, x, kind)
            result[name] = max(result[name], max(abs(q[i] - p[i]) for i in idx))
        q = scores(ref, preprocess(image, manifest, shape, perturb=rng), kind)
        result["pixel_noise_1"] = max(result["pixel_noise_1"], max(abs(q[i] - p[i]) for i in idx))
    return {name: round(float(v), 6) for name, v in result.items()}


def cmd_report(args: argparse.Namespace) -> None:
    models: Path = args.models
    shared: Path = args.shared
    report = {
        "generator": f"scripts/demo_models.py report (onnxruntime {ort.__version__}, 1 thread)",
        "models": {},
        "fixtures": {},
    }
    lines = []
    for demo in DEMOS:
        fp32_path = shared / demo.source
        int8_path = models / demo.name / "model.onnx"
        manifest = load_manifest(models / demo.name / "manifest.toml")
        images = demo.images(shared)
        entry = {
            "fp32_bytes": fp32_path.stat().st_size,
            "int8_bytes": int8_path.stat().st_size,
            "int8_sha256": hashlib.sha256(int8_path.read_bytes()).hexdigest(),
        }
        entry.update(
            compare(
                fp32_path, int8_path, manifest, manifest["output"]["kind"], images, demo.top_k, args.bench
            )
        )
        entry["ort_tolerance_probe"] = tolerance_probe(int8_path, manifest, images, demo.top_k)
        report["models"][demo.name] = entry
        if demo.name == "ppocr-cls":
            entry["orientation_correct"] = sum(
                r["int8_top1"] == (0 if r["image"].endswith("_0.png") else 1) for r in entry["per_image"]
            )
            fx = models / "fixtures" / f"{SOFTMAX_FIXTURE}.onnx"
            fx_manifest = load_manifest(models / "fixtures" / f"{SOFTMAX_FIXTURE}.toml")
            fx_entry = {"bytes": fx.stat().st_size}
            fx_entry.update(
                compare(fp32_path, fx, fx_manifest, "probabilities", images, demo.top_k, args.bench)
            )
            fx_entry["ort_tolerance_probe"] = tolerance_probe(fx, fx_manifest, images, demo.top_k)
            report["fixtures"][SOFTMAX_FIXTURE] = fx_entry
            fx = models / "fixtures" / f"{QOPERATOR_FIXTURE}.onnx"
            fx_entry = {"bytes": fx.stat().st_size}
            fx_entry.update(compare(fp32_path, fx, manifest, "probabilities", images, demo.top_k, args.bench))
            report["fixtures"][QOPERATOR_FIXTURE] = fx_entry

    lines.append(
        f"{'model':<32} {'fp32 MB':>8} {'int8 MB':>8} {'top-1 agree':>12} "
        f"{'max|Δp| top-k':>14}" + ("  ORT ms fp32/int8" if args.bench else "")
    )
    rows = [(n, e) for n, e in report["models"].items()]
    rows += [(f"fixtures/{n}", e) for n, e in report["fixtures"].items()]
    for name, e in rows:
        fp32_mb = f"{e['fp32_bytes'] / 1e6:.2f}" if "fp32_bytes" in e else "-"
        int8_mb = e.get("int8_bytes", e.get("bytes", 0)) / 1e6
        line = (
            f"{name:<32} {fp32_mb:>8} {int8_mb:>8.2f} "
            f"{e['top1_agreement']:>9}/{e['images']:<2} {e['max_abs_delta_top_k']:>14.4f}"
        )
        if "ort_ms_1_thread" in e:
            line += f"  {e['ort_ms_1_thread']['fp32']:.2f}/{e['ort_ms_1_thread']['int8']:.2f}"
        lines.append(line)
    ppocr = report["models"]["ppocr-cls"]
    lines.append(
        f"ppocr-cls int8 orientation correct on {ppocr['orientation_correct']}/{ppocr['images']} text lines"
    )
    lines.append("onnxruntime's own variation, max |Δscore| on the reference top-k (see tolerance_probe):")
    for name, e in rows:
        if "ort_tolerance_probe" in e:
            probe = ", ".join(f"{k} {v:.4f}" for k, v in e["ort_tolerance_probe"].items())
            lines.append(f"  {name:<30} {probe}")
    print("\n".join(lines))
    out = args.out or models / "report.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {out}")


# --------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    q = sub.add_parser("quantize", help="fp32 sources -> unpacked int8 models and fixtures")
    q.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="fp32 sources (%(default)s)")
    q.add_argument("--out", type=Path, default=DEFAULT_BUILD, help="build folder (%(default)s)")
    q.add_argument(
        "--manifests",
        type=Path,
        default=DEFAULT_MODELS,
        help="folder with <model>/manifest.toml (%(default)s)",
    )
    q.set_defaults(func=cmd_quantize)

    v = sub.add_parser("vectors", help="write the shared test vectors from the final models")
    v.add_argument("--models", type=Path, default=DEFAULT_MODELS, help="demo-models folder (%(default)s)")
    v.add_argument("--out", type=Path, default=None, help="vectors folder (default: MODELS/vectors)")
    v.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="fp32 sources and images (%(default)s)"
    )
    v.set_defaults(func=cmd_vectors)

    r = sub.add_parser("report", help="sizes and int8-vs-fp32 agreement")
    r.add_argument("--models", type=Path, default=DEFAULT_MODELS, help="demo-models folder (%(default)s)")
    r.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="fp32 sources and images (%(default)s)"
    )
    r.add_argument("--out", type=Path, default=None, help="report file (default: MODELS/report.json)")
    r.add_argument(
        "--bench", action="store_true", help="also time onnxruntime, 1 thread (changes from run to run)"
    )
    r.set_defaults(func=cmd_report)

    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
