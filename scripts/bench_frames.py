#!/usr/bin/env python3
"""Benchmarks of camera-frame input: what a 640×480 frame costs before the model runs.

    scripts/bench_frames.py [--ledge dist/host/ledge] [--rounds 3] [--iters 50]

(run with the python of scripts/python-env.sh; `scripts/bench --frames` builds the dist CLI and runs it)

A photo turned into the frames a phone camera hands out — 640×480 stored, rotation 90 (a portrait phone),
in NV21 (Android camera), I420 (YUV_420_888's planes), NV12 and BGRA (iOS) and RGBA — then
`ledge bench MODEL --image FRAME --frame FORMAT:640x480:90` on EfficientNet-Lite0 int8 and
SSD-MobileNetV2 int8: the conversion to RGB alone, the whole preprocessing (conversion, rotation,
resampling, normalization), the whole `*_frame` call, and the model run alone. The peer in the same run:
the same picture as a PNG through the encoded-image call (decode instead of conversion). Rounds are
interleaved; every number is the median over rounds. Writes docs/benchmarks-frames.md with the CPU named.
Never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo-models"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import cpu  # noqa: E402
from frame_vectors import encode, stored_from_upright  # noqa: E402

MODELS = [
    ("EfficientNet-Lite0 int8", "efficientnet-lite0/model.onnx"),
    ("SSD-MobileNetV2 int8", "ssd-mobilenetv2-oid/model.onnx"),
]
FORMATS = ["nv21", "i420", "nv12", "bgra", "rgba"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledge", type=Path, default=REPO / "dist/host/ledge")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--out", type=Path, default=REPO / "docs/benchmarks-frames.md")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    print(f"CPU: {cpu()}", file=sys.stderr)
    with Image.open(DEMO / "images/coffee.png") as im:
        upright = im.convert("RGB").resize((480, 640), Image.Resampling.BILINEAR)
    upright.save(tmp / "upright.png")
    stored = stored_from_upright(np.asarray(upright), 90, False)
    for fmt in FORMATS:
        data, _, _ = encode(stored, fmt, 0)
        (tmp / f"{fmt}.raw").write_bytes(data)

    keys = ("frame_convert_p50_ms", "frame_preprocess_p50_ms", "frame_task_p50_ms", "p50_ms")
    res = {(m, f): {k: [] for k in keys} for _, m in MODELS for f in FORMATS}
    png = {m: [] for _, m in MODELS}

    def bench(extra: list[str]) -> dict:
        out = subprocess.run([str(args.ledge), "bench", *extra, "--iters", str(args.iters), "--json"],
                             check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    for r in range(args.rounds):
        for _, model in MODELS:
            path = str(DEMO / model)
            png[model].append(bench([path, "--image", str(tmp / "upright.png")])["task_p50_ms"])
            for fmt in FORMATS:
                b = bench([path, "--image", str(tmp / f"{fmt}.raw"), "--frame", f"{fmt}:640x480:90"])
                for k in keys:
                    res[(model, fmt)][k].append(b[k])
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    med = statistics.median
    lines = [
        "| model | frame (640×480, rotation 90) | → RGB (ms) | → input tensor (ms) | whole call (ms) | model run (ms) | "
        "preprocessing / call | call / PNG call |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, model in MODELS:
        p = med(png[model])
        for fmt in FORMATS:
            v = {k: med(x) for k, x in res[(model, fmt)].items()}
            lines.append(
                f"| {label} | {fmt} | {v['frame_convert_p50_ms']:.3f} | {v['frame_preprocess_p50_ms']:.3f} | "
                f"{v['frame_task_p50_ms']:.2f} | {v['p50_ms']:.2f} | "
                f"{v['frame_preprocess_p50_ms'] / v['frame_task_p50_ms']:.0%} | {v['frame_task_p50_ms'] / p:.2f} |")
        lines.append(f"| {label} | *the same picture as a 480×640 PNG* | | | {p:.2f} | | | 1.00 |")
    table = "\n".join(lines)
    doc = f"""# Camera-frame benchmarks

`scripts/bench --frames` (`scripts/bench_frames.py`): {args.rounds} interleaved rounds of {args.iters} calls,
medians; single thread; CPU **{cpu()}**. Compare ratios, not absolute times (a shared 2-core machine).

{table}

- "→ RGB" is `Frame::to_upright`: the YUV → RGB conversion (yuvutils-rs; interleaved chroma is gathered
  into tight planes first) or the packed copy, at the stored 640×480. "→ input tensor" adds the rotation,
  the resampling to the model's input and the normalization (`Model::preprocess_frame`): the rotation
  is applied while the resampled pixels are written, so a turned frame costs what an upright one does.
- "whole call" is `classify_frame` / `detect_frame`, as an app calls it for each camera frame; "call /
  PNG call" compares it with the same picture as a PNG through `classify_encoded` / `detect_encoded`
  (decode instead of conversion).
"""
    print(doc)
    args.out.write_text(doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
