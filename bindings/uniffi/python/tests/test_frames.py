"""Camera frames (issue 19): every shared frame vector (demo-models/vectors/frames.json), the
frame forms the Python layer takes (one NumPy array, bytes, a list of planes with strides), each
format, rotation, mirror and region against the upright image, and the typed errors of frames
that do not fit their description.

The frames here are made from the demo photos with NumPy: RGB → YUV with the published BT.601
full-range (JFIF) coefficients, chroma as the mean of each 2×2 block. That conversion and the
core's YUV → RGB round-trip within a few levels per channel, so a YUV frame classifies as the
upright RGB image within ``YUV_TOLERANCE``. An RGB-family frame holds the same pixels: upright or
turned by 180° it gives the upright image's scores (``RGB_TOLERANCE``); turned by 90° or 270° the
core resamples it in its stored orientation, whose passes round in the other order, so its scores
move a little too (``YUV_TOLERANCE``; 0.028 at most measured on the photo below). The photo is
the coffee cup, whose top-1 (espresso, p ≈ 0.9) is far from a tie."""

import math

import numpy as np
import pytest

import ledge
from conftest import DEMO, WORST, frame_vectors, mismatches, rgba_frame
from test_bad_inputs import raises

EFFNET = "efficientnet-lite0/model.onnx"
SSD = "ssd-mobilenetv2-oid/model.onnx"
EMBEDDER = "efficientnet-lite0-embed/model.onnx"
YUV_TOLERANCE = 0.05
RGB_TOLERANCE = 1e-4
COFFEE = ("coffee", 600, 400)
VECTORS = frame_vectors()
CASES = VECTORS["cases"] if VECTORS else []


# --- frames made with NumPy ------------------------------------------------------------------


def photo(name: str, width=None, height=None) -> np.ndarray:
    """The upright (H, W, 4) RGBA pixels of a demo photo, cropped to width × height."""
    rgba = rgba_frame(DEMO / f"images/{name}.png")
    return np.ascontiguousarray(rgba[:height, :width])


def yuv(rgba: np.ndarray) -> tuple:
    """(Y, U, V) planes of an RGB(A) image: BT.601 full range, chroma ⌈h/2⌉ × ⌈w/2⌉ (the mean
    of each 2×2 block; an odd edge repeats its last row or column)."""
    r, g, b = (rgba[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    h, w = y.shape

    def half(c):
        c = np.pad(c, ((0, h % 2), (0, w % 2)), mode="edge")
        return c.reshape(c.shape[0] // 2, 2, c.shape[1] // 2, 2).mean(axis=(1, 3))

    def u8(c):
        return np.clip(np.rint(c), 0, 255).astype(np.uint8)

    return u8(y), u8(half(u)), u8(half(v))


def stored(upright: np.ndarray, rotation: int, mirror: bool = False) -> np.ndarray:
    """The stored pixels that `rotation` (clockwise) and then `mirror` turn into `upright`."""
    unmirrored = upright[:, ::-1] if mirror else upright
    return np.ascontiguousarray(np.rot90(unmirrored, k=rotation // 90))


def packed_array(rgba: np.ndarray, fmt: str) -> np.ndarray:
    """One tightly packed array of `fmt` (even sizes for YUV): (H, W, 4), (H, W, 3) or
    (H·3/2, W)."""
    if fmt == "rgba":
        return rgba
    if fmt == "bgra":
        return np.ascontiguousarray(rgba[..., [2, 1, 0, 3]])
    if fmt == "rgb":
        return np.ascontiguousarray(rgba[..., :3])
    y, u, v = yuv(rgba)
    h, w = y.shape
    if fmt == "i420":
        chroma = np.concatenate([u.ravel(), v.ravel()]).reshape(h // 2, w)
    else:
        first, second = (u, v) if fmt == "nv12" else (v, u)
        chroma = np.stack([first, second], axis=2).reshape(h // 2, w)
    return np.concatenate([y, chroma])


def strided(plane: np.ndarray, row_stride: int) -> bytes:
    """A plane's rows (2-D samples, or (rows, samples, n) interleaved) padded to `row_stride`
    bytes, the last row unpadded, as Android's buffers end."""
    rows = plane.reshape(plane.shape[0], -1)
    padded = np.zeros((rows.shape[0], row_stride), np.uint8)
    padded[:, : rows.shape[1]] = rows
    return padded.tobytes()[: row_stride * (rows.shape[0] - 1) + rows.shape[1]]


def yuv_420_888(rgba: np.ndarray, pad: int = 24) -> tuple:
    """An Android YUV_420_888 frame as CameraX hands it out: three planes with padded rows, the
    U and V planes views of one interleaved VU buffer (pixel stride 2), so V starts one byte
    before U. Returns (planes, strides)."""
    y, u, v = yuv(rgba)
    cw = u.shape[1]
    vu = strided(np.stack([v, u], axis=2), 2 * cw + pad)
    planes = [strided(y, y.shape[1] + pad), vu[1:], vu[:-1]]  # U starts one byte after V
    return planes, [(y.shape[1] + pad, 1), (2 * cw + pad, 2), (2 * cw + pad, 2)]


def top1(predictions) -> tuple:
    return predictions[0].index, predictions[0].score


# --- the shared vectors ----------------------------------------------------------------------


def test_the_frame_vector_file_is_there():
    assert VECTORS is not None, "demo-models/vectors/frames.json is missing"
    assert len(CASES) > 0
    assert {c["task"] for c in CASES} <= {"classify", "detect"}, "a task this test does not run"


_DETECT_FIELDS = {"maxResults": "max_results", "scoreThreshold": "score_threshold",
                  "iouThreshold": "iou_threshold", "allowlist": "allowlist", "denylist": "denylist"}


def run_case(case: dict, models):
    """The case's frame through the Python layer's list-of-planes form, as a camera would give
    it: the planes' bytes, the layout's size, strides and rotation."""
    data = (DEMO / "vectors" / case["file"]).read_bytes()
    planes = [data[offset : offset + length] for offset, length in case["planes"]]
    layout = dict(case["layout"])
    unknown = set(layout) - {"format", "width", "height", "planes", "rotationDegrees", "mirror",
                             "colorMatrix", "colorRange", "region"}
    assert not unknown, f"FrameLayout fields this test does not pass on: {unknown}"
    region = layout.get("region")
    frame = dict(
        width=layout["width"],
        height=layout["height"],
        strides=[(p["rowStride"], p["pixelStride"]) for p in layout["planes"]] or None,
        rotation_degrees=layout.get("rotationDegrees", 0),
        mirror=layout.get("mirror", False),
        color_matrix=layout.get("colorMatrix", "bt601"),
        color_range=layout.get("colorRange", "full"),
        region=None if region is None else (region["x"], region["y"], region["width"],
                                            region["height"]),
    )
    model = models(case["model"])
    options = case.get("options") or {}
    if case["task"] == "classify":
        assert not options, f"classify options this test does not pass on: {options}"
        classes = math.prod(model.info.outputs[0].shape)
        return model.classify_frame(planes, layout["format"], top_k=classes, **frame)
    unknown = set(options) - set(_DETECT_FIELDS)
    assert not unknown, f"DetectOptions fields this test does not pass on: {unknown}"
    detect_options = {_DETECT_FIELDS[k]: v for k, v in options.items()}
    return model.detect_frame(planes, layout["format"], **frame, **detect_options)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_frame_vector(case, models):
    got = run_case(case, models)
    key = f"frames {case['model']} {case['task']}"
    if case["task"] == "classify":
        index, probability = case["expected"][0]
        assert got[0].index == index, f"top-1 {got[0].index} ({got[0].label}) != {index}"
        diff = abs(got[0].score - probability)
        WORST[key] = max(WORST.get(key, 0.0), diff)
        assert diff <= case["score_tolerance"], f"p {got[0].score} vs {probability}"
    elif case["task"] == "detect":
        diffs: list = []
        problems = mismatches(case, got, diffs, same_count=False)
        WORST[key] = max([WORST.get(key, 0.0), *diffs])
        assert not problems, problems
    else:
        pytest.fail(f"unknown task {case['task']}")


def test_every_frame_vector_runs(models):
    """Every case of the file, counted: none skipped, none added without running."""
    ran = 0
    for case in CASES:
        assert run_case(case, models), case["name"]
        ran += 1
    assert ran == len(VECTORS["cases"]) > 0


# --- formats, rotations, mirror, region ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["rgba", "bgra", "rgb", "nv12", "nv21", "i420"])
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_each_format_and_rotation_classifies_as_the_upright_image(fmt, rotation, models):
    model = models(EFFNET)
    upright = photo(*COFFEE)
    want = top1(model.classify_rgba(upright))
    frame = packed_array(stored(upright, rotation), fmt)
    got = top1(model.classify_frame(frame, fmt, rotation_degrees=rotation))
    same_pixels = fmt in ("rgba", "bgra", "rgb") and rotation in (0, 180)
    tolerance = RGB_TOLERANCE if same_pixels else YUV_TOLERANCE
    key = f"frames {EFFNET} {'rgb 0/180' if same_pixels else 'yuv or turned'} arrays"
    WORST[key] = max(WORST.get(key, 0.0), abs(got[1] - want[1]))
    assert got[0] == want[0] and abs(got[1] - want[1]) <= tolerance, (got, want)


def test_the_forms_of_a_frame_agree(models):
    """One array, its bytes with the size, and its planes as a list give the same answer; a
    PixelFormat member works like its name, and any case of the name."""
    model = models(EFFNET)
    upright = photo("chelsea", 450, 300)
    turned = stored(upright, 90)
    h, w = turned.shape[:2]
    frame = packed_array(turned, "nv21")
    by_array = model.classify_frame(frame, "nv21", rotation_degrees=90)
    assert model.classify_frame(frame.tobytes(), "NV21", width=w, height=h, rotation_degrees=90) == by_array
    assert model.classify_frame(bytearray(frame.tobytes()), ledge.PixelFormat.NV21, width=w,
                                height=h, rotation_degrees=90) == by_array
    y, vu = frame[:h], frame[h:]
    assert model.classify_frame([y, vu], "nv21", rotation_degrees=90) == by_array
    assert model.classify_frame([y.tobytes(), memoryview(vu.tobytes())], "nv21", width=w, height=h,
                                strides=[(w, 1), (w, 2)], rotation_degrees=90) == by_array
    planes = [y.tobytes(), vu.tobytes()]
    layouts = [ledge.PlaneLayout(row_stride=w, pixel_stride=1), ledge.PlaneLayout(row_stride=w, pixel_stride=2)]
    assert model.classify_frame(planes, "nv21", width=w, height=h, strides=layouts,
                                rotation_degrees=90, top_k=2) == by_array[:2]
    # The native call with the core's record, as the layer builds it.
    layout = ledge.FrameLayout(
        format=ledge.PixelFormat.NV21,
        width=w,
        height=h,
        rotation_degrees=90,
        color_matrix=ledge.ColorMatrix.BT601,
        color_range=ledge.ColorRange.FULL,
    )
    assert layout.planes == [] and layout.color_range == ledge.ColorRange.FULL
    options = ledge.ClassifyOptions(max_results=5)
    assert model._native.classify_frame(planes, layout, options) == by_array


def test_odd_sizes_padded_rows_and_android_planes(models):
    """Odd widths and heights, row strides with padding and short last rows, and
    YUV_420_888's interleaved chroma (pixel stride 2) as three planes."""
    model = models(EFFNET)
    upright = photo("coffee", 451, 299)
    want = top1(model.classify_rgba(upright))
    for rotation in (0, 90, 270):
        s = stored(upright, rotation)
        h, w = s.shape[:2]
        planes, strides = yuv_420_888(s)
        for fmt in ("yuv_420_888", "i420"):
            got = top1(model.classify_frame(planes, fmt, width=w, height=h, strides=strides,
                                            rotation_degrees=rotation))
            assert got[0] == want[0] and abs(got[1] - want[1]) <= YUV_TOLERANCE, (fmt, rotation, got)
        y, u, v = yuv(s)
        nv12 = [strided(y, w + 8), strided(np.stack([u, v], axis=2), 2 * u.shape[1] + 8)]
        got = top1(model.classify_frame(nv12, "nv12", width=w, height=h,
                                        strides=[(w + 8, 1), (2 * u.shape[1] + 8, 2)],
                                        rotation_degrees=rotation))
        assert got[0] == want[0] and abs(got[1] - want[1]) <= YUV_TOLERANCE, ("nv12", rotation, got)
        rgba = strided(s, 4 * w + 12)
        got = top1(model.classify_frame(rgba, "rgba", width=w, height=h, strides=[(4 * w + 12, 4)],
                                        rotation_degrees=rotation))
        tolerance = RGB_TOLERANCE if rotation == 0 else YUV_TOLERANCE
        assert got[0] == want[0] and abs(got[1] - want[1]) <= tolerance, ("rgba", rotation, got)


def test_video_range_and_bt709_reach_the_core(models):
    """The same Y'CbCr bytes read as video range or BT.709 are other colours: the scores move,
    while the top-1 of this photo stays."""
    model = models(EFFNET)
    frame = packed_array(photo(*COFFEE), "nv12")
    full = model.classify_frame(frame, "nv12", top_k=1)[0]
    video = model.classify_frame(frame, "nv12", color_range="video", top_k=1)[0]
    bt709 = model.classify_frame(frame, "nv12", color_matrix=ledge.ColorMatrix.BT709, top_k=1)[0]
    assert full.index == video.index == bt709.index
    assert abs(full.score - video.score) > 1e-4 and abs(full.score - bt709.score) > 1e-4


def box_of(d) -> list:
    b = d.bounding_box
    return [b.x, b.y, b.width, b.height]


def test_detection_boxes_are_in_the_upright_frame(models):
    from conftest import iou

    ssd = models(SSD)
    upright = photo("coffee")  # 600 × 400
    (cup,) = ssd.detect_rgba(upright)
    want = box_of(cup)
    for rotation in (0, 90, 180, 270):
        got = ssd.detect_frame(packed_array(stored(upright, rotation), "nv21"), "nv21",
                               rotation_degrees=rotation)
        assert [d.label for d in got] == ["Coffee cup"], rotation
        assert iou(box_of(got[0]), want) >= 0.8, (rotation, box_of(got[0]), want)
        assert abs(got[0].score - cup.score) <= 0.06
    # Mirrored after turning: the cup appears mirrored, and so does its box.
    got = ssd.detect_frame(packed_array(stored(upright, 90), "nv21"), "nv21", rotation_degrees=90,
                           mirror=True)
    x, y, w, h = want
    assert iou(box_of(got[0]), [600 - x - w, y, w, h]) >= 0.8, box_of(got[0])
    # A region: the detector looks at the cup's part of the frame only; boxes stay in the whole
    # upright frame's pixels.
    region = (max(0, x - 40), max(0, y - 10), min(600, x + w + 40) - max(0, x - 40),
              min(400, y + h + 10) - max(0, y - 10))
    got = ssd.detect_frame(packed_array(stored(upright, 270), "nv21"), "nv21", rotation_degrees=270,
                           region=region)
    assert got and got[0].label == "Coffee cup"
    assert iou(box_of(got[0]), want) >= 0.7, (box_of(got[0]), want)
    b = got[0].bounding_box
    assert b.x >= region[0] - 1 and b.y >= region[1] - 1


def test_a_region_of_the_whole_frame_changes_nothing(models):
    model = models(EFFNET)
    upright = photo("chelsea", 450, 300)
    frame = packed_array(stored(upright, 180), "i420")
    whole = ledge.BoundingBox(x=0, y=0, width=450, height=300)
    assert model.classify_frame(frame, "i420", rotation_degrees=180, region=whole) == \
        model.classify_frame(frame, "i420", rotation_degrees=180)
    half = model.classify_frame(frame, "i420", rotation_degrees=180, region=(0, 0, 225, 150))
    assert half != model.classify_frame(frame, "i420", rotation_degrees=180)


def test_embeddings_of_frames(models):
    embedder = models(EMBEDDER)
    upright = photo("coffee")
    e = embedder.embed_rgba(upright)
    assert embedder.embed_frame(upright, "rgba") == e
    turned = embedder.embed_frame(packed_array(stored(upright, 90), "nv12"), "nv12", rotation_degrees=90)
    assert isinstance(turned, ledge.Embedding) and len(turned) == len(e)
    assert e.cosine_similarity(turned) >= 0.97
    other = embedder.embed_frame(packed_array(photo("chelsea", 450, 300), "nv12"), "nv12")
    assert e.cosine_similarity(other) < 0.6


def test_the_preprocessed_frame_is_the_images_tensor(models):
    """An upright RGB frame becomes exactly the tensor of its PNG; the same frame turned by 90°
    and stored sideways becomes the same tensor within the resampler's rounding; NV21 within the
    4:2:0 chroma's."""
    model = models(EFFNET)
    upright = photo(*COFFEE)
    want = np.asarray(model.preprocess((DEMO / "images/coffee.png").read_bytes()))
    rgb = np.asarray(model.preprocess_frame(upright[..., :3], "rgb"))
    assert rgb.shape == want.shape
    assert np.array_equal(rgb, want)
    turned = np.asarray(model.preprocess_frame(stored(upright, 90), "rgba", rotation_degrees=90))
    nv21 = np.asarray(model.preprocess_frame(packed_array(upright, "nv21"), "nv21"))
    scale = np.abs(want).max()
    assert np.abs(turned - want).mean() < 0.01 * scale, np.abs(turned - want).mean()
    assert np.abs(nv21 - want).mean() < 0.03 * scale, np.abs(nv21 - want).mean()
    assert isinstance(model.preprocess_frame(upright, "rgba"), ledge.Tensor)


def test_a_frame_needs_no_numpy(models):
    """Bytes in, predictions out: the frame calls use NumPy only when given arrays."""
    model = models(EFFNET)
    upright = photo("chelsea", 450, 300)
    rgb = upright[..., :3].tobytes()
    got = model.classify_frame(rgb, "rgb", width=450, height=300, top_k=1)
    assert got == model.classify_frame(upright[..., :3], "rgb", top_k=1)
    assert got[0].label == "tiger cat"


# --- frames that do not fit their description ------------------------------------------------


def test_bad_frames_are_typed_errors(models):
    model = models(EFFNET)
    rgba = photo("chelsea", 40, 30)
    nv21 = packed_array(rgba, "nv21")
    y, vu = nv21[:30].tobytes(), nv21[30:].tobytes()
    with raises("InvalidArgument", "(height, width, 4)", "(30, 40, 3)"):
        model.classify_frame(rgba[..., :3], "rgba")
    with raises("InvalidArgument", "uint8", "float32", "astype"):
        model.classify_frame(rgba.astype(np.float32), "rgba")
    with raises("InvalidArgument", "(height·3/2, width)", "(31, 40)", "as a list"):
        model.classify_frame(nv21[:31], "nv21")
    with raises("InvalidArgument", "40×30 nv21 frame has 1800 bytes (Y 1200 + VU 600)", "got bytes of 1799"):
        model.classify_frame(nv21.tobytes()[:-1], "nv21", width=40, height=30)
    with raises("InvalidArgument", "do not match", "(45, 40)"):
        model.classify_frame(nv21, "nv21", width=30, height=40)
    with raises("InvalidArgument", "unknown pixel format 'yuyv'", "nv21"):
        model.classify_frame(nv21, "yuyv")
    with raises("InvalidArgument", "unknown colour range 'limited'", "video"):
        model.classify_frame(nv21, "nv21", color_range="limited")
    with raises("InvalidArgument", "unknown colour matrix 'bt2020'", "bt709"):
        model.classify_frame(nv21, "nv21", color_matrix="bt2020")
    # The core's checks, in its words: plane count, strides, bytes, rotation, region.
    with raises("InvalidArgument", "NV21 frame has 2 plane(s), got 1", "Y, then interleaved VU"):
        model.classify_frame([y], "nv21", width=40, height=30)
    with raises("InvalidArgument", "plane 1", "must have pixel stride 2, got 1"):
        model.classify_frame([y, vu], "nv21", width=40, height=30, strides=[(40, 1), (40, 1)])
    with raises("InvalidArgument", "plane 0", "row stride of at least 40 bytes, got 39"):
        model.classify_frame([y, vu], "nv21", width=40, height=30, strides=[(39, 1), (40, 2)])
    with raises("InvalidArgument", "plane 1", "needs at least 600 bytes, got 599"):
        model.classify_frame([y, vu[:-1]], "nv21", width=40, height=30, strides=[(40, 1), (40, 2)])
    with raises("InvalidArgument", "rotation_degrees must be 0, 90, 180 or 270", "got 45"):
        model.classify_frame(nv21, "nv21", rotation_degrees=45)
    with raises("InvalidArgument", "rotation_degrees must be 0, 90, 180 or 270", "got -90"):
        model.classify_frame(nv21, "nv21", rotation_degrees=-90)
    with raises("InvalidArgument", "region", "inside the upright 30×40 frame"):
        model.classify_frame(nv21, "nv21", rotation_degrees=90, region=(0, 0, 40, 30))
    with raises("InvalidArgument", "width must be a whole number", "got -40"):
        model.classify_frame(b"", "rgba", width=-40, height=30)
    with raises("ImageDecode", "0×30"):
        model.classify_frame(b"", "rgba", width=0, height=30)
    with raises("LimitExceeded", "max_image_pixels"):
        model.classify_frame([b""], "rgba", width=100_000, height=100_000)
    with raises("TaskMismatch", "detect"):
        models(SSD).classify_frame(nv21, "nv21")
    with pytest.raises(TypeError, match="width= and height="):
        model.classify_frame(nv21.tobytes(), "nv21")
    with pytest.raises(TypeError, match="width= and height="):
        model.classify_frame([y, vu], "nv21", strides=[(40, 1), (40, 2)])
    with pytest.raises(TypeError, match="planes as a list"):
        model.classify_frame(nv21.tobytes(), "nv21", width=40, height=30, strides=[(40, 1), (40, 2)])
    with pytest.raises(TypeError, match="bytes-like, got int"):
        model.classify_frame(7, "rgba", width=1, height=1)
    # Nothing broke: the model still classifies.
    assert model.classify_frame(nv21, "nv21", top_k=1)
