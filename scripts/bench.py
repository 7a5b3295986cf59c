#!/usr/bin/env python3
"""Ledge vs onnxruntime on the same models and inputs, interleaved, single thread.

Each round runs, for every model, `ledge bench --json` (a subprocess) and then onnxruntime
(in this process: 1 intra-op thread, ORT_ENABLE_ALL) for the same number of iterations on the
same image-derived tensor. Medians over rounds are written as a Markdown table
(docs/benchmarks.md) and the raw numbers as JSON (docs/benchmarks.json). Benchmarks print
numbers; nothing here passes or fails on a time.

Usage: scripts/bench.py [--ledge dist/host/ledge] [--rounds 5] [--iters 50] [--fp32-dir DIR]
`--fp32-dir` adds the fp32 sources (efficientnet_lite0_fp32.onnx, ppocr_cls_mnv3_fp32.onnx)
with the demo models' manifests.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo-models"
MODELS = [
    # (label, model path, manifest for fp32 sources, image, reference tensor)
    ("EfficientNet-Lite0 int8", DEMO / "efficientnet-lite0/model.onnx", None,
     "images/chelsea.png", "vectors/tensors/efficientnet-lite0_chelsea.npy"),
    ("PP-OCR cls int8", DEMO / "ppocr-cls/model.onnx", None,
     "images/line0_0.png", "vectors/tensors/ppocr-cls_line0_0.npy"),
]
FP32 = [
    ("EfficientNet-Lite0 fp32", "efficientnet_lite0_fp32.onnx", "efficientnet-lite0/manifest.toml",
     "images/chelsea.png", "vectors/tensors/efficientnet-lite0_chelsea.npy"),
    ("PP-OCR cls fp32", "ppocr_cls_mnv3_fp32.onnx", "ppocr-cls/manifest.toml",
     "images/line0_0.png", "vectors/tensors/ppocr-cls_line0_0.npy"),
]


def ledge_bench(ledge: Path, model: Path, manifest: Path | None, image: Path, iters: int) -> dict:
    cmd = [str(ledge), "bench", str(model), "--image", str(image), "--iters", str(iters),
           "--warmup", "5", "--json"]
    if manifest is not None:
        cmd += ["--manifest", str(manifest)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def ort_bench(model: Path, tensor: np.ndarray, iters: int) -> dict:
    started = time.perf_counter()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - started) * 1e3
    feed = {sess.get_inputs()[0].name: tensor}
    for _ in range(5):
        sess.run(None, feed)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1e3)
    return {"load_ms": load_ms, "p50_ms": statistics.median(times)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledge", type=Path, default=REPO / "dist/host/ledge")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--fp32-dir", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    args = ap.parse_args()

    models = [(label, path, manifest, DEMO / img, DEMO / t) for label, path, manifest, img, t in MODELS]
    if args.fp32_dir:
        models += [(label, args.fp32_dir / f, DEMO / m, DEMO / img, DEMO / t) for label, f, m, img, t in FP32]

    raw: dict[str, dict[str, list]] = {m[0]: {"ledge": [], "ort": []} for m in models}
    for r in range(args.rounds):
        for label, path, manifest, image, tensor in models:
            raw[label]["ledge"].append(ledge_bench(args.ledge, path, manifest, image, args.iters))
            raw[label]["ort"].append(ort_bench(path, np.load(tensor), args.iters))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    med = lambda runs, key: statistics.median(run[key] for run in runs)  # noqa: E731
    lines = [
        "| model | Ledge p50 (ms) | onnxruntime p50 (ms) | Ledge / ORT | Ledge load (ms) | ORT load (ms) | Ledge peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, runs in raw.items():
        lp, op = med(runs["ledge"], "p50_ms"), med(runs["ort"], "p50_ms")
        ll, ol = med(runs["ledge"], "load_ms"), med(runs["ort"], "load_ms")
        rss = med(runs["ledge"], "peak_rss_bytes") / 1e6
        lines.append(f"| {label} | {lp:.2f} | {op:.2f} | {lp / op:.2f} | {ll:.0f} | {ol:.0f} | {rss:.0f} |")
    table = "\n".join(lines)
    print(table)

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "rounds": args.rounds, "iters": args.iters, "onnxruntime": ort.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": len(__import__("os").sched_getaffinity(0)),
    }
    (args.out / "benchmarks.json").write_text(json.dumps({"meta": meta, "raw": raw}, indent=1) + "\n")
    doc = f"""# Benchmarks

`scripts/bench.py` (run through `scripts/bench.sh`) — Ledge (`ledge bench --json`, dist build) and
onnxruntime {ort.__version__} (Python, 1 intra-op thread, `ORT_ENABLE_ALL`) on the same models and the
same input, interleaved over {args.rounds} rounds of {args.iters} timed runs each (after 5 warm-up runs);
every number is the median over rounds of each round's median. Single thread, {meta['cpus']}-core shared
machine ({meta['machine']}): compare ratios, not absolute times. Raw numbers: `benchmarks.json`.

{table}

Load is `Model::from_path` (parse, pin shapes, repair, optimize, plan) against `InferenceSession(...)`.
"""
    (args.out / "benchmarks.md").write_text(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
