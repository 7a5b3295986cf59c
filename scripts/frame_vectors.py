#!/usr/bin/env python3
"""Camera-frame test vectors (demo-models/vectors/frames.json and frames/).

Cases: demo photos stored as a camera would hand them out — NV12, NV21, I420, Android's YUV_420_888 with
interleaved chroma (pixel stride 2, overlapping U and V planes, unpadded last rows), RGBA, BGRA and RGB —
at odd sizes, with padded row strides, turned by every rotation (and mirrored), so that the rotation
(Android's getRotationDegrees) and mirror make them upright again. Expected: what the *upright* picture
gives, from onnxruntime with scripts/demo_models.py's Pillow preprocessing (classification) or
scripts/task_models.py's NumPy decoding (detection). Every face must give the same top-1 within
`score_tolerance`.

Conversion cases: small random YUV frames and the RGB bytes that the published BT.601 / BT.709 equations
give (NumPy, float64, rounded): a byte-level check of the YUV → RGB conversion independent of the crate that
does it. The RGB → YUV direction used to make the frames is the JFIF / BT.601 equation as well.

Usage: scripts/frame_vectors.py [--out DIR]       (default demo-models/vectors)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_models as dm  # noqa: E402
import task_models as tm  # noqa: E402

REPO = dm.REPO
MODELS = REPO / "demo-models"

# The conversion may differ from the float equations by this much per byte: yuvutils-rs computes in 13-bit
# fixed point with rounded coefficients (measured on these vectors: about a third of the bytes 1 off, 1–2 %
# 2 off, none more).
MAX_ABS_DIFF = 2

# (Kr, Kb) of each matrix; Kg = 1 − Kr − Kb.
MATRICES = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def rgb_to_yuv(rgb: np.ndarray, matrix: str, rng: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8-bit RGB (H×W×3) → Y (H×W), U, V (⌈H/2⌉×⌈W/2⌉, 2×2 means, edges replicated)."""
    kr, kb = MATRICES[matrix]
    kg = 1 - kr - kb
    x = rgb.astype(np.float64)
    y = kr * x[..., 0] + kg * x[..., 1] + kb * x[..., 2]
    u = (x[..., 2] - y) / (2 * (1 - kb))
    v = (x[..., 0] - y) / (2 * (1 - kr))
    if rng == "video":
        y = 16 + y * 219 / 255
        u, v = u * 224 / 255, v * 224 / 255
    u, v = u + 128, v + 128
    h, w = y.shape

    def half(c: np.ndarray) -> np.ndarray:
        c = np.pad(c, ((0, h % 2), (0, w % 2)), mode="edge")
        return (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]) / 4

    q = lambda c: np.clip(np.rint(c), 0, 255).astype(np.uint8)  # noqa: E731
    return q(y), q(half(u)), q(half(v))


def yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, matrix: str, rng: str) -> np.ndarray:
    """The published inverse, chroma sample (i, j) covering pixels (2i..2i+1, 2j..2j+1)."""
    kr, kb = MATRICES[matrix]
    kg = 1 - kr - kb
    h, w = y.shape
    up = lambda c: np.repeat(np.repeat(c.astype(np.float64), 2, 0), 2, 1)[:h, :w] - 128  # noqa: E731
    yf, cb, cr = y.astype(np.float64), up(u), up(v)
    if rng == "video":
        yf = (yf - 16) * 255 / 219
        cb, cr = cb * 255 / 224, cr * 255 / 224
    r = yf + 2 * (1 - kr) * cr
    b = yf + 2 * (1 - kb) * cb
    g = (yf - kr * r - kb * b) / kg
    return np.clip(np.rint(np.stack([r, g, b], -1)), 0, 255).astype(np.uint8)


def rows(plane: np.ndarray, stride: int, pad_last: bool) -> bytes:
    """A 2-d (or rows × bytes) plane written with `stride` bytes a row; the last row unpadded unless asked."""
    plane = plane.reshape(plane.shape[0], -1)
    out = bytearray()
    for i, row in enumerate(plane):
        out += row.tobytes()
        if pad_last or i + 1 < plane.shape[0]:
            out += bytes(stride - row.size)
    return bytes(out)


def encode(rgb: np.ndarray, fmt: str, pad: int, matrix: str = "bt601", rng: str = "full") -> tuple[bytes, list, list]:
    """Frame bytes, [[offset, length]] per plane, and the PlaneLayouts. `pad` extra bytes per row (0 =
    tight); YUV_420_888 ("i420-ps2") stores one interleaved VU buffer that the U and V planes overlap."""
    h, w, _ = rgb.shape
    planes: list[tuple[bytes, int, int]] = []  # (bytes, row stride, pixel stride)
    if fmt in ("rgba", "bgra", "rgb"):
        px = rgb[..., ::-1] if fmt == "bgra" else rgb
        if fmt != "rgb":
            px = np.concatenate([px, np.full((h, w, 1), 255, np.uint8)], -1)
        bpp = px.shape[2]
        planes.append((rows(px, w * bpp + pad, False), w * bpp + pad, bpp))
    else:
        y, u, v = rgb_to_yuv(rgb, matrix, rng)
        cw = u.shape[1]
        planes.append((rows(y, w + pad, True), w + pad, 1))
        if fmt in ("nv12", "nv21"):
            first, second = (u, v) if fmt == "nv12" else (v, u)
            inter = np.stack([first, second], -1).reshape(u.shape[0], 2 * cw)
            planes.append((rows(inter, 2 * cw + pad, False), 2 * cw + pad, 2))
        elif fmt == "i420":
            planes.append((rows(u, cw + pad, False), cw + pad, 1))
            planes.append((rows(v, cw + pad, False), cw + pad, 1))
        elif fmt == "i420-ps2":
            # Android's NV21 memory behind YUV_420_888: V at offset 0, U at offset 1, pixel stride 2,
            # each plane ending right after its last sample (one byte short of the interleaved rows).
            inter = np.stack([v, u], -1).reshape(u.shape[0], 2 * cw)
            buf = rows(inter, 2 * cw + pad, False)
            data = planes[0][0]
            base = len(data)
            stride = 2 * cw + pad
            length = len(buf) - 1
            layouts = [{"rowStride": w + pad, "pixelStride": 1}, {"rowStride": stride, "pixelStride": 2},
                       {"rowStride": stride, "pixelStride": 2}]
            return data + buf, [[0, base], [base + 1, length], [base, length]], layouts
        else:
            raise ValueError(fmt)
    data, offsets, layouts = b"", [], []
    for b, stride, ps in planes:
        offsets.append([len(data), len(b)])
        layouts.append({"rowStride": stride, "pixelStride": ps})
        data += b
    return data, offsets, layouts


def stored_from_upright(upright: np.ndarray, rotation: int, mirror: bool) -> np.ndarray:
    """The stored frame that rotating `rotation`° clockwise, then mirroring, turns into `upright`."""
    x = upright[:, ::-1] if mirror else upright
    return np.ascontiguousarray(np.rot90(x, k=rotation // 90))


def layout(fmt: str, w: int, h: int, planes: list, rotation: int, mirror: bool, matrix: str, rng: str,
           region: dict | None) -> dict:
    return {"format": "i420" if fmt == "i420-ps2" else fmt, "width": w, "height": h, "planes": planes,
            "rotationDegrees": rotation, "mirror": mirror, "colorMatrix": matrix, "colorRange": rng,
            "region": region}


def classify_top(model: str, img: Image.Image, k: int = 3) -> list[list]:
    manifest = dm.load_manifest(MODELS / model / "manifest.toml")
    path = MODELS / model / "model.onnx"
    sess = tm.reference_session(path)
    shape = [int(d) for d in sess.get_inputs()[0].shape]
    p = dm.scores(sess, dm.preprocess_image(img, manifest, shape), manifest["output"]["kind"])
    return [[i, round(float(p[i]), 6)] for i in dm.top_k(p, k)]


def detections(model: str, img: Image.Image, options: dict) -> list[dict]:
    manifest = dm.load_manifest(MODELS / model / "manifest.toml")
    labels = dm.read_labels(manifest)
    found = tm.detect(tm.reference_session(MODELS / model / "model.onnx"), img, manifest, labels, options)
    return [{"index": d["index"], "label": d["label"], "score": round(d["score"], 6),
             "box": [round(v, 4) for v in d["box"]]} for d in found]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=MODELS / "vectors")
    args = ap.parse_args()
    out = args.out
    (out / "frames").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(19)

    conversion = []
    for fmt, matrix, crange, (w, h), pad in [
        ("nv12", "bt601", "full", (33, 17), 0),
        ("nv21", "bt601", "full", (33, 17), 5),
        ("i420", "bt709", "video", (31, 19), 3),
        ("i420-ps2", "bt601", "full", (33, 17), 6),
        ("nv12", "bt709", "full", (32, 18), 0),
        ("nv21", "bt601", "video", (33, 17), 0),
    ]:
        # Random Y and chroma: the conversion is checked on its own, not through an RGB round trip.
        y = rng.integers(0, 256, (h, w), dtype=np.uint8)
        u = rng.integers(0, 256, ((h + 1) // 2, (w + 1) // 2), dtype=np.uint8)
        v = rng.integers(0, 256, ((h + 1) // 2, (w + 1) // 2), dtype=np.uint8)
        if crange == "video":
            y, u, v = np.clip(y, 16, 235), np.clip(u, 16, 240), np.clip(v, 16, 240)
        data, offsets, planes = encode_yuv(y, u, v, fmt, pad)
        name = f"conv-{fmt}-{matrix}-{crange}-{w}x{h}"
        (out / "frames" / f"{name}.raw").write_bytes(data)
        (out / "frames" / f"{name}.rgb").write_bytes(yuv_to_rgb(y, u, v, matrix, crange).tobytes())
        conversion.append({"name": name, "file": f"frames/{name}.raw", "planes": offsets,
                           "layout": layout(fmt, w, h, planes, 0, False, matrix, crange, None),
                           "rgb": f"frames/{name}.rgb", "max_abs_diff": MAX_ABS_DIFF})

    cases = []
    effnet = "efficientnet-lite0"
    for stem, size in [("coffee", (193, 129)), ("camera", (161, 161))]:
        with Image.open(MODELS / "images" / f"{stem}.png") as im:
            small = im.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        small.save(out / "frames" / f"{stem}.png", optimize=True)
        upright = np.asarray(small)
        expected = classify_top(effnet, small)
        plan = [
            ("nv21", 90, False, 0), ("nv12", 270, False, 7), ("i420", 180, False, 0),
            ("i420-ps2", 90, False, 16), ("bgra", 0, False, 12), ("rgba", 270, True, 0),
            ("rgb", 90, False, 1), ("nv21", 0, True, 3),
        ] if stem == "coffee" else [("i420-ps2", 270, True, 8), ("nv12", 180, False, 0)]
        for fmt, rotation, mirror, pad in plan:
            stored = stored_from_upright(upright, rotation, mirror)
            h, w, _ = stored.shape
            data, offsets, planes = encode(stored, fmt, pad)
            tag = f"{stem}-{fmt}-{rotation}{'-mirror' if mirror else ''}{f'-pad{pad}' if pad else ''}"
            (out / "frames" / f"{tag}.raw").write_bytes(data)
            cases.append({"name": f"{stem}/{fmt}/{rotation}" + ("/mirror" if mirror else "") + (f"/pad{pad}" if pad else ""),
                          "task": "classify", "model": f"{effnet}/model.onnx",
                          "file": f"frames/{tag}.raw", "planes": offsets,
                          "layout": layout(fmt, w, h, planes, rotation, mirror, "bt601", "full", None),
                          "upright": f"frames/{stem}.png", "expected": expected})
        if stem == "coffee":
            # A region of the upright frame: the cup, classified on its own.
            region = {"x": 48.0, "y": 8.0, "width": 96.0, "height": 112.0}
            crop = small.crop((48, 8, 144, 120))
            stored = stored_from_upright(upright, 90, False)
            h, w, _ = stored.shape
            data, offsets, planes = encode(stored, "nv21", 0)
            tag = f"{stem}-nv21-90-region"
            (out / "frames" / f"{tag}.raw").write_bytes(data)
            cases.append({"name": "coffee/nv21/90/region", "task": "classify", "model": f"{effnet}/model.onnx",
                          "file": f"frames/{tag}.raw", "planes": offsets,
                          "layout": layout("nv21", w, h, planes, 90, False, "bt601", "full", region),
                          "upright": f"frames/{stem}.png", "expected": classify_top(effnet, crop)})

    # Detection: boxes come back in the upright frame's pixels.
    ssd = "ssd-mobilenetv2-oid"
    with Image.open(MODELS / "images" / "chelsea.png") as im:
        chelsea = im.convert("RGB")
    options = {"scoreThreshold": 0.3}
    stored = stored_from_upright(np.asarray(chelsea), 90, False)
    h, w, _ = stored.shape
    data, offsets, planes = encode(stored, "nv21", 0)
    (out / "frames" / "chelsea-nv21-90.raw").write_bytes(data)
    cases.append({"name": "chelsea/nv21/90/detect", "task": "detect", "model": f"{ssd}/model.onnx",
                  "file": "frames/chelsea-nv21-90.raw", "planes": offsets,
                  "layout": layout("nv21", w, h, planes, 90, False, "bt601", "full", None),
                  "upright": "../images/chelsea.png", "options": options,
                  "expected": detections(ssd, chelsea, options)})

    # What 4:2:0 chroma costs: the same reference on the pixels each frame decodes to (NumPy's inverse).
    worst = 0.0
    for case in cases:
        raw = (out / case["file"]).read_bytes()
        rgb = decode_upright(raw, case)
        model = case["model"].split("/")[0]
        if case["task"] == "classify":
            region = case["layout"]["region"]
            img = Image.fromarray(rgb)
            if region:
                img = img.crop((int(region["x"]), int(region["y"]), int(region["x"] + region["width"]),
                                int(region["y"] + region["height"])))
            got = classify_top(model, img, 1)[0]
            want = case["expected"][0]
            if got[0] != want[0]:
                dm.fail(f"{case['name']}: the converted frame's top-1 is {got[0]}, the upright image's {want[0]}")
            worst = max(worst, abs(got[1] - want[1]))
            case["reference_delta"] = round(abs(got[1] - want[1]), 6)
    # Tolerance: the largest change 4:2:0 chroma and rounding make in the reference itself, doubled, plus
    # the regular vectors' int8 tolerance (0.02: tract's int8 kernels against onnxruntime's).
    tol = round(2 * worst + 0.02, 3)
    for case in cases:
        case["score_tolerance"] = tol if case["task"] == "classify" else 0.06
        if case["task"] == "detect":
            case["min_iou"] = 0.8
    doc = {
        "format": 1,
        "generator": f"scripts/frame_vectors.py (onnxruntime {dm.ort.__version__}, ORT_DISABLE_ALL, 1 thread; "
                     "NumPy BT.601/BT.709 equations)",
        "note": f"score_tolerance = 2 × the largest top-1 change that 4:2:0 chroma makes in the reference "
                f"({worst:.4f}) + 0.02 (int8 kernels)",
        "conversion": conversion,
        "cases": cases,
    }
    (out / "frames.json").write_text(json.dumps(doc, indent=1) + "\n")
    dm.log(f"frame vectors: {len(conversion)} conversion cases, {len(cases)} cases, tolerance {tol}")


def encode_yuv(y: np.ndarray, u: np.ndarray, v: np.ndarray, fmt: str, pad: int) -> tuple[bytes, list, list]:
    """Like `encode`, from planes that are already YUV."""
    h, w = y.shape
    cw = u.shape[1]
    parts: list[tuple[bytes, int, int]] = [(rows(y, w + pad, True), w + pad, 1)]
    if fmt in ("nv12", "nv21"):
        a, b = (u, v) if fmt == "nv12" else (v, u)
        parts.append((rows(np.stack([a, b], -1).reshape(u.shape[0], 2 * cw), 2 * cw + pad, False), 2 * cw + pad, 2))
    elif fmt == "i420":
        parts += [(rows(u, cw + pad, False), cw + pad, 1), (rows(v, cw + pad, False), cw + pad, 1)]
    elif fmt == "i420-ps2":
        buf = rows(np.stack([v, u], -1).reshape(u.shape[0], 2 * cw), 2 * cw + pad, False)
        base, stride = len(parts[0][0]), 2 * cw + pad
        planes = [{"rowStride": w + pad, "pixelStride": 1}, {"rowStride": stride, "pixelStride": 2},
                  {"rowStride": stride, "pixelStride": 2}]
        return parts[0][0] + buf, [[0, base], [base + 1, len(buf) - 1], [base, len(buf) - 1]], planes
    data, offsets, planes = b"", [], []
    for b, stride, ps in parts:
        offsets.append([len(data), len(b)])
        planes.append({"rowStride": stride, "pixelStride": ps})
        data += b
    return data, offsets, planes


def decode_upright(raw: bytes, case: dict) -> np.ndarray:
    """The upright RGB a frame stands for, by NumPy: planes → RGB (published equations) → rotate → mirror."""
    lay = case["layout"]
    w, h, fmt = lay["width"], lay["height"], lay["format"]
    planes = [np.frombuffer(raw[o:o + n], np.uint8) for o, n in case["planes"]]

    def grid(p: np.ndarray, pl: dict, rows_: int, cols: int, ch: int = 1) -> np.ndarray:
        at = np.arange(rows_)[:, None, None] * pl["rowStride"]
        at = at + np.arange(cols)[None, :, None] * pl["pixelStride"] + np.arange(ch)[None, None, :]
        return p[at]

    cw, ch = (w + 1) // 2, (h + 1) // 2
    pls = lay["planes"]
    if fmt in ("rgba", "bgra", "rgb"):
        px = grid(planes[0], pls[0], h, w, 3)
        rgb = px[..., ::-1] if fmt == "bgra" else px
    else:
        y = grid(planes[0], pls[0], h, w)[..., 0]
        if fmt in ("nv12", "nv21"):
            uv = grid(planes[1], pls[1], ch, cw, 2)
            u, v = (uv[..., 0], uv[..., 1]) if fmt == "nv12" else (uv[..., 1], uv[..., 0])
        else:
            u, v = grid(planes[1], pls[1], ch, cw)[..., 0], grid(planes[2], pls[2], ch, cw)[..., 0]
        rgb = yuv_to_rgb(y, u, v, lay["colorMatrix"], lay["colorRange"])
    up = np.rot90(rgb, k=-(lay["rotationDegrees"] // 90))
    if lay["mirror"]:
        up = up[:, ::-1]
    return np.ascontiguousarray(up)


if __name__ == "__main__":
    main()
