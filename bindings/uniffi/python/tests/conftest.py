"""Fixtures shared by the binding tests: the demo models and the shared vectors."""

import functools
import json
import os
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

import ledge

REPO = Path(__file__).resolve().parents[4]
DEMO = Path(os.environ.get("LEDGE_DEMO_MODELS", REPO / "demo-models"))


def read(rel: str) -> bytes:
    return (DEMO / rel).read_bytes()


def cases() -> list:
    data = json.loads((DEMO / "vectors" / "cases.json").read_text())
    assert data["format"] == 1
    return data["cases"]


def detect_vectors() -> list:
    """The cases of demo-models/vectors/detect.json."""
    data = json.loads((DEMO / "vectors" / "detect.json").read_text())
    assert data["format"] == 1
    return data["cases"]


def embed_vectors() -> dict:
    """demo-models/vectors/embed.json: its ``cases`` and ``pairs``."""
    data = json.loads((DEMO / "vectors" / "embed.json").read_text())
    assert data["format"] == 1
    return data


def frame_vectors() -> Optional[dict]:
    """demo-models/vectors/frames.json (``conversion`` and ``cases``), or None before it exists."""
    path = DEMO / "vectors" / "frames.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    assert data["format"] == 1
    return data


def iou(a, b) -> float:
    """Intersection over union of two [x, y, width, height] boxes (0 when the union is 0)."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def box(d: ledge.Detection) -> list:
    b = d.bounding_box
    return [b.x, b.y, b.width, b.height]


def mismatches(case: dict, actual: list, diffs: Optional[list] = None, same_count=True) -> list:
    """Every way `actual` breaks the detection rule for `case` (empty: it matches); the
    |Δscore| of every matched detection is appended to `diffs`. detect.json's rule wants as many
    detections as expected (`same_count`), frames.json's only each expected one; an expected
    detection without `keypoints` does not check them."""
    problems = []
    expected = case["expected"]
    if same_count and len(actual) != len(expected):
        problems.append(f"{len(actual)} detections, expected {len(expected)}")
    taken = [False] * len(actual)
    for e in expected:
        candidates = [
            (iou(box(a), e["box"]), i)
            for i, a in enumerate(actual)
            if not taken[i] and a.index == e["index"]
        ]
        best = max(candidates, default=None)
        if best is None or best[0] < case["min_iou"]:
            problems.append(f"class {e['index']} box {e['box']}: best IoU {best and best[0]}")
            continue
        taken[best[1]] = True
        a = actual[best[1]]
        if diffs is not None:
            diffs.append(abs(a.score - e["score"]))
        if abs(a.score - e["score"]) > case["score_tolerance"]:
            problems.append(f"class {e['index']} score {a.score} vs {e['score']}")
        keypoints = len(e.get("keypoints", a.keypoints))
        if a.label != e.get("label", a.label) or len(a.keypoints) != keypoints:
            problems.append(
                f"class {e['index']}: label {a.label!r} / {len(a.keypoints)} keypoints vs "
                f"{e.get('label')!r} / {keypoints}"
            )
    return problems


@functools.lru_cache(maxsize=None)
def _rgba_frame(path) -> np.ndarray:
    """The (H, W, 4) uint8 frame of an 8-bit RGB PNG (not interlaced), decoded here with zlib
    and the five PNG filters: no imaging library in the test environment."""
    import struct
    import zlib

    data = path.read_bytes()
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, color, _, _, interlace = header
    assert (depth, color, interlace) == (8, 2, 0), "an 8-bit RGB PNG, not interlaced"
    raw, bpp, stride = zlib.decompress(idat), 3, w * 3
    out, prev = bytearray(h * stride), bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride) if f else ():
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) >> 1
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[x] = (line[x] + pred) & 0xFF
        out[y * stride : (y + 1) * stride] = line
        prev = line
    rgb = np.frombuffer(bytes(out), np.uint8).reshape(h, w, 3)
    frame = np.concatenate([rgb, np.full((h, w, 1), 255, np.uint8)], axis=2)
    frame.flags.writeable = False
    return frame


def rgba_frame(path) -> np.ndarray:
    """The (H, W, 4) uint8 frame of an 8-bit RGB PNG (decoded once per session; a copy)."""
    return _rgba_frame(Path(path)).copy()


def pytest_report_header(config):
    return f"ledge {ledge.__version__} from {Path(ledge.__file__).parent}; demo models {DEMO}"


@pytest.fixture(scope="session", autouse=True)
def installed_package():
    """The tests exercise the installed wheel, never the source folder."""
    if os.environ.get("LEDGE_ALLOW_SOURCE_TREE") != "1":
        assert "site-packages" in ledge.__file__, ledge.__file__


@pytest.fixture(scope="session")
def models():
    """Models loaded once per session, by path relative to demo-models/."""
    cache = {}

    def get(rel: str) -> ledge.Model:
        if rel not in cache:
            cache[rel] = ledge.Model.from_path(DEMO / rel)
        return cache[rel]

    return get


# Largest |Δscore| per (model, level), filled by test_vectors and printed after the run.
WORST: dict = {}
# Measurements worth reporting (e.g. memory across a load/free loop), printed after the run.
NOTES: list = []


def pytest_terminal_summary(terminalreporter):
    for key in sorted(WORST):
        terminalreporter.write_line(f"max |Δscore| {key}: {WORST[key]:.5f}")
    for note in NOTES:
        terminalreporter.write_line(note)
