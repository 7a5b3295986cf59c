#!/usr/bin/env python3
"""Ledge's detection and embedding demo models, and their test vectors.

Subcommands (run with the python of scripts/python-env.sh):

  convert    MediaPipe npm tarballs -> the two fp32 detector ONNX files (used by scripts/convert-detectors.sh)
  quantize   fp32 sources (shared/models) -> unpacked models in a build folder
  vectors    demo-models/ -> demo-models/vectors/detect.json, embed.json and the mirrored test images
  report     fp32-vs-int8 agreement and sizes -> stdout and demo-models/report-tasks.json
  selfcheck  unit checks of the NumPy reference (anchors, decoding, NMS, letterbox mapping)

The preprocessing comes from scripts/demo_models.py (Pillow), plus `letterbox` here. Everything after the
model (anchors, box decoding, score function, NMS, mapping back to image pixels) is an independent NumPy
implementation of the tasks contract (the repository README's manifest reference: `task`, `[detect]`,
`[embed]`, letterbox); it is the reference Ledge's Rust core is tested against. demo-models/README.md
("Detection and embedding models") describes the models, the choices made and the tolerances.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnx.version_converter
import onnxruntime as ort
from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_models as dm  # noqa: E402  (preprocessing, sessions, quantization helpers)

REPO = dm.REPO
DEFAULT_SHARED = dm.DEFAULT_SHARED
DEFAULT_BUILD = dm.DEFAULT_BUILD
DEFAULT_MODELS = dm.DEFAULT_MODELS
CACHE = REPO / "target" / "task-models-cache"

log = dm.log
fail = dm.fail


# --------------------------------------------------------------------------------------------------
# Preprocessing: scripts/demo_models.py's, plus `letterbox`, plus the map from input to image pixels
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Transform:
    """Maps a model-input pixel position to an image pixel position: image = (input - in0) * scale."""

    in_w: int
    in_h: int
    img_w: int
    img_h: int
    x0: float
    y0: float
    sx: float
    sy: float

    def to_image(self, x_in: float, y_in: float) -> tuple[float, float]:
        return (x_in - self.x0) * self.sx, (y_in - self.y0) * self.sy


def round_half_away(v: float) -> int:
    """Rust's f64::round (half away from zero), not Python's round (half to even)."""
    return int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5))


def letterbox_geometry(w: int, h: int, tw: int, th: int) -> tuple[int, int, int, int]:
    """(rw, rh, x0, y0) of the spec's letterbox: scale to fit, centre, the rest is padding."""
    s = min(tw / w, th / h)
    rw = min(max(round_half_away(w * s), 1), tw)
    rh = min(max(round_half_away(h * s), 1), th)
    return rw, rh, (tw - rw) // 2, (th - rh) // 2


def prepare(
    img: Image.Image, manifest: dict, shape: list[int], perturb: np.random.Generator | None = None
) -> tuple[np.ndarray, Transform]:
    """The model input tensor for one decoded image, and the transform back to image pixels.

    `perturb` (tolerance probes only): demo_models' -1/0/+1 noise on every resized 8-bit pixel value."""
    tw, th = dm.target_size(manifest, shape)
    w, h = img.size
    resize = manifest["input"]["resize"]
    kind = resize["kind"]
    if kind == "letterbox":
        rw, rh, x0, y0 = letterbox_geometry(w, h, tw, th)
        # demo_models' `stretch` to (rw, rh), then padding: the same Pillow resize and normalization.
        inner = dict(manifest, input=dict(manifest["input"], resize=dict(resize, kind="stretch")))
        layout = manifest["input"]["layout"]
        inner_shape = [1, 3, rh, rw] if layout == "NCHW" else [1, rh, rw, 3]
        x = dm.preprocess_image(img, inner, inner_shape, perturb)
        pad = np.float32(resize.get("pad_value", 0.0))
        if layout == "NCHW":
            full = np.full((1, 3, th, tw), pad, dtype=np.float32)
            full[:, :, y0 : y0 + rh, x0 : x0 + rw] = x
        else:
            full = np.full((1, th, tw, 3), pad, dtype=np.float32)
            full[:, y0 : y0 + rh, x0 : x0 + rw, :] = x
        return full, Transform(tw, th, w, h, x0, y0, w / rw, h / rh)
    x = dm.preprocess_image(img, manifest, shape, perturb)
    if kind == "stretch":
        return x, Transform(tw, th, w, h, 0.0, 0.0, w / tw, h / th)
    if kind == "center_crop":
        # The crop box of demo_models.preprocess_image: input (0, 0) is the crop's top-left corner.
        f = float(resize["crop_fraction"])
        crop_w = f * min(w, h * tw / th)
        crop_h = crop_w * th / tw
        left, top = (w - crop_w) / 2, (h - crop_h) / 2
        sx, sy = crop_w / tw, crop_h / th
        return x, Transform(tw, th, w, h, -left / sx, -top / sy, sx, sy)
    if kind == "keep_aspect_pad":
        rw = min(tw, math.ceil(th * w / h))
        return x, Transform(tw, th, w, h, 0.0, 0.0, w / rw, h / th)
    fail(f"unknown resize kind {kind!r}")
    raise AssertionError


def load_image(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


# --------------------------------------------------------------------------------------------------
# The NumPy reference: anchors, decoding, scores, NMS, results (the tasks spec, section by section)
# --------------------------------------------------------------------------------------------------


def ssd_anchors(cfg: dict, in_h: int, in_w: int) -> np.ndarray:
    """[N, 4] float64 (cx, cy, w, h), normalized: MediaPipe's SsdAnchorsCalculator."""
    if cfg.get("kind", "ssd") == "list":
        v = np.asarray(cfg["values"], dtype=np.float64)
        if v.size % 4:
            fail(f"anchors.values has {v.size} values, not a multiple of 4")
        return v.reshape(-1, 4)
    strides = list(cfg["strides"])
    n = len(strides)
    lo, hi = float(cfg["min_scale"]), float(cfg["max_scale"])
    ratios_cfg = [float(a) for a in cfg["aspect_ratios"]]
    reduce_lowest = bool(cfg.get("reduce_boxes_in_lowest_layer", False))
    interp = float(cfg.get("interpolated_scale_aspect_ratio", 1.0))
    fixed = bool(cfg.get("fixed_anchor_size", False))
    off_x = float(cfg.get("anchor_offset_x", 0.5))
    off_y = float(cfg.get("anchor_offset_y", 0.5))

    def scale(i: int) -> float:
        return (lo + hi) / 2 if n == 1 else lo + (hi - lo) * i / (n - 1)

    anchors: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < n:
        ratios: list[float] = []
        scales: list[float] = []
        last = layer
        while last < n and strides[last] == strides[layer]:
            s = scale(last)
            if last == 0 and reduce_lowest:
                ratios += [1.0, 2.0, 0.5]
                scales += [0.1, s, s]
            else:
                for a in ratios_cfg:
                    ratios.append(a)
                    scales.append(s)
                if interp > 0:
                    s_next = 1.0 if last == n - 1 else scale(last + 1)
                    scales.append(math.sqrt(s * s_next))
                    ratios.append(interp)
            last += 1
        fh, fw = math.ceil(in_h / strides[layer]), math.ceil(in_w / strides[layer])
        for y in range(fh):
            for x in range(fw):
                for a, s in zip(ratios, scales):
                    cx, cy = (x + off_x) / fw, (y + off_y) / fh
                    w, h = (1.0, 1.0) if fixed else (s * math.sqrt(a), s / math.sqrt(a))
                    anchors.append((cx, cy, w, h))
        layer = last
    return np.asarray(anchors, dtype=np.float64)


def decode(raw: np.ndarray, anchors: np.ndarray, coding: dict) -> tuple[np.ndarray, np.ndarray]:
    """raw [N, 4 + 2k] -> boxes [N, 4] (x, y, w, h) and keypoints [N, k, 2], normalized to the input."""
    v = np.asarray(raw, dtype=np.float64)
    k = int(coding.get("keypoints", 0))
    if v.shape != (anchors.shape[0], 4 + 2 * k):
        fail(f"box output {v.shape} does not match {anchors.shape[0]} anchors x (4 + 2*{k})")
    order = coding["order"]
    sc = [float(s) for s in coding["scales"]]
    if order == "yxhw":
        ty, tx, th, tw = v[:, 0], v[:, 1], v[:, 2], v[:, 3]
        sy, sx, sh, sw = sc
    elif order == "xywh":
        tx, ty, tw, th = v[:, 0], v[:, 1], v[:, 2], v[:, 3]
        sx, sy, sw, sh = sc
    else:
        fail(f"unknown box order {order!r}")
        raise AssertionError
    acx, acy, aw, ah = anchors[:, 0], anchors[:, 1], anchors[:, 2], anchors[:, 3]
    cx = tx / sx * aw + acx
    cy = ty / sy * ah + acy
    if coding.get("exponential_size", True):
        w = np.exp(tw / sw) * aw
        h = np.exp(th / sh) * ah
    else:
        w = tw / sw * aw
        h = th / sh * ah
    boxes = np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
    kps = np.zeros((v.shape[0], k, 2), dtype=np.float64)
    for j in range(k):
        kps[:, j, 0] = v[:, 4 + 2 * j] / sx * aw + acx
        kps[:, j, 1] = v[:, 5 + 2 * j] / sy * ah + acy
    return boxes, kps


def score_fn(logits: np.ndarray, kind: str) -> np.ndarray:
    """[N, C] float64 scores from the raw class output."""
    z = np.asarray(logits, dtype=np.float64)
    if kind == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-z) = inf for z < -709: the score is 0
            return 1.0 / (1.0 + np.exp(-z))
    if kind == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if kind == "identity":
        return z
    fail(f"unknown score_function {kind!r}")
    raise AssertionError


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two (x, y, w, h) boxes; 0 when the union is 0."""
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(ix, 0.0) * max(iy, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    *,
    mode: str,
    background: int | None,
    score_threshold: float,
    iou_threshold: float,
    max_results: int,
) -> list[tuple[int, int, float]]:
    """Hard NMS -> kept (anchor, class, score), best first."""
    n, c = scores.shape
    classes = np.array([j for j in range(c) if j != background], dtype=np.int64)
    if mode == "per_class":
        ai, ci = np.nonzero(scores[:, classes] >= score_threshold)
        cand = [(float(scores[a, classes[j]]), int(a), int(classes[j])) for a, j in zip(ai, ci)]
    elif mode == "class_agnostic":
        sub = scores[:, classes]
        best = np.argmax(sub, axis=1)  # first maximum: ties go to the lowest class index
        cand = [
            (float(sub[a, best[a]]), a, int(classes[best[a]]))
            for a in range(n)
            if sub[a, best[a]] >= score_threshold
        ]
    else:
        fail(f"unknown nms {mode!r}")
        raise AssertionError
    cand.sort(key=lambda t: (-t[0], t[1], t[2]))
    kept: list[tuple[int, int, float]] = []
    for score, a, cls in cand:
        if len(kept) >= max_results:
            break
        suppressed = any(
            (mode == "class_agnostic" or kc == cls) and iou(boxes[a], boxes[ka]) > iou_threshold
            for ka, kc, _ in kept
        )
        if not suppressed:
            kept.append((a, cls, score))
    return kept


def detect_options(det: dict, options: dict) -> dict:
    """DetectOptions (camelCase, absent = the manifest's default) -> resolved values."""
    return {
        "score_threshold": float(options.get("scoreThreshold", det.get("score_threshold", 0.5))),
        "iou_threshold": float(options.get("iouThreshold", det.get("iou_threshold", 0.45))),
        "max_results": int(options.get("maxResults", det.get("max_results", 25))),
    }


def postprocess(
    outputs: dict[str, np.ndarray],
    manifest: dict,
    labels: list[str],
    tf: Transform,
    options: dict,
    stats: dict | None = None,
) -> list[dict]:
    """Model outputs -> detections in image pixels, exactly as the spec says. `stats["dropped"]` counts
    the kept boxes that clipping to the image reduced to nothing (they are not reported)."""
    det = manifest["detect"]
    raw_boxes = np.asarray(outputs[det["boxes"]])
    raw_scores = np.asarray(outputs[det["scores"]])
    if raw_boxes.ndim == 3:
        raw_boxes = raw_boxes[0]
    if raw_scores.ndim == 3:
        raw_scores = raw_scores[0]
    anchors = ssd_anchors(det["anchors"], tf.in_h, tf.in_w)
    boxes, kps = decode(raw_boxes, anchors, det["box_coding"])
    scores = score_fn(raw_scores, det.get("score_function", "sigmoid"))
    if scores.shape[0] != anchors.shape[0]:
        fail(f"score output has {scores.shape[0]} rows for {anchors.shape[0]} anchors")
    if len(labels) != scores.shape[1]:
        fail(f"{len(labels)} labels for {scores.shape[1]} score columns")
    opt = detect_options(det, options)
    kept = nms(
        boxes,
        scores,
        mode=det.get("nms", "per_class"),
        background=det.get("background_class"),
        **opt,
    )
    results = []
    for a, cls, score in kept:
        x, y, w, h = (float(v) for v in boxes[a])
        x0, y0 = tf.to_image(x * tf.in_w, y * tf.in_h)
        x1, y1 = tf.to_image((x + w) * tf.in_w, (y + h) * tf.in_h)
        x0, x1 = min(max(x0, 0.0), tf.img_w), min(max(x1, 0.0), tf.img_w)
        y0, y1 = min(max(y0, 0.0), tf.img_h), min(max(y1, 0.0), tf.img_h)
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            if stats is not None:
                stats["dropped"] = stats.get("dropped", 0) + 1
            continue
        points = [list(tf.to_image(float(px) * tf.in_w, float(py) * tf.in_h)) for px, py in kps[a]]
        results.append(
            {
                "index": cls,
                "label": labels[cls],
                "score": score,
                "box": [x0, y0, x1 - x0, y1 - y0],
                "keypoints": points,
                "_anchor": a,
            }
        )
    return results


def box_iou_xywh(a: list[float], b: list[float]) -> float:
    return iou(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


def match(expected: list[dict], actual: list[dict]) -> list[tuple[dict, dict, float]] | None:
    """The vectors' matching rule: same count; each expected detection to an actual one with the same
    index, greedy by best IoU first. Returns the pairs (expected, actual, IoU), or None on a count or
    index mismatch."""
    if len(expected) != len(actual):
        return None
    pairs = sorted(
        (
            (box_iou_xywh(e["box"], a["box"]), i, j)
            for i, e in enumerate(expected)
            for j, a in enumerate(actual)
            if e["index"] == a["index"]
        ),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    used_e: set[int] = set()
    used_a: set[int] = set()
    out = []
    for v, i, j in pairs:
        if i in used_e or j in used_a:
            continue
        used_e.add(i)
        used_a.add(j)
        out.append((expected[i], actual[j], v))
    if len(out) != len(expected):
        return None
    return out


def run_outputs(sess: ort.InferenceSession, x: np.ndarray) -> dict[str, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, {sess.get_inputs()[0].name: x})))


def reference_session(model: Path) -> ort.InferenceSession:
    """The vectors' reference: graph optimizations disabled (QDQ run as written: DequantizeLinear, float
    op, QuantizeLinear, like tract), so the result does not depend on the CPU's fused int8 kernels."""
    return dm.session(model, threads=1, level=ort.GraphOptimizationLevel.ORT_DISABLE_ALL)


def detect(
    sess: ort.InferenceSession,
    img: Image.Image,
    manifest: dict,
    labels: list[str],
    options: dict | None = None,
    perturb: np.random.Generator | None = None,
    stats: dict | None = None,
) -> list[dict]:
    shape = [int(d) for d in sess.get_inputs()[0].shape]
    x, tf = prepare(img, manifest, shape, perturb)
    return postprocess(run_outputs(sess, x), manifest, labels, tf, options or {}, stats)


def embed(
    sess: ort.InferenceSession, img: Image.Image, manifest: dict, perturb: np.random.Generator | None = None
) -> np.ndarray:
    shape = [int(d) for d in sess.get_inputs()[0].shape]
    x, _ = prepare(img, manifest, shape, perturb)
    cfg = manifest.get("embed", {})
    out = run_outputs(sess, x)
    name = cfg.get("output", sess.get_outputs()[0].name)
    v = np.asarray(out[name], dtype=np.float64).reshape(-1)
    if cfg.get("l2_normalize", True):
        norm = np.linalg.norm(v)
        v = v / norm if norm > 0 else v
    return v


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def fmt_det(d: dict) -> str:
    b = ", ".join(f"{v:.1f}" for v in d["box"])
    return f"{d['label']} {d['score']:.3f} [{b}]"


# --------------------------------------------------------------------------------------------------
# Calibration images
# --------------------------------------------------------------------------------------------------

# Extra calibration photos with objects in them, from the scikit-image wheel's `skimage/data` (CC0 or
# public domain, see skimage.data's docstrings): fetched with `pip download` (the registry's ordinary
# client) into target/, checked against these sha256 values. The test photos (chelsea, coffee, camera)
# are in the same folder and are never used.
SKIMAGE_VERSION = "0.26.0"
SKIMAGE_PHOTOS = {
    "astronaut.png": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "rocket.jpg": "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
    "motorcycle_left.png": "db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179",
    "motorcycle_right.png": "5fc913ae870e42a4b662314bc904d1786bcad8e2f0b9b67dba5a229406357797",
}
TEST_STEMS = ("chelsea", "coffee", "camera")


def skimage_photos() -> list[Path]:
    """The SKIMAGE_PHOTOS, extracted from the pinned scikit-image wheel (cached in target/)."""
    out = CACHE / f"skimage-{SKIMAGE_VERSION}"
    paths = [out / name for name in SKIMAGE_PHOTOS]
    if not all(p.is_file() for p in paths):
        wheels = CACHE / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        found = sorted(wheels.glob(f"scikit_image-{SKIMAGE_VERSION}-*.whl"))
        if not found:
            log(f"fetching scikit-image {SKIMAGE_VERSION} (its data folder only) with pip download")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--only-binary=:all:",
                    f"scikit-image=={SKIMAGE_VERSION}",
                    "-d",
                    str(wheels),
                ],
                check=True,
            )
            found = sorted(wheels.glob(f"scikit_image-{SKIMAGE_VERSION}-*.whl"))
        out.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(found[0]) as z:
            for name in SKIMAGE_PHOTOS:
                (out / name).write_bytes(z.read(f"skimage/data/{name}"))
    for p in paths:
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        if digest != SKIMAGE_PHOTOS[p.name]:
            fail(f"{p}: sha256 {digest}, expected {SKIMAGE_PHOTOS[p.name]}")
    return paths


# --------------------------------------------------------------------------------------------------
# Quantization
# --------------------------------------------------------------------------------------------------

CALIB_METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "percentile": CalibrationMethod.Percentile,
    "entropy": CalibrationMethod.Entropy,
}
ACT_TYPES = {"u8": QuantType.QUInt8, "s8": QuantType.QInt8}
SHAPE_OPS = ("Transpose", "Reshape", "Concat", "Squeeze", "Unsqueeze", "Flatten")


def quantize_qdq(
    src: Path,
    out: Path,
    tensors: list[np.ndarray],
    *,
    method: str = "minmax",
    activations: str = "u8",
    extra: dict | None = None,
) -> onnx.ModelProto:
    """demo_models.quantize_one's recipe (quant_pre_process; QDQ, per-channel, s8 weights, Softmax
    excluded), with the calibration method and activation type as parameters."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _, input_name = dm.input_hw(src)
    with tempfile.TemporaryDirectory(prefix="ledge-quant-") as tmp:
        model = onnx.load(str(src))
        opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        if opset < 13:
            # Per-channel DequantizeLinear (its `axis` attribute) needs opset 13; tflite2onnx writes 11.
            # Conv, Clip, Add, Transpose, Reshape, Concat, Pad, MaxPool, Relu: same semantics in 13.
            model = onnx.version_converter.convert_version(model, 13)
            model.ir_version = max(model.ir_version, 7)  # opset 13 came with IR version 7
            src = Path(tmp) / "opset13.onnx"
            onnx.save(model, str(src))
        pre = Path(tmp) / "preprocessed.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        softmax = [n.name for n in dm.op_nodes(onnx.load(str(pre)), "Softmax")]
        options = {"OpTypesToExcludeOutputQuantization": ["Gemm", "MatMul"]}
        if method == "percentile":
            options["CalibPercentile"] = 99.999
        options.update(extra or {})
        quantize_static(
            str(pre),
            str(out),
            dm.ImageReader(input_name, tensors),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            calibrate_method=CALIB_METHODS[method],
            weight_type=QuantType.QInt8,
            activation_type=ACT_TYPES[activations],
            nodes_to_exclude=softmax,
            extra_options=options,
            calibration_providers=["CPUExecutionProvider"],
        )
    return dm.tidy(onnx.load(str(out)))


def float_head_outputs(model: onnx.ModelProto) -> tuple[onnx.ModelProto, list[str]]:
    """Remove the activation QuantizeLinear -> DequantizeLinear pairs between the graph outputs and the
    last compute nodes (through Transpose / Reshape / Concat): the detector heads keep int8 weights but
    produce float outputs, so box offsets and class logits are not rounded to the calibrated grid.
    Returns the model and the names of the compute nodes whose output is now float."""
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    outputs = {o.name for o in graph.output}
    removed: list[onnx.NodeProto] = []
    renames: dict[str, str] = {}  # tensor read by consumers -> tensor to read instead
    out_renames: dict[str, str] = {}  # tensor produced -> graph output name it must take
    heads: list[str] = []
    todo = list(outputs)
    seen: set[str] = set()
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        p = producer.get(t)
        if p is None:
            continue
        if p.op_type == "DequantizeLinear" and p.input[0] not in inits:
            q = producer.get(p.input[0])
            if q is None or q.op_type != "QuantizeLinear":
                fail(f"{p.name}: DequantizeLinear not fed by QuantizeLinear")
            consumers_of_q = [n for n in graph.node if p.input[0] in n.input]
            if len(consumers_of_q) != 1:
                fail(f"{q.name}: feeds {len(consumers_of_q)} nodes, expected 1")
            removed += [p, q]
            src = q.input[0]
            if t in outputs:
                out_renames[src] = t
            else:
                renames[t] = src
            todo.append(src)
        elif p.op_type in SHAPE_OPS:
            data_inputs = p.input[:1] if p.op_type in ("Reshape", "Squeeze", "Unsqueeze") else p.input
            todo += [i for i in data_inputs if i not in inits]
        else:
            heads.append(p.name)
    ids = {id(n) for n in removed}
    keep = [n for n in graph.node if id(n) not in ids]
    for n in keep:
        for i, name in enumerate(n.input):
            while name in renames:
                name = renames[name]
            n.input[i] = out_renames.get(name, name)
        for i, name in enumerate(n.output):
            n.output[i] = out_renames.get(name, name)
    del graph.node[:]
    graph.node.extend(keep)
    # value_info entries of tensors that no longer exist (or were renamed) are dropped.
    live = {i for n in keep for i in n.input} | {o for n in keep for o in n.output}
    vi = [v for v in graph.value_info if v.name in live and v.name not in outputs]
    del graph.value_info[:]
    graph.value_info.extend(vi)
    # ... and so are the removed pairs' scales and zero points.
    used = [i for i in graph.initializer if i.name in live]
    del graph.initializer[:]
    graph.initializer.extend(used)
    return model, sorted(heads)


def cut_embedder(src: Path, tensor: str, output: str) -> onnx.ModelProto:
    """The classifier without its head: `tensor` becomes the only graph output, renamed `output`; the
    nodes and initializers that only fed the head are dropped."""
    model = onnx.load(str(src))
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    if tensor not in producer:
        fail(f"{src}: no tensor {tensor!r}")
    # Keep the nodes `tensor` depends on.
    need, keep_ids, todo = set(), set(), [tensor]
    while todo:
        t = todo.pop()
        if t in need:
            continue
        need.add(t)
        p = producer.get(t)
        if p is not None and id(p) not in keep_ids:
            keep_ids.add(id(p))
            todo += list(p.input)
    nodes = [n for n in graph.node if id(n) in keep_ids]
    for n in nodes:
        n.input[:] = [output if i == tensor else i for i in n.input]
        n.output[:] = [output if o == tensor else o for o in n.output]
    del graph.node[:]
    graph.node.extend(nodes)
    inits = [i for i in graph.initializer if i.name in need]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    vi = [v for v in graph.value_info if v.name in need and v.name != tensor]
    del graph.value_info[:]
    graph.value_info.extend(vi)
    inferred = onnx.shape_inference.infer_shapes(model)
    shape = next((v for v in inferred.graph.value_info if v.name == output), None)
    if shape is None:
        fail(f"{src}: no inferred shape for {tensor}")
    del graph.output[:]
    graph.output.append(shape)
    del model.metadata_props[:]
    onnx.checker.check_model(model)
    return model


# --------------------------------------------------------------------------------------------------
# convert (scripts/convert-detectors.sh): MediaPipe npm packages -> fp32 ONNX
# --------------------------------------------------------------------------------------------------

OBJECTRON_NPM = "@mediapipe/objectron@0.4.1675468480"
FACE_NPM = "@mediapipe/face_detection@0.4.1657300184"
# (member of the npm tarball, file name in the packed-assets loader or None, byte range, sha256)
SSD_TFLITE = (
    "package/objectron_solution_packed_assets.data",
    "/third_party/mediapipe/modules/objectron/object_detection_ssd_mobilenetv2_oidv4_fp16.tflite",
    (184, 9987912),
    # The hash MediaPipe's build pins for object_detection_ssd_mobilenetv2_oidv4_fp16.tflite.
    "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6",
)
SSD_LABELS = (
    "package/objectron_solution_packed_assets.data",
    "/object_detection_oidv4_labelmap.txt",
    (0, 184),
    "c148336a65f673013609a923fdcbdeec0f49df935045029c3746a3828a0e80e0",
)
FACE_TFLITE = (
    "package/face_detection_short_range.tflite",
    None,
    None,
    "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
)
SSD_ONNX = "ssd_mobilenetv2_oidv4_fp32.onnx"
SSD_LABELS_TXT = "ssd_mobilenetv2_oidv4_labels.txt"
FACE_ONNX = "blazeface_short_range_fp32.onnx"


def tar_member(tgz: Path, name: str) -> bytes:
    with tarfile.open(tgz, "r:gz") as tar:
        f = tar.extractfile(name)
        if f is None:
            fail(f"{tgz}: no file {name}")
        return f.read()


def extract_asset(tgz: Path, spec: tuple) -> bytes:
    member, asset, span, sha = spec
    data = tar_member(tgz, member)
    if asset is not None:
        # The byte range is the one the package's loader lists for this asset: check it.
        loader = tar_member(tgz, "package/objectron_solution_packed_assets_loader.js").decode("utf-8")
        needle = f'"filename": "{asset}", "start": {span[0]}, "end": {span[1]}'
        if needle not in loader:
            fail(f"{tgz}: the packed-assets loader does not list {needle}")
        data = data[span[0] : span[1]]
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha:
        fail(f"{tgz}:{member} {asset or ''}: sha256 {digest}, expected {sha}")
    return data


def canonical_onnx(model: onnx.ModelProto) -> onnx.ModelProto:
    """tflite2onnx 0.4.1 keeps initializers and value_info in Python sets of tensor objects, so their
    order (only the order) changes from run to run; sorting them by name makes the file reproducible."""
    g = model.graph
    for field in (g.initializer, g.value_info):
        items = sorted(field, key=lambda t: t.name)
        del field[:]
        field.extend(items)
    return model


def graph_parts(model: onnx.ModelProto) -> dict[str, list[bytes]]:
    g = model.graph
    return {
        "nodes (in order)": [n.SerializeToString() for n in g.node],
        "initializers (by name)": sorted(i.SerializeToString() for i in g.initializer),
        "value_info (by name)": sorted(v.SerializeToString() for v in g.value_info),
        "inputs": [i.SerializeToString() for i in g.input],
        "outputs": [o.SerializeToString() for o in g.output],
        "opsets": [o.SerializeToString() for o in model.opset_import],
    }


def max_output_diff(a: Path, b: Path, seed: int = 0, runs: int = 4) -> float:
    sa, sb = dm.session(a), dm.session(b)
    shape = [int(d) for d in sa.get_inputs()[0].shape]
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(runs):
        x = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
        oa = sa.run(None, {sa.get_inputs()[0].name: x})
        ob = sb.run(None, {sb.get_inputs()[0].name: x})
        worst = max(worst, *(float(np.max(np.abs(p - q))) for p, q in zip(oa, ob)))
    return worst


def cmd_convert(args: argparse.Namespace) -> None:
    import logging

    import tflite2onnx  # only this subcommand needs it

    # tflite2onnx warns "Data type float16 not supported/tested yet" for every fp16 weight; it then folds
    # the TFLite pattern `fp16 weight -> Dequantize -> Conv` into float32 weights (quantize.py,
    # foldFP16QuantPattern), which is exactly what the TFLite interpreter computes.
    logging.getLogger("tflite2onnx").setLevel(logging.ERROR)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (args.objectron, SSD_TFLITE, SSD_ONNX),
        (args.face, FACE_TFLITE, FACE_ONNX),
    ]
    labels = extract_asset(args.objectron, SSD_LABELS)
    (out / SSD_LABELS_TXT).write_bytes(labels)
    log(f"{out / SSD_LABELS_TXT}: {len(labels.splitlines())} labels")
    summary = {}
    for tgz, spec, name in jobs:
        t0 = time.perf_counter()
        tfl = extract_asset(tgz, spec)
        dst = out / name
        with tempfile.TemporaryDirectory(prefix="ledge-convert-") as tmp:
            src = Path(tmp) / "model.tflite"
            src.write_bytes(tfl)
            raw = Path(tmp) / "model.onnx"
            tflite2onnx.convert(str(src), str(raw))
            model = canonical_onnx(onnx.load(str(raw)))
        onnx.checker.check_model(model)
        onnx.save(model, str(dst))
        digest = hashlib.sha256(dst.read_bytes()).hexdigest()
        log(f"{dst}: {dst.stat().st_size} bytes, sha256 {digest} ({time.perf_counter() - t0:.1f} s)")
        entry = {"bytes": dst.stat().st_size, "sha256": digest, "tflite_sha256": spec[3]}
        if args.compare is not None:
            ref = args.compare / name
            if not ref.is_file():
                log(f"  (no {ref} to compare with)")
            else:
                ref_model = onnx.load(str(ref))
                same_bytes = ref.read_bytes() == dst.read_bytes()
                canon = canonical_onnx(onnx.load(str(ref))).SerializeToString()
                same_canon = canon == model.SerializeToString()
                ours, theirs = graph_parts(model), graph_parts(ref_model)
                differ = [k for k in ours if ours[k] != theirs[k]]
                diff = max_output_diff(dst, ref)
                entry["compare"] = {
                    "reference": str(ref),
                    "reference_sha256": hashlib.sha256(ref.read_bytes()).hexdigest(),
                    "identical_bytes": same_bytes,
                    "identical_after_sorting_initializers_and_value_info": same_canon,
                    "differing_parts": differ,
                    "max_abs_output_diff": diff,
                }
                log(
                    f"  vs {ref}: identical bytes {same_bytes}; identical once initializers and value_info "
                    f"are sorted by name {same_canon}; differing graph parts {differ or 'none'}; "
                    f"max |output diff| on 4 random inputs {diff:.3g}"
                )
        summary[name] = entry
    if args.compare is not None:
        ref_labels = args.compare / SSD_LABELS_TXT
        if ref_labels.is_file():
            same = ref_labels.read_bytes() == labels
            summary[SSD_LABELS_TXT] = {"identical_bytes": same}
            log(f"  {SSD_LABELS_TXT} vs {ref_labels}: identical bytes {same}")
    print(json.dumps(summary, indent=2))


# --------------------------------------------------------------------------------------------------
# quantize
# --------------------------------------------------------------------------------------------------

SSD = "ssd-mobilenetv2-oid"
FACE = "blazeface-short-range"
EMBED = "efficientnet-lite0-embed"
SSD_SOURCE = f"detection/{SSD_ONNX}"
FACE_SOURCE = f"detection/{FACE_ONNX}"
EMBED_SOURCE = "efficientnet_lite0_fp32.onnx"
EMBED_TENSOR = "/Reshape_output_0"  # the 1280-d global-pool output, just before the classifier's Gemm
EMBED_OUTPUT = "embedding"
SSD_MAX_BYTES = 6_000_000

# The SSD recipe (see demo-models/README.md, "Detection and embedding models", for what else was tried).
SSD_RECIPE = {
    "calibration": "images/calib (20) + scikit-image astronaut, rocket, motorcycle_left, motorcycle_right",
    "method": "minmax",
    "activations": "u8",
    "weights": "s8 per-channel",
    "float_heads": True,
}
EMBED_RECIPE = {
    "calibration": "images/calib (20), as the classifier",
    "method": "minmax",
    "activations": "u8",
    "weights": "s8 per-channel",
    "float_output": True,
}


def calib_images(shared: Path) -> list[Path]:
    images = sorted(p for p in (shared / "images" / "calib").iterdir() if p.is_file())
    if not images:
        fail(f"no calibration images in {shared / 'images' / 'calib'}")
    if any(p.stem in TEST_STEMS for p in images):
        fail("a test photo is among the calibration images")
    return images


def calib_tensors(paths: list[Path], manifest: dict, shape: list[int]) -> list[np.ndarray]:
    return [prepare(load_image(p), manifest, shape)[0] for p in paths]


def quantize_ssd(
    shared: Path,
    dst: Path,
    manifest: dict,
    *,
    images: list[Path] | None = None,
    method: str = "minmax",
    activations: str = "u8",
    float_heads: bool = True,
) -> list[str]:
    """The SSD detector, int8 QDQ; returns the names of the nodes whose output stays float."""
    src = shared / SSD_SOURCE
    shape, _ = dm.input_hw(src)
    if images is None:
        images = calib_images(shared) + skimage_photos()
    tensors = calib_tensors(images, manifest, shape)
    model = quantize_qdq(src, dst, tensors, method=method, activations=activations)
    heads: list[str] = []
    if float_heads:
        model, heads = float_head_outputs(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return heads


def quantize_embed(shared: Path, dst: Path, manifest: dict) -> None:
    with tempfile.TemporaryDirectory(prefix="ledge-embed-") as tmp:
        cut = Path(tmp) / "embed_fp32.onnx"
        onnx.save(cut_embedder(shared / EMBED_SOURCE, EMBED_TENSOR, EMBED_OUTPUT), str(cut))
        shape, _ = dm.input_hw(cut)
        tensors = calib_tensors(calib_images(shared), manifest, shape)
        model = quantize_qdq(cut, dst, tensors, method="minmax", activations="u8")
    # The embedding stays float (the GlobalAveragePool's output is not re-quantized to 256 levels).
    model, _ = float_head_outputs(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def output_shapes(path: Path) -> dict[str, list]:
    sess = dm.session(path)
    return {o.name: list(o.shape) for o in sess.get_outputs()}


def check_ssd(fp32_path: Path, int8_path: Path, manifest: dict, labels: list[str], images: dict) -> dict:
    """The acceptance checks of the int8 SSD against fp32 on the test photos (threshold 0.3)."""
    fp32, int8 = reference_session(fp32_path), reference_session(int8_path)
    result = {}
    for stem, img in images.items():
        a = detect(fp32, img, manifest, labels, {"scoreThreshold": 0.3})
        b = detect(int8, img, manifest, labels, {"scoreThreshold": 0.3})
        pairs = match(a, b)
        if pairs is None:
            fail(f"{int8_path} on {stem}: fp32 {[fmt_det(d) for d in a]}, int8 {[fmt_det(d) for d in b]}")
        worst = min((v for _, _, v in pairs), default=1.0)
        if worst < 0.8:
            fail(f"{int8_path} on {stem}: IoU with fp32 {worst:.3f} < 0.8")
        result[stem] = (a, b, pairs)
    top = {s: r[1][0]["label"] if r[1] else None for s, r in result.items()}
    if top.get("chelsea") != "Cat" or result["chelsea"][1][0]["score"] < 0.5:
        fail(f"{int8_path}: chelsea is not Cat >= 0.5 ({top})")
    if top.get("coffee") not in ("Coffee cup", "Mug"):
        fail(f"{int8_path}: coffee is {top.get('coffee')}, not Coffee cup or Mug")
    return result


def cmd_quantize(args: argparse.Namespace) -> None:
    shared: Path = args.shared
    out: Path = args.out
    manifests: Path = args.manifests
    images = {s: load_image(shared / "images" / "test" / f"{s}.png") for s in TEST_STEMS}

    # SSD-MobileNetV2: int8 QDQ, heads with int8 weights and float outputs.
    t0 = time.perf_counter()
    manifest = dm.load_manifest(manifests / SSD / "manifest.toml")
    labels = dm.read_labels(manifest)
    ref_labels = (shared / "detection" / SSD_LABELS_TXT).read_text(encoding="utf-8").splitlines()
    if labels != ref_labels or labels[0] != "???" or len(labels) != 24:
        fail(f"{manifests / SSD / 'labels.txt'} differs from {shared / 'detection' / SSD_LABELS_TXT}")
    dst = out / SSD / "model.onnx"
    heads = quantize_ssd(shared, dst, manifest)
    size = dst.stat().st_size
    if size > SSD_MAX_BYTES:
        fail(f"{dst}: {size} bytes > {SSD_MAX_BYTES}")
    checked = check_ssd(shared / SSD_SOURCE, dst, manifest, labels, images)
    dt = time.perf_counter() - t0
    log(f"{dst}: {size} bytes, {len(heads)} head convolutions with float outputs ({dt:.1f} s)")
    for stem, (a, b, pairs) in checked.items():
        log(
            f"  {stem}: "
            + "; ".join(
                f"{e['label']} fp32 {e['score']:.3f} int8 {x['score']:.3f} IoU {v:.3f}" for e, x, v in pairs
            )
        )

    # BlazeFace: shipped as fp32 (int8 activations break its scores, see the report).
    t0 = time.perf_counter()
    dst = out / FACE / "model.onnx"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shared / FACE_SOURCE, dst)
    dt = time.perf_counter() - t0
    log(f"{dst}: {dst.stat().st_size} bytes, fp32 copy of {shared / FACE_SOURCE} ({dt:.1f} s)")

    # EfficientNet-Lite0 embedding.
    t0 = time.perf_counter()
    manifest = dm.load_manifest(manifests / EMBED / "manifest.toml")
    dst = out / EMBED / "model.onnx"
    quantize_embed(shared, dst, manifest)
    shapes = output_shapes(dst)
    if shapes != {EMBED_OUTPUT: [1, 1280]}:
        fail(f"{dst}: outputs {shapes}, expected {{'{EMBED_OUTPUT}': [1, 1280]}}")
    sess = reference_session(dst)
    e = {s: embed(sess, img, manifest) for s, img in images.items()}
    m = {
        s: embed(sess, img.transpose(Image.Transpose.FLIP_LEFT_RIGHT), manifest) for s, img in images.items()
    }
    mirror = {s: cosine(e[s], m[s]) for s in TEST_STEMS}
    other = {f"{a}~{b}": cosine(e[a], e[b]) for i, a in enumerate(TEST_STEMS) for b in TEST_STEMS[i + 1 :]}
    if min(mirror.values()) < 0.9 or max(other.values()) > 0.4:
        fail(f"{dst}: cosine photo~mirror {mirror}, between photos {other}")
    log(
        f"{dst}: {dst.stat().st_size} bytes ({time.perf_counter() - t0:.1f} s); cosine photo~mirror "
        + ", ".join(f"{k} {v:.3f}" for k, v in mirror.items())
        + "; between photos "
        + ", ".join(f"{k} {v:.3f}" for k, v in other.items())
    )


# --------------------------------------------------------------------------------------------------
# selfcheck: unit checks of the NumPy reference against values worked out by hand
# --------------------------------------------------------------------------------------------------


def _close(what: str, got, want, tol: float = 1e-6) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.allclose(got, want, atol=tol, rtol=0):
        fail(f"selfcheck {what}: got {got.tolist()}, want {want.tolist()}")


def cmd_selfcheck(args: argparse.Namespace) -> None:
    models: Path = args.models
    r2, r3, r13 = math.sqrt(2.0), math.sqrt(3.0), math.sqrt(0.3333)

    # SSD-MobileNetV2, 300x300: 19x19x3 + (10x10 + 5x5 + 3x3 + 2x2 + 1x1) x 6 = 1917 anchors.
    ssd = dm.load_manifest(models / SSD / "manifest.toml")["detect"]["anchors"]
    a = ssd_anchors(ssd, 300, 300)
    _close("ssd anchor count", a.shape, (1917, 4))
    c0, c1 = 0.5 / 19, 1.5 / 19
    _close(
        "ssd anchors 0..3 (layer 0: scale 0.1 ratio 1, scale 0.2 ratios 2 and 0.5)",
        a[:4],
        [[c0, c0, 0.1, 0.1], [c0, c0, 0.2 * r2, 0.2 / r2], [c0, c0, 0.2 / r2, 0.2 * r2], [c1, c0, 0.1, 0.1]],
    )
    s1, s2 = 0.2 + 0.75 / 5, 0.2 + 0.75 * 2 / 5  # scales of layers 1 and 2: 0.35, 0.5
    _close(
        "ssd anchors 1083..1088 (layer 1, cell 0: ratios 1, 2, 0.5, 3, 0.3333, interpolated)",
        a[1083:1089],
        [
            [0.05, 0.05, s1, s1],
            [0.05, 0.05, s1 * r2, s1 / r2],
            [0.05, 0.05, s1 / r2, s1 * r2],
            [0.05, 0.05, s1 * r3, s1 / r3],
            [0.05, 0.05, s1 * r13, s1 / r13],
            [0.05, 0.05, math.sqrt(s1 * s2), math.sqrt(s1 * s2)],
        ],
    )
    _close(
        "ssd anchor 1916 (last layer 1x1: interpolated sqrt(0.95 * 1))",
        a[1916],
        [0.5, 0.5, math.sqrt(0.95), math.sqrt(0.95)],
    )

    # BlazeFace short-range, 128x128: 16x16x2 + 8x8x6 = 896 anchors of size 1.
    face = dm.load_manifest(models / FACE / "manifest.toml")["detect"]["anchors"]
    a = ssd_anchors(face, 128, 128)
    _close("blazeface anchor count", a.shape, (896, 4))
    _close(
        "blazeface anchors 0..2",
        a[:3],
        [[0.5 / 16, 0.5 / 16, 1, 1], [0.5 / 16, 0.5 / 16, 1, 1], [1.5 / 16, 0.5 / 16, 1, 1]],
    )
    _close(
        "blazeface anchors 512..518 (8x8 grid, 6 per cell)",
        a[512:519],
        [[0.0625, 0.0625, 1, 1]] * 6 + [[0.1875, 0.0625, 1, 1]],
    )
    _close("blazeface anchor 895", a[895], [7.5 / 8, 7.5 / 8, 1, 1])

    # Decoding: TF OD API (yxhw, exponential) and MediaPipe (xywh, linear, keypoints).
    boxes, _ = decode(
        np.array([[1.0, 2.0, 0.0, 5 * math.log(2)]]),
        np.array([[0.5, 0.5, 0.2, 0.1]]),
        {"order": "yxhw", "scales": [10, 10, 5, 5], "exponential_size": True},
    )
    _close("decode yxhw", boxes[0], [0.54 - 0.2, 0.51 - 0.05, 0.4, 0.1])
    boxes, kps = decode(
        np.array([[12.8, -12.8, 25.6, 38.4, 6.4, 0.0]]),
        np.array([[0.25, 0.75, 1, 1]]),
        {"order": "xywh", "scales": [128] * 4, "exponential_size": False, "keypoints": 1},
    )
    _close("decode xywh", boxes[0], [0.25, 0.5, 0.2, 0.3])
    _close("decode keypoint", kps[0], [[0.3, 0.75]])
    _close("softmax", score_fn(np.array([[0.0, math.log(3)]]), "softmax"), [[0.25, 0.75]])
    _close("sigmoid", score_fn(np.array([[0.0, -1000.0]]), "sigmoid"), [[0.5, 0.0]])

    # NMS. Anchors 0 and 1 overlap (IoU 0.905), 2 and 3 are the same box; class 0 is background.
    boxes = np.array(
        [[0.1, 0.1, 0.4, 0.4], [0.12, 0.1, 0.4, 0.4], [0.6, 0.6, 0.3, 0.3], [0.6, 0.6, 0.3, 0.3]]
    )
    scores = np.array([[0.9, 0.8, 0.7], [0.1, 0.75, 0.72], [0.0, 0.2, 0.5], [0.0, 0.1, 0.5]])
    _close("iou", iou(boxes[0], boxes[1]), 0.152 / 0.168)
    _close("iou of empty boxes", iou(np.zeros(4), np.zeros(4)), 0.0)

    def run(mode: str, thr: float = 0.5, k: int = 10) -> list[tuple[int, int]]:
        kept = nms(
            boxes, scores, mode=mode, background=0, score_threshold=thr, iou_threshold=0.5, max_results=k
        )
        return [(a_, c_) for a_, c_, _ in kept]

    # per_class: (0,1) suppresses (1,1); (1,2) survives (other class) and suppresses (0,2); (2,2) ties with
    # (3,2) at 0.5 = the threshold (kept: >=) and comes first by anchor index, so (3,2) is suppressed.
    checks = [
        ("per_class", run("per_class"), [(0, 1), (1, 2), (2, 2)]),
        ("class_agnostic", run("class_agnostic"), [(0, 1), (2, 2)]),
        ("per_class max_results 2", run("per_class", k=2), [(0, 1), (1, 2)]),
        ("class_agnostic, threshold 0.6", run("class_agnostic", thr=0.6), [(0, 1)]),
        (
            "per_class, no background",
            [
                (a_, c_)
                for a_, c_, _ in nms(
                    boxes,
                    scores,
                    mode="per_class",
                    background=None,
                    score_threshold=0.5,
                    iou_threshold=0.5,
                    max_results=10,
                )
            ],
            [(0, 0), (0, 1), (1, 2), (2, 2)],
        ),
    ]
    for what, got, want in checks:
        if got != want:
            fail(f"selfcheck nms {what}: got {got}, want {want}")

    # Letterbox geometry and the map back to image pixels; rounding is half away from zero.
    if letterbox_geometry(3, 4, 6, 6) != (5, 6, 0, 0):
        fail(f"selfcheck letterbox 3x4 -> 6x6: {letterbox_geometry(3, 4, 6, 6)}")
    if letterbox_geometry(451, 300, 128, 128) != (128, 85, 0, 21):
        fail(f"selfcheck letterbox 451x300 -> 128: {letterbox_geometry(451, 300, 128, 128)}")
    lb = {
        "input": {
            "layout": "NCHW",
            "color": "RGB",
            "resize": {"kind": "letterbox", "filter": "bilinear", "pad_value": -1.0},
            "normalize": {"scale": [1 / 127.5], "offset": [-1.0]},
        }
    }
    x, tf = prepare(Image.new("RGB", (451, 300), (255, 255, 255)), lb, [1, 3, 128, 128])
    _close("letterbox to_image", tf.to_image(64.0, 21 + 42.5), (225.5, 150.0))
    _close(
        "letterbox padding",
        [x[0, 0, 20, 0], x[0, 0, 21, 0], x[0, 0, 105, 0], x[0, 0, 106, 0]],
        [-1.0, 1.0, 1.0, -1.0],
    )
    log("selfcheck: anchors (SSD 1917, BlazeFace 896), decoding, scores, NMS, letterbox: ok")


# --------------------------------------------------------------------------------------------------
# vectors
# --------------------------------------------------------------------------------------------------

# Tolerances written into detect.json / embed.json. Every vector case is image level: Ledge decodes and
# resizes the image itself, so two things separate it from this reference:
#   - the resize: Ledge's differs from Pillow's by one 8-bit level on some pixels (more on a few edge pixels);
#   - the engine: tract runs QDQ as written (DequantizeLinear, float op, QuantizeLinear), like onnxruntime
#     with ORT_DISABLE_ALL (the reference here), but float summation order can still move an activation
#     across a rounding boundary by one quantization step; other int8 kernels (ARM, wasm) round alike.
# Measured (report-tasks.json, ort_tolerance_probe; "pixel noise" moves every resized pixel by -1/0/+1,
# 5 seeds, more than Ledge's resize does):
#   SSD int8       pixel noise: IoU >= 0.900, |Δscore| <= 0.017; ORT's fused int8 kernels (ENABLE_ALL):
#                  IoU >= 0.945, |Δscore| <= 0.012
#   BlazeFace fp32 pixel noise: IoU >= 0.964, |Δscore| <= 0.022
#   embedding      pixel noise: cosine with the reference >= 0.988, pair cosines move <= 0.016
#   Ledge itself (the core's work-in-progress `ledge detect/embed`, x86_64, both its int8 kernels and
#   --tract-kernels): IoU >= 0.929, |Δscore| <= 0.027 (camera.png's Person), cosine >= 0.998, pairs <= 0.005.
# What bugs do (report-tasks.json, bug_probe): a wrong box order, anchor offset, size divisor, letterbox
# mapping or padding changes the number of detections or drops IoU to 0.25-0.74; the wrong colour order,
# resize kind, crop or normalization gives embedding cosines 0.87-0.96 (bilinear instead of bicubic gives
# 0.995: too close to the noise for an embedding vector to catch; the classifier's vectors cover it).
# Hence: min IoU 0.8 (twice the worst 1 - IoU seen), score tolerance 0.06 (about 2x the worst Δscore
# seen; a missing or wrong score function moves scores by tenths), min cosine 0.98 (above the worst noise
# 0.988 by a little, below every preprocessing bug measured), pair tolerance 0.03 (about 2x the worst seen).
DETECT_MIN_IOU = 0.8
DETECT_SCORE_TOLERANCE = 0.06
EMBED_MIN_COSINE = 0.98
EMBED_PAIR_TOLERANCE = 0.03

# (name, model, image stem, DetectOptions). Chosen so that no candidate is within the score tolerance
# of the threshold, nor within twice of the last kept one when maxResults cuts (checked when writing).
DETECT_CASES = [
    (f"{SSD}/chelsea", SSD, "chelsea", {"scoreThreshold": 0.3}),
    (f"{SSD}/coffee", SSD, "coffee", {"scoreThreshold": 0.3}),
    (f"{SSD}/camera", SSD, "camera", {"scoreThreshold": 0.3}),
    # At 0.15: Coffee cup 0.56, and Mug, Bottle, Table, ... on the same or other boxes (per-class NMS
    # keeps other classes): maxResults cuts to the first.
    (f"{SSD}/coffee/max-results-1", SSD, "coffee", {"scoreThreshold": 0.15, "maxResults": 1}),
    # One face, 6 keypoints; square photo, so letterbox = stretch here.
    (f"{FACE}/camera", FACE, "camera", {}),
    # No face above the manifest's threshold (0.5).
    (f"{FACE}/coffee", FACE, "coffee", {}),
    # Non-square photo through the letterbox (21 px bands of padding): BlazeFace sees the cat's face at
    # 0.49, too close to 0.5 for an empty-list case, so it is a positive case at threshold 0.4.
    (f"{FACE}/chelsea/letterbox", FACE, "chelsea", {"scoreThreshold": 0.4, "maxResults": 1}),
]
MIRRORS = {stem: f"{stem}_mirror" for stem in TEST_STEMS}
EMBED_PAIRS = [(s, MIRRORS[s]) for s in TEST_STEMS] + [
    (a, b) for i, a in enumerate(TEST_STEMS) for b in TEST_STEMS[i + 1 :]
]


def write_mirrors(images_dir: Path) -> None:
    for stem, mirror in MIRRORS.items():
        with Image.open(images_dir / f"{stem}.png") as im:
            im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(images_dir / f"{mirror}.png", optimize=True)


def public(d: dict) -> dict:
    """A detection as the vectors hold it (rounded: far below any tolerance)."""
    return {
        "index": d["index"],
        "label": d["label"],
        "score": round(d["score"], 6),
        "box": [round(v, 4) for v in d["box"]],
        "keypoints": [[round(v, 4) for v in p] for p in d["keypoints"]],
    }


def check_margins(name: str, sess, img, manifest, labels, options: dict, expected: list[dict]) -> None:
    """Fail when the case's result could flip within the score tolerance: a candidate within the
    tolerance of the threshold, or a maxResults cut between two scores closer than twice the tolerance;
    or when a box was dropped by clipping (whether that happens before or after maxResults is not pinned
    down by the spec)."""
    tol = DETECT_SCORE_TOLERANCE
    stats: dict = {}
    detect(sess, img, manifest, labels, options, stats=stats)
    if stats.get("dropped"):
        fail(f"{name}: {stats['dropped']} box(es) clipped to nothing; choose another case")
    det = manifest["detect"]
    opt = detect_options(det, options)
    free = dict(options, maxResults=100000)
    for delta in (-tol, tol):
        shifted = detect(
            sess, img, manifest, labels, dict(free, scoreThreshold=opt["score_threshold"] + delta)
        )
        shifted = shifted[: opt["max_results"]]
        if [d["index"] for d in shifted] != [d["index"] for d in expected]:
            fail(
                f"{name}: result changes with the threshold moved by {delta:+.3f}: "
                f"{[fmt_det(d) for d in shifted]}"
            )
    everything = detect(sess, img, manifest, labels, free)
    k = opt["max_results"]
    if len(everything) > k and everything[k - 1]["score"] - everything[k]["score"] <= 2 * tol:
        fail(f"{name}: maxResults {k} cuts between {fmt_det(everything[k - 1])} and {fmt_det(everything[k])}")


def dump_json(obj, indent: int = 0) -> str:
    """JSON with two-space indentation, but lists of numbers (boxes, keypoints, embeddings) on one line."""
    pad = "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(k)}: {dump_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(obj, list):
        if all(isinstance(v, (int, float)) for v in obj) or all(
            isinstance(v, list) and all(isinstance(u, (int, float)) for u in v) for v in obj
        ):
            return json.dumps(obj, separators=(", ", ": "))
        if not obj:
            return "[]"
        return (
            "[\n" + ",\n".join(f"{pad}{dump_json(v, indent + 1)}" for v in obj) + "\n" + "  " * indent + "]"
        )
    return json.dumps(obj, ensure_ascii=False)


def cmd_vectors(args: argparse.Namespace) -> None:
    models: Path = args.models.resolve()
    vec_dir = models / "vectors"
    images_dir = models / "images"
    vec_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cmd_selfcheck(args)
    for stem in TEST_STEMS:
        if not (images_dir / f"{stem}.png").is_file():
            fail(f"{images_dir / stem}.png missing: run scripts/demo_models.py vectors first")
    write_mirrors(images_dir)

    def rel(p: Path) -> str:
        return p.relative_to(models).as_posix()

    generator = (
        f"scripts/task_models.py vectors (onnxruntime {ort.__version__}, ORT_DISABLE_ALL, 1 thread; "
        "NumPy anchors, decoding, NMS)"
    )
    cases = []
    loaded: dict[str, tuple] = {}
    for name, model_name, stem, options in DETECT_CASES:
        if model_name not in loaded:
            manifest = dm.load_manifest(models / model_name / "manifest.toml")
            loaded[model_name] = (
                manifest,
                dm.read_labels(manifest),
                reference_session(models / model_name / "model.onnx"),
            )
        manifest, labels, sess = loaded[model_name]
        image = images_dir / f"{stem}.png"
        img = load_image(image)
        expected = detect(sess, img, manifest, labels, options)
        check_margins(name, sess, img, manifest, labels, options, expected)
        log(f"{name} {options}: " + ("; ".join(fmt_det(d) for d in expected) or "nothing"))
        cases.append(
            {
                "name": name,
                "model": rel(models / model_name / "model.onnx"),
                "image": rel(image),
                "options": options,
                "expected": [public(d) for d in expected],
                "min_iou": DETECT_MIN_IOU,
                "score_tolerance": DETECT_SCORE_TOLERANCE,
            }
        )
    doc = {"format": 1, "generator": generator, "cases": cases}
    (vec_dir / "detect.json").write_text(dump_json(doc) + "\n", encoding="utf-8")
    log(f"{vec_dir / 'detect.json'}: {len(cases)} cases")

    manifest = dm.load_manifest(models / EMBED / "manifest.toml")
    model = models / EMBED / "model.onnx"
    sess = reference_session(model)
    stems = [s for stem in TEST_STEMS for s in (stem, MIRRORS[stem])]
    vectors = {s: embed(sess, load_image(images_dir / f"{s}.png"), manifest) for s in stems}
    cases = [
        {
            "name": f"{EMBED}/{s}",
            "model": rel(model),
            "image": rel(images_dir / f"{s}.png"),
            "expected": [round(float(v), 8) for v in vectors[s]],
            "min_cosine": EMBED_MIN_COSINE,
        }
        for s in stems
    ]
    pairs = []
    for a, b in EMBED_PAIRS:
        c = cosine(vectors[a], vectors[b])
        log(f"{EMBED}: cosine {a} ~ {b} = {c:.4f}")
        pairs.append(
            {
                "model": rel(model),
                "a": rel(images_dir / f"{a}.png"),
                "b": rel(images_dir / f"{b}.png"),
                "cosine": round(c, 6),
                "tolerance": EMBED_PAIR_TOLERANCE,
            }
        )
    doc = {
        "format": 1,
        "generator": generator.replace("; NumPy anchors, decoding, NMS", ""),
        "cases": cases,
        "pairs": pairs,
    }
    (vec_dir / "embed.json").write_text(dump_json(doc) + "\n", encoding="utf-8")
    log(
        f"{vec_dir / 'embed.json'}: {len(cases)} cases, {len(pairs)} pairs ({time.perf_counter() - t0:.1f} s)"
    )


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------


def det_summary(d: dict) -> dict:
    return {"label": d["label"], "score": round(d["score"], 4), "box": [round(v, 1) for v in d["box"]]}


def detect_probe(model: Path, manifest: dict, labels: list[str], cases: list[tuple], seeds: int = 5) -> dict:
    """How far onnxruntime's own detections move on the vector cases, against the reference
    (ORT_DISABLE_ALL): min IoU of matched boxes, max |Δscore|, cases whose count or classes changed."""
    ref = reference_session(model)
    variants = {
        "ort_enable_all": lambda img, opt: detect(dm.session(model), img, manifest, labels, opt),
        "two_threads": lambda img, opt: detect(
            dm.session(model, threads=2, level=ort.GraphOptimizationLevel.ORT_DISABLE_ALL),
            img,
            manifest,
            labels,
            opt,
        ),
    }
    result = {}
    for vname, fn in [*variants.items(), ("pixel_noise_1", None)]:
        worst_iou, worst_score, mismatches = 1.0, 0.0, []
        for name, _, stem, options, img in cases:
            expected = detect(ref, img, manifest, labels, options)
            runs = (
                [fn(img, options)]
                if fn is not None
                else [
                    detect(ref, img, manifest, labels, options, perturb=np.random.default_rng(seed))
                    for seed in range(seeds)
                ]
            )
            for got in runs:
                pairs = match(expected, got)
                if pairs is None:
                    mismatches.append(name)
                    continue
                for e, a, v in pairs:
                    worst_iou = min(worst_iou, v)
                    worst_score = max(worst_score, abs(e["score"] - a["score"]))
        result[vname] = {
            "min_iou": round(worst_iou, 4),
            "max_abs_delta_score": round(worst_score, 4),
            "count_or_class_changed": sorted(set(mismatches)),
        }
    return result


def variant(manifest: dict, section: str, **changes) -> dict:
    """A copy of the manifest with keys of one (dotted) section changed: what a buggy reader would use."""
    m = json.loads(json.dumps({k: v for k, v in manifest.items() if k != "_path"}))
    m["_path"] = manifest["_path"]
    node = m
    for part in section.split("."):
        node = node[part]
    node.update(changes)
    return m


def detect_bug_probe(model: Path, manifest: dict, labels: list[str], cases: list[tuple]) -> dict:
    """What plausible implementation bugs do to the vector cases (so that the tolerances catch them): per
    bug, the worst IoU and |Δscore| of matched detections, and the cases whose count or classes change."""
    sess = reference_session(model)
    det = manifest["detect"]
    coding, anchors = det["box_coding"], det["anchors"]
    swapped = "xywh" if coding["order"] == "yxhw" else "yxhw"
    bugs = {
        f"box order read as {swapped}": variant(manifest, "detect.box_coding", order=swapped),
        "anchor offset 0 instead of 0.5": variant(
            manifest, "detect.anchors", anchor_offset_x=0.0, anchor_offset_y=0.0
        ),
        "size divisors doubled": variant(
            manifest, "detect.box_coding", scales=[coding["scales"][0]] * 2 + [coding["scales"][0] * 2] * 2
        ),
    }
    if anchors.get("reduce_boxes_in_lowest_layer"):
        bugs["interpolated box missing"] = variant(
            manifest, "detect.anchors", interpolated_scale_aspect_ratio=0.0
        )
    if manifest["input"]["resize"]["kind"] == "letterbox":
        bugs["stretch instead of letterbox"] = variant(manifest, "input.resize", kind="stretch")
        bugs["letterbox padding 0 instead of -1"] = variant(manifest, "input.resize", pad_value=0.0)
    result = {}
    for bug, m in bugs.items():
        worst_iou, worst_score, changed = 1.0, 0.0, []
        for name, _, _, options, img in cases:
            expected = detect(sess, img, manifest, labels, options)
            try:
                got = detect(sess, img, m, labels, options)
            except SystemExit as e:  # e.g. an anchor count that no longer matches the outputs
                changed.append(f"{name} ({e})")
                continue
            pairs = match(expected, got)
            if pairs is None:
                changed.append(name)
                continue
            for e, a, v in pairs:
                worst_iou = min(worst_iou, v)
                worst_score = max(worst_score, abs(e["score"] - a["score"]))
        result[bug] = {
            "min_iou": round(worst_iou, 3),
            "max_abs_delta_score": round(worst_score, 3),
            "count_or_class_changed": changed,
        }
    return result


def embed_bug_probe(sess, manifest: dict, images: dict) -> dict:
    """Cosine with the reference embedding when the preprocessing is wrong in a plausible way."""
    bugs = {
        "BGR instead of RGB": variant(manifest, "input", color="BGR"),
        "stretch instead of center crop": variant(manifest, "input.resize", kind="stretch"),
        "crop fraction 1.0 instead of 0.875": variant(manifest, "input.resize", crop_fraction=1.0),
        "bilinear instead of bicubic": variant(manifest, "input.resize", filter="bilinear"),
        "ImageNet mean/std": variant(
            manifest, "input", normalize={"mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375]}
        ),
    }
    ref = {s: embed(sess, im, manifest) for s, im in images.items()}
    return {
        bug: round(min(cosine(ref[s], embed(sess, im, m)) for s, im in images.items()), 4)
        for bug, m in bugs.items()
    }


def cmd_report(args: argparse.Namespace) -> None:
    models: Path = args.models
    shared: Path = args.shared
    t_all = time.perf_counter()
    out = args.out or models / "report-tasks.json"
    previous = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    report: dict = {
        "generator": f"scripts/task_models.py report (onnxruntime {ort.__version__}, 1 thread)",
        "models": {},
    }
    images = {s: load_image(models / "images" / f"{s}.png") for s in TEST_STEMS}
    lines = []

    def cases_of(model_name: str) -> list[tuple]:
        return [(n, m, s, o, images[s]) for n, m, s, o in DETECT_CASES if m == model_name]

    # SSD: sizes, int8 vs fp32 at threshold 0.3, tolerance probe.
    t0 = time.perf_counter()
    manifest = dm.load_manifest(models / SSD / "manifest.toml")
    labels = dm.read_labels(manifest)
    fp32_path, int8_path = shared / SSD_SOURCE, models / SSD / "model.onnx"
    checked = check_ssd(fp32_path, int8_path, manifest, labels, images)
    entry = {
        "fp32_bytes": fp32_path.stat().st_size,
        "int8_bytes": int8_path.stat().st_size,
        "int8_sha256": hashlib.sha256(int8_path.read_bytes()).hexdigest(),
        "outputs": output_shapes(int8_path),
        "recipe": SSD_RECIPE,
        "score_threshold": 0.3,
        "per_image": [
            {
                "image": f"{stem}.png",
                "fp32": [det_summary(d) for d in a],
                "int8": [det_summary(d) for d in b],
                "matched": [
                    {
                        "label": e["label"],
                        "fp32_score": round(e["score"], 4),
                        "int8_score": round(x["score"], 4),
                        "iou": round(v, 4),
                    }
                    for e, x, v in pairs
                ],
            }
            for stem, (a, b, pairs) in checked.items()
        ],
        "ort_tolerance_probe": detect_probe(int8_path, manifest, labels, cases_of(SSD)),
        "bug_probe": detect_bug_probe(int8_path, manifest, labels, cases_of(SSD)),
    }
    report["models"][SSD] = entry
    lines.append(
        f"{SSD}: fp32 {entry['fp32_bytes'] / 1e6:.2f} MB, int8 {entry['int8_bytes'] / 1e6:.2f} MB "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    for p in entry["per_image"]:
        lines.append(
            f"  {p['image']}: "
            + "; ".join(
                f"{m['label']} fp32 {m['fp32_score']:.3f} int8 {m['int8_score']:.3f} IoU {m['iou']:.3f}"
                for m in p["matched"]
            )
        )

    # BlazeFace: shipped fp32; the int8 attempt and letterbox vs stretch, for the record.
    t0 = time.perf_counter()
    manifest = dm.load_manifest(models / FACE / "manifest.toml")
    labels = dm.read_labels(manifest)
    fp32_path = models / FACE / "model.onnx"
    entry = {
        "fp32_bytes": fp32_path.stat().st_size,
        "shipped": "fp32",
        "outputs": output_shapes(fp32_path),
        "int8_attempt": face_int8_attempt(shared, manifest, labels, images),
        "letterbox_vs_stretch": letterbox_vs_stretch(fp32_path, manifest, labels, images["camera"]),
        "ort_tolerance_probe": detect_probe(fp32_path, manifest, labels, cases_of(FACE)),
        "bug_probe": detect_bug_probe(fp32_path, manifest, labels, cases_of(FACE)),
    }
    report["models"][FACE] = entry
    lines.append(
        f"{FACE}: fp32 {entry['fp32_bytes'] / 1e6:.2f} MB shipped ({time.perf_counter() - t0:.1f} s)"
    )
    for k, v in entry["int8_attempt"]["per_image"].items():
        lines.append(f"  int8 attempt, {k}: fp32 {v['fp32']} int8 {v['int8']}")
    for k, v in entry["letterbox_vs_stretch"].items():
        if isinstance(v, dict):
            lines.append(f"  {k}: {v}")

    # Embedding.
    t0 = time.perf_counter()
    manifest = dm.load_manifest(models / EMBED / "manifest.toml")
    int8_path = models / EMBED / "model.onnx"
    with tempfile.TemporaryDirectory(prefix="ledge-embed-") as tmp:
        fp32_path = Path(tmp) / "embed_fp32.onnx"
        onnx.save(cut_embedder(shared / EMBED_SOURCE, EMBED_TENSOR, EMBED_OUTPUT), str(fp32_path))
        fp32_bytes = fp32_path.stat().st_size
        f32, i8 = reference_session(fp32_path), reference_session(int8_path)
        stems = [s for stem in TEST_STEMS for s in (stem, MIRRORS[stem])]
        imgs = {s: load_image(models / "images" / f"{s}.png") for s in stems}
        e32 = {s: embed(f32, im, manifest) for s, im in imgs.items()}
    e8 = {s: embed(i8, im, manifest) for s, im in imgs.items()}
    opt = dm.session(int8_path)
    probe_enable = min(cosine(embed(opt, im, manifest), e8[s]) for s, im in imgs.items())
    noisy = {
        s: [embed(i8, im, manifest, perturb=np.random.default_rng(seed)) for seed in range(5)]
        for s, im in imgs.items()
    }
    pair_noise = max(
        abs(cosine(x, y) - cosine(e8[a], e8[b])) for a, b in EMBED_PAIRS for x, y in zip(noisy[a], noisy[b])
    )
    entry = {
        "fp32_bytes": fp32_bytes,
        "int8_bytes": int8_path.stat().st_size,
        "int8_sha256": hashlib.sha256(int8_path.read_bytes()).hexdigest(),
        "outputs": output_shapes(int8_path),
        "recipe": EMBED_RECIPE,
        "cosine_int8_vs_fp32": {s: round(cosine(e8[s], e32[s]), 5) for s in stems},
        "pairs": [
            {"a": a, "b": b, "fp32": round(cosine(e32[a], e32[b]), 4), "int8": round(cosine(e8[a], e8[b]), 4)}
            for a, b in EMBED_PAIRS
        ],
        "ort_tolerance_probe": {
            "ort_enable_all_min_cosine": round(probe_enable, 5),
            "pixel_noise_1_min_cosine": round(
                min(cosine(x, e8[s]) for s, xs in noisy.items() for x in xs), 5
            ),
            "pixel_noise_1_max_abs_delta_pair_cosine": round(pair_noise, 5),
        },
        "bug_probe": embed_bug_probe(i8, manifest, {s: imgs[s] for s in TEST_STEMS}),
    }
    report["models"][EMBED] = entry
    lines.append(
        f"{EMBED}: fp32 (cut) {fp32_bytes / 1e6:.2f} MB, int8 {entry['int8_bytes'] / 1e6:.2f} MB; "
        f"cosine int8~fp32 >= {min(entry['cosine_int8_vs_fp32'].values()):.4f} "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    for p in entry["pairs"]:
        lines.append(f"  {p['a']} ~ {p['b']}: fp32 {p['fp32']:.3f} int8 {p['int8']:.3f}")

    if args.study:
        report["ssd_calibration_study"] = ssd_calibration_study(shared, models)
    elif "ssd_calibration_study" in previous:
        report["ssd_calibration_study"] = previous["ssd_calibration_study"]
    lines.append("tolerance probes (min IoU / max |Δscore| / changed cases; embedding cosines):")
    for name, e in report["models"].items():
        lines.append(f"  {name}: {json.dumps(e['ort_tolerance_probe'])}")
    print("\n".join(lines))
    out.write_text(dump_json(report) + "\n", encoding="utf-8")
    log(f"wrote {out} ({time.perf_counter() - t_all:.1f} s)")


def face_int8_attempt(shared: Path, manifest: dict, labels: list[str], images: dict) -> dict:
    """BlazeFace quantized like the SSD (MinMax, u8 activations, float heads, calibration images plus
    the scikit-image photos): what it returns at the manifest's threshold, against fp32."""
    src = shared / FACE_SOURCE
    shape, _ = dm.input_hw(src)
    with tempfile.TemporaryDirectory(prefix="ledge-face-") as tmp:
        dst = Path(tmp) / "face_int8.onnx"
        tensors = calib_tensors(calib_images(shared) + skimage_photos(), manifest, shape)
        model = quantize_qdq(src, dst, tensors, method="minmax", activations="u8")
        model, _ = float_head_outputs(model)
        onnx.save(model, str(dst))
        size = dst.stat().st_size
        f32, i8 = reference_session(src), reference_session(dst)
        per_image = {}
        for stem, img in images.items():
            per_image[stem] = {
                "fp32": [det_summary(d) for d in detect(f32, img, manifest, labels)],
                "int8": [det_summary(d) for d in detect(i8, img, manifest, labels)],
            }
    return {
        "int8_bytes": size,
        "recipe": "minmax, u8 activations, float heads, images/calib + scikit-image photos",
        "per_image": per_image,
    }


def letterbox_vs_stretch(model: Path, manifest: dict, labels: list[str], camera: Image.Image) -> dict:
    """BlazeFace on 10 non-square crops of camera.png around the face (widths or heights 448..200 of 512):
    how often the face is found (IoU >= 0.5 with the face found in the full square photo) and how well."""
    sess = reference_session(model)
    full = detect(sess, camera, manifest, labels)
    if len(full) != 1:
        fail(f"{model}: expected one face on camera.png, got {[fmt_det(d) for d in full]}")
    t = full[0]["box"]
    cx, cy = t[0] + t[2] / 2, t[1] + t[3] / 2
    w, h = camera.size
    crops = []
    for size in (448, 384, 320, 256, 200):
        y0 = int(min(max(0, cy - size / 2), h - size))
        crops.append((0, y0, w, y0 + size))
        x0 = int(min(max(0, cx - size / 2), w - size))
        crops.append((x0, 0, x0 + size, h))
    result: dict = {"crops": len(crops), "face_in_full_photo": [round(v, 1) for v in t]}
    for kind in ("letterbox", "stretch"):
        m = dict(manifest, input=dict(manifest["input"], resize=dict(manifest["input"]["resize"], kind=kind)))
        ious, scores = [], []
        for c in crops:
            got = detect(sess, camera.crop(c), m, labels)
            shifted = [t[0] - c[0], t[1] - c[1], t[2], t[3]]
            best = max(got, key=lambda d: box_iou_xywh(d["box"], shifted), default=None)
            ious.append(box_iou_xywh(best["box"], shifted) if best else 0.0)
            scores.append(best["score"] if best else 0.0)
        result[kind] = {
            "found": sum(v >= 0.5 for v in ious),
            "mean_iou": round(float(np.mean(ious)), 3),
            "min_iou": round(min(ious), 3),
            "min_score": round(min(scores), 3),
        }
    return result


def ssd_calibration_study(shared: Path, models: Path) -> dict:
    """The SSD quantization settings that were compared (report --study): int8 vs fp32 on the test photos
    (threshold 0.3) and, on 21 variants of the test photos (each, mirrored, 5 crops: never calibrated on),
    every fp32 (anchor, class) scoring >= 0.1: |Δscore| and IoU of the same anchor's decoded box."""
    manifest = dm.load_manifest(models / SSD / "manifest.toml")
    labels = dm.read_labels(manifest)
    det = manifest["detect"]
    src = shared / SSD_SOURCE
    shape, _ = dm.input_hw(src)
    anchors = ssd_anchors(det["anchors"], shape[2], shape[3])
    images = {s: load_image(models / "images" / f"{s}.png") for s in TEST_STEMS}
    variants = []
    for im in images.values():
        w, h = im.size
        variants += [im, im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
        for a, b, c, d in [
            (0, 0, 0.7, 0.7),
            (0.3, 0, 1, 0.7),
            (0, 0.3, 0.7, 1),
            (0.3, 0.3, 1, 1),
            (0.15, 0.15, 0.85, 0.85),
        ]:
            variants.append(im.crop((round(a * w), round(b * h), round(c * w), round(d * h))))
    xs = [prepare(v, manifest, shape)[0] for v in variants]

    def raw(sess, x):
        o = run_outputs(sess, x)
        b, _ = decode(o[det["boxes"]][0], anchors, det["box_coding"])
        return b, score_fn(o[det["scores"]][0], "sigmoid")

    fp32 = reference_session(src)
    refs = [raw(fp32, x) for x in xs]
    calib = calib_images(shared)
    photos = skimage_photos()
    augmented = []
    for p in photos + [
        shared / "images" / "calib" / n
        for n in ("china.jpg", "flower.jpg", "horse.png", "coins.png", "color.png")
    ]:
        im = load_image(p)
        w, h = im.size
        augmented += [im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)] + [
            im.crop((round(a * w), round(b * h), round(c * w), round(d * h)))
            for a, b, c, d in [
                (0, 0, 0.6, 0.6),
                (0.4, 0, 1, 0.6),
                (0, 0.4, 0.6, 1),
                (0.4, 0.4, 1, 1),
                (0.2, 0.2, 0.8, 0.8),
            ]
        ]
    sets = {"calib": calib, "calib+skimage": calib + photos}
    settings = [
        ("calib", "minmax", "u8", False),
        ("calib", "minmax", "u8", True),
        ("calib+skimage", "minmax", "u8", False),
        ("calib+skimage", "minmax", "u8", True),
        ("calib+skimage", "minmax", "s8", True),
        ("calib+skimage", "percentile", "u8", True),
        ("calib+skimage", "entropy", "u8", True),
        ("calib+skimage+augmented", "minmax", "u8", True),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ledge-study-") as tmp:
        for set_name, method, act, heads in settings:
            t0 = time.perf_counter()
            dst = Path(tmp) / "ssd.onnx"
            paths = sets.get(set_name, calib + photos)
            if set_name.endswith("augmented"):
                tensors = calib_tensors(paths, manifest, shape) + [
                    prepare(im, manifest, shape)[0] for im in augmented
                ]
                model = quantize_qdq(src, dst, tensors, method=method, activations=act)
                if heads:
                    model, _ = float_head_outputs(model)
                onnx.save(model, str(dst))
                n = len(tensors)
            else:
                quantize_ssd(
                    shared, dst, manifest, images=paths, method=method, activations=act, float_heads=heads
                )
                n = len(paths)
            sess = reference_session(dst)
            photos_result = {}
            for stem, img in images.items():
                a = detect(fp32, img, manifest, labels, {"scoreThreshold": 0.3})
                b = detect(sess, img, manifest, labels, {"scoreThreshold": 0.3})
                pairs = match(a, b)
                photos_result[stem] = (
                    "mismatch"
                    if pairs is None
                    else [f"{e['label']} {e['score']:.3f}->{x['score']:.3f} IoU {v:.3f}" for e, x, v in pairs]
                )
            ds, ious = [], []
            for x, (b32, s32) in zip(xs, refs):
                b8, s8 = raw(sess, x)
                ai, ci = np.nonzero(s32[:, 1:] >= 0.1)
                ci = ci + 1
                ds += list(np.abs(s8[ai, ci] - s32[ai, ci]))
                ious += [iou(b8[i], b32[i]) for i in ai]
            row = {
                "calibration": set_name,
                "tensors": n,
                "method": method,
                "activations": act,
                "float_heads": heads,
                "bytes": dst.stat().st_size,
                "sha256": hashlib.sha256(dst.read_bytes()).hexdigest()[:16],
                "test_photos": photos_result,
                "held_out": {
                    "n": len(ds),
                    "mean_abs_delta_score": round(float(np.mean(ds)), 4),
                    "max_abs_delta_score": round(float(np.max(ds)), 4),
                    "mean_iou": round(float(np.mean(ious)), 4),
                    "min_iou": round(float(np.min(ious)), 4),
                },
                "seconds": round(time.perf_counter() - t0, 1),
            }
            log(f"study: {json.dumps(row)}")
            rows.append(row)
    return {
        "generator": f"scripts/task_models.py report --study (onnxruntime {ort.__version__})",
        "rows": rows,
    }


# --------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("convert", help="MediaPipe npm tarballs -> fp32 detector ONNX files")
    c.add_argument("--objectron", type=Path, required=True, help=f"npm pack of {OBJECTRON_NPM}")
    c.add_argument("--face", type=Path, required=True, help=f"npm pack of {FACE_NPM}")
    c.add_argument("--out", type=Path, required=True, help="output folder")
    c.add_argument("--compare", type=Path, default=None, help="folder with the files to compare with")
    c.set_defaults(func=cmd_convert)

    q = sub.add_parser("quantize", help="fp32 sources -> unpacked detection and embedding models")
    q.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="fp32 sources (%(default)s)")
    q.add_argument("--out", type=Path, default=DEFAULT_BUILD, help="build folder (%(default)s)")
    q.add_argument("--manifests", type=Path, default=DEFAULT_MODELS, help="folder with <model>/manifest.toml")
    q.set_defaults(func=cmd_quantize)

    v = sub.add_parser(
        "vectors", help="write vectors/detect.json, vectors/embed.json and the mirrored images"
    )
    v.add_argument("--models", type=Path, default=DEFAULT_MODELS, help="demo-models folder (%(default)s)")
    v.set_defaults(func=cmd_vectors)

    r = sub.add_parser("report", help="fp32-vs-int8 agreement, sizes, tolerance probes")
    r.add_argument("--models", type=Path, default=DEFAULT_MODELS, help="demo-models folder (%(default)s)")
    r.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="fp32 sources (%(default)s)")
    r.add_argument("--out", type=Path, default=None, help="report file (default: MODELS/report-tasks.json)")
    r.add_argument("--study", action="store_true", help="also rerun the SSD calibration study (~2 min)")
    r.set_defaults(func=cmd_report)

    s = sub.add_parser("selfcheck", help="unit checks of the NumPy reference")
    s.add_argument("--models", type=Path, default=DEFAULT_MODELS, help="demo-models folder (%(default)s)")
    s.set_defaults(func=cmd_selfcheck)

    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
