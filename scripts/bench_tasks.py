#!/usr/bin/env python3
"""Benchmarks of the detection task, batches and the prediction cache, next to onnxruntime.

    scripts/bench_tasks.py [--ledge dist/host/ledge] [--rounds 3] [--iters 30]

(run with the python of scripts/python-env.sh; scripts/bench --tasks builds the dist CLI and runs it)

- Detection: `ledge bench --image` on each demo detector: the model run alone (p50), the whole
  `detect` call (decode, preprocess, run, box decoding, NMS) and the same call answered by the
  prediction cache, next to onnxruntime's run of the same model on Ledge's own input tensor
  (`ledge preprocess`), 1 intra-op thread, ORT_ENABLE_ALL.
- Batches: `ledge classify --batch-size N` on EfficientNet-Lite0 int8 (images per second, decode
  and preprocessing included) next to onnxruntime running N preprocessed rows at once on the same
  model made batch-agnostic the way Ledge does it (the Reshape to [1, -1] becomes [0, -1]).
Rounds are interleaved; every number is the median over rounds. Prints a Markdown section with
the CPU named and writes it to docs/benchmarks-tasks.md. Never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo-models"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import cpu  # noqa: E402  (the CPU model and its int8-relevant flags)

DETECTORS = [
    ("SSD-MobileNetV2 int8 (300×300)", "ssd-mobilenetv2-oid/model.onnx", "images/chelsea.png"),
    ("BlazeFace short-range fp32 (128×128)", "blazeface-short-range/model.onnx", "images/camera.png"),
]
IMAGES = ["chelsea", "coffee", "camera", "chelsea_mirror", "coffee_mirror", "camera_mirror"]


def ort_session(path: Path) -> ort.InferenceSession:
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def ort_p50(sess: ort.InferenceSession, x: np.ndarray, iters: int) -> float:
    name = sess.get_inputs()[0].name
    for _ in range(3):
        sess.run(None, {name: x})
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        sess.run(None, {name: x})
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def batch_agnostic(src: Path, dst: Path) -> None:
    """The model with a free batch dimension: what Ledge's batch plan does to the graph."""
    m = onnx.load(str(src))
    del m.graph.value_info[:]
    for v in list(m.graph.input) + list(m.graph.output):
        d = v.type.tensor_type.shape.dim
        if d and d[0].dim_value == 1:
            d[0].dim_param = "N"
    shapes = {n.input[1] for n in m.graph.node if n.op_type == "Reshape"}
    for init in m.graph.initializer:
        if init.name in shapes:
            a = onnx.numpy_helper.to_array(init).copy()
            if a.size and a[0] == 1:
                a[0] = 0
                init.CopyFrom(onnx.numpy_helper.from_array(a, init.name))
    onnx.save(m, str(dst))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledge", type=Path, default=REPO / "dist/host/ledge")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--out", type=Path, default=REPO / "docs/benchmarks-tasks.md")
    args = ap.parse_args()
    ledge = str(args.ledge)
    tmp = Path(tempfile.mkdtemp())
    print(f"CPU: {cpu()}", file=sys.stderr)

    det: dict[str, dict[str, list[float]]] = {d[0]: {"run": [], "task": [], "hit": [], "ort": []} for d in DETECTORS}
    tensors = {}
    for label, model, image in DETECTORS:
        npy = tmp / f"{Path(model).parent.name}.npy"
        subprocess.run([ledge, "preprocess", str(DEMO / model), str(DEMO / image), "-o", str(npy)],
                       check=True, capture_output=True)
        tensors[label] = np.load(npy)
    effnet = DEMO / "efficientnet-lite0/model.onnx"
    free = tmp / "effnet-batch.onnx"
    batch_agnostic(effnet, free)
    rows = [np.load(DEMO / f"vectors/tensors/efficientnet-lite0_{i}.npy")
            for i in ("chelsea", "coffee", "camera")]
    batches = {n: {"ledge": [], "ort": []} for n in (1, 4, 8)}
    free_sess = ort_session(free)
    store = tmp / "store"
    for v in ("a", "b"):
        subprocess.run([ledge, "store", "install", str(store), "effnet", v, str(effnet)], check=True,
                       capture_output=True)
    swaps: list[float] = []

    for r in range(args.rounds):
        for label, model, image in DETECTORS:
            out = subprocess.run([ledge, "bench", str(DEMO / model), "--image", str(DEMO / image),
                                  "--iters", str(args.iters), "--json"], check=True, capture_output=True, text=True)
            b = json.loads(out.stdout)
            det[label]["run"].append(b["p50_ms"])
            det[label]["task"].append(b["task_p50_ms"])
            det[label]["hit"].append(b["cache_hit_p50_ms"])
            det[label]["ort"].append(ort_p50(ort_session(DEMO / model), tensors[label], args.iters))
        for n in batches:
            images = [str(DEMO / f"images/{IMAGES[i % len(IMAGES)]}.png") for i in range(n * 6)]
            out = subprocess.run([ledge, "classify", str(effnet), "-k", "1", "--json", "--batch-size", str(n)]
                                 + images, check=True, capture_output=True, text=True)
            # The first batch also builds the plan for N rows (kept afterwards): steady state only.
            per_image = [json.loads(line)["latency_ms"] for line in out.stdout.splitlines()][n:]
            batches[n]["ledge"].append(1000.0 / statistics.mean(per_image))
            x = np.concatenate([rows[i % 3] for i in range(n)])
            batches[n]["ort"].append(1000.0 * n / ort_p50(free_sess, x, max(args.iters // n, 5)))
        for v in ("a", "b", "a", "b"):
            out = subprocess.run([ledge, "store", "activate", str(store), "effnet", v], check=True,
                                 capture_output=True, text=True).stdout
            swaps.append(float(out.split("(")[1].split(" ms")[0]))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    med = statistics.median
    lines = [
        "| detector | Ledge run p50 (ms) | Ledge `detect` p50 (ms) | cache hit p50 (ms) | onnxruntime run p50 (ms) | Ledge run / ORT | Ledge detect / ORT run |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, d in det.items():
        run, task, hit, o = med(d["run"]), med(d["task"]), med(d["hit"]), med(d["ort"])
        lines.append(f"| {label} | {run:.2f} | {task:.2f} | {hit:.3f} | {o:.2f} | {run / o:.2f} | {task / o:.2f} |")
    lines += ["", "| EfficientNet-Lite0 int8, batch N | Ledge images/s (PNG → top-1) | onnxruntime images/s (run only) | Ledge / ORT |",
              "|---|---:|---:|---:|"]
    for n, b in batches.items():
        lt, ot = med(b["ledge"]), med(b["ort"])
        lines.append(f"| {n} | {lt:.1f} | {ot:.1f} | {lt / ot:.2f} |")
    lines += ["", f"Swapping the active EfficientNet-Lite0 version (`ModelStore::activate`: load and swap in): "
              f"median {med(swaps):.0f} ms over {len(swaps)} swaps; calls in flight finish on the old version."]
    table = "\n".join(lines)
    doc = f"""# Task benchmarks: detection, batches, the prediction cache

`scripts/bench --tasks` (`scripts/bench_tasks.py`): {args.rounds} interleaved rounds, medians; single
thread; CPU **{cpu()}**. Compare ratios, not absolute times (a shared 2-core machine).

{table}

- "Ledge `detect`" is the whole call an app makes: PNG decode, preprocessing, the run, box decoding
  against the anchors, sigmoid and NMS. "cache hit" is the same call answered by the prediction cache
  (a sha256 of the image bytes and a clone of the result).
- Batches: Ledge's images/s include decoding and preprocessing each PNG (the first batch, which also
  builds the plan for N rows, is left out); onnxruntime's are the run
  alone, on already preprocessed rows, so the ratio favours onnxruntime. One thread: a batch saves
  per-call overhead, not arithmetic.
"""
    print(doc)
    args.out.write_text(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
