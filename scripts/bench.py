#!/usr/bin/env python3
"""Ledge vs onnxruntime on the same models and inputs, interleaved, single thread.

Each round runs, for every model, `ledge bench --json` (a subprocess; then a
second time with `--tract-kernels`, i.e. tract alone, the "before") and then onnxruntime (in this
process: 1 intra-op thread, ORT_ENABLE_ALL) for the same number of iterations on the same
image-derived tensor. Medians over rounds are written as a Markdown table and an SVG plot
(docs/benchmarks.md, docs/benchmarks.svg) and the raw numbers as JSON (docs/benchmarks.json).
`--web` adds Ledge's WebAssembly build next to onnxruntime-web in Node (scripts/bench-web.mjs).
Benchmarks print numbers; nothing here passes or fails on a time.

Usage: scripts/bench.py [--ledge dist/host/ledge] [--rounds 5] [--iters 50] [--fp32-dir DIR] [--web]
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


def cpu() -> str:
    """The CPU model and the flags that decide Ledge's kernels, for every table."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags = set(value.split())
    except OSError:
        pass
    wanted = ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "asimd", "asimddp", "i8mm"]
    return f"{model} ({', '.join(f for f in wanted if f in flags) or 'no SIMD flags read'})"


def ledge_bench(ledge: Path, model: Path, manifest: Path | None, image: Path, iters: int,
                tract_kernels: bool = False, isa: str | None = None, threads: int = 1) -> dict:
    cmd = [str(ledge), "bench", str(model), "--image", str(image), "--iters", str(iters),
           "--warmup", "5", "--json", "--threads", str(threads)]
    if isa is not None:
        cmd += ["--isa", isa]
    if manifest is not None:
        cmd += ["--manifest", str(manifest)]
    if tract_kernels:
        cmd.append("--tract-kernels")
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    out["model"] = model.name if not model.is_relative_to(REPO) else str(model.relative_to(REPO))
    return out


def ort_bench(model: Path, tensor: np.ndarray, iters: int, threads: int = 1) -> dict:
    started = time.perf_counter()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
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


def svg_plot(rows: list[tuple[str, float, float | None, float]]) -> str:
    """Grouped horizontal bars, one group per model: Ledge, tract alone and onnxruntime, each as a
    multiple of onnxruntime's time (the ratio is what carries between machines), labelled in ms."""
    series = [("Ledge", "#2b6cb0"), ("tract alone (--tract-kernels)", "#a0aec0"), ("onnxruntime", "#dd6b20")]
    bar, gap, left, width = 16, 18, 190, 420
    top = 50
    longest = max(max(v for v in (l, t, o) if v is not None) / o for _, l, t, o in rows)
    scale = width / max(longest, 1.0)
    height = top + len(rows) * (3 * bar + gap) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 160}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           f'<text x="{left}" y="18" font-weight="bold">Latency, one core, as a multiple of onnxruntime '
           '(labels: median ms)</text>']
    for i, (name, color) in enumerate(series):
        out.append(f'<rect x="{left + i * 210}" y="28" width="10" height="10" fill="{color}"/>'
                   f'<text x="{left + i * 210 + 14}" y="37">{name}</text>')
    y = top
    for label, ledge, tract, ort_ms in rows:
        out.append(f'<text x="{left - 8}" y="{y + 1.5 * bar + 4}" text-anchor="end">{label}</text>')
        for (name, color), value in zip(series, (ledge, tract, ort_ms)):
            if value is not None:
                w = value / ort_ms * scale
                out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{color}"/>'
                           f'<text x="{left + w + 4:.1f}" y="{y + bar - 5}">{value:.2f} ms '
                           f'({value / ort_ms:.2f}×)</text>')
            y += bar
        y += gap
    x1 = left + scale
    out.append(f'<line x1="{x1:.1f}" y1="{top - 4}" x2="{x1:.1f}" y2="{y - gap + 4}" stroke="#000" '
               'stroke-dasharray="3,3"/>')
    out.append(f'<text x="{x1:.1f}" y="{y + 8}" text-anchor="middle">1× onnxruntime</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def web_bench(runs: int) -> dict:
    """Ledge's wasm build and onnxruntime-web in Node (scripts/bench-web.mjs --json)."""
    out = subprocess.run(["node", str(REPO / "scripts/bench-web.mjs"), "--runs", str(runs),
                          "--no-browser", "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledge", type=Path, default=REPO / "dist/host/ledge")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--fp32-dir", type=Path)
    ap.add_argument("--web", action="store_true", help="also Ledge wasm vs onnxruntime-web in Node")
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    ap.add_argument("--isa", default="",
                    help="also Ledge with each forced int8 instruction set, e.g. portable,avx2,avx512vnni")
    ap.add_argument("--threads", default="1",
                    help="thread counts, e.g. 1,2: Ledge (--threads N) and onnxruntime (N intra-op "
                         "threads) at each count besides 1, same rounds")
    args = ap.parse_args()

    models = [(label, path, manifest, DEMO / img, DEMO / t) for label, path, manifest, img, t in MODELS]
    if args.fp32_dir:
        models += [(label, args.fp32_dir / f, DEMO / m, DEMO / img, DEMO / t) for label, f, m, img, t in FP32]

    isas = [i for i in args.isa.split(",") if i]
    counts = [int(n) for n in args.threads.split(",") if n and int(n) != 1]
    raw: dict[str, dict[str, list]] = {
        m[0]: {"ledge": [], "tract": [], "ort": [], **{f"isa:{i}": [] for i in isas},
               **{f"threads:{n}": [] for n in counts}, **{f"ort-threads:{n}": [] for n in counts}}
        for m in models
    }
    print(f"CPU: {cpu()}", file=sys.stderr)
    for r in range(args.rounds):
        for label, path, manifest, image, tensor in models:
            raw[label]["ledge"].append(ledge_bench(args.ledge, path, manifest, image, args.iters))
            for i in isas:
                raw[label][f"isa:{i}"].append(
                    ledge_bench(args.ledge, path, manifest, image, args.iters, isa=i))
            raw[label]["tract"].append(
                ledge_bench(args.ledge, path, manifest, image, args.iters, tract_kernels=True))
            raw[label]["ort"].append(ort_bench(path, np.load(tensor), args.iters))
            for n in counts:
                raw[label][f"threads:{n}"].append(
                    ledge_bench(args.ledge, path, manifest, image, args.iters, threads=n))
                raw[label][f"ort-threads:{n}"].append(
                    ort_bench(path, np.load(tensor), args.iters, threads=n))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    def med(runs: list, key: str) -> float | None:
        return statistics.median(run[key] for run in runs) if runs else None

    lines = [
        "| model | Ledge p50 (ms) | tract alone p50 (ms) | onnxruntime p50 (ms) | Ledge / ORT "
        "| Ledge load (ms) | ORT load (ms) | Ledge peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    plot = []
    for label, runs in raw.items():
        lp, tp, op = med(runs["ledge"], "p50_ms"), med(runs["tract"], "p50_ms"), med(runs["ort"], "p50_ms")
        ll, ol = med(runs["ledge"], "load_ms"), med(runs["ort"], "load_ms")
        rss = med(runs["ledge"], "peak_rss_bytes") / 1e6
        tract = f"{tp:.2f}" if tp is not None else "—"
        lines.append(f"| {label} | {lp:.2f} | {tract} | {op:.2f} | {lp / op:.2f} | {ll:.0f} | {ol:.0f} | {rss:.0f} |")
        plot.append((label, lp, tp, op))
    p50 = {label: med(runs["ledge"], "p50_ms") for label, runs in raw.items()}
    for family in ("EfficientNet-Lite0", "PP-OCR cls"):
        q, f = p50.get(f"{family} int8"), p50.get(f"{family} fp32")
        if q is not None and f is not None:
            lines.append(f"\n{family}: Ledge int8 / Ledge fp32 = {q / f:.2f}")
    if isas:
        lines += ["", "Per forced int8 instruction set (`--isa`), same rounds:", "",
                  "| model | " + " | ".join(f"{i} p50 (ms)" for i in isas) + " | onnxruntime p50 (ms) | "
                  + " | ".join(f"{i} / ORT" for i in isas) + " |",
                  "|---|" + "---:|" * (2 * len(isas) + 1)]
        for label, runs in raw.items():
            op = med(runs["ort"], "p50_ms")
            ps = [med(runs[f"isa:{i}"], "p50_ms") for i in isas]
            lines.append(f"| {label} | " + " | ".join(f"{p:.2f}" for p in ps) + f" | {op:.2f} | "
                         + " | ".join(f"{p / op:.2f}" for p in ps) + " |")
    if counts:
        lines += ["", "Threads (`--threads`; onnxruntime with as many intra-op threads), same rounds:", "",
                  "| model | 1 thread p50 (ms) | " + " | ".join(
                      f"{n} threads p50 (ms) | speed-up | ORT {n} threads (ms) | Ledge / ORT" for n in counts)
                  + " |", "|---|---:|" + "---:|---:|---:|---:|" * len(counts)]
        for label, runs in raw.items():
            one = med(runs["ledge"], "p50_ms")
            cells = []
            for n in counts:
                many, ort_many = med(runs[f"threads:{n}"], "p50_ms"), med(runs[f"ort-threads:{n}"], "p50_ms")
                cells.append(f"{many:.2f} | {one / many:.2f}× | {ort_many:.2f} | {many / ort_many:.2f}")
            lines.append(f"| {label} | {one:.2f} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(f"CPU: {cpu()}")
    print(table)

    web_section = ""
    web = None
    if args.web:
        web = web_bench(max(args.rounds * 4, 11))["node"]
        ratio = web["classifyTensorMs"] / web["ortRunMs"]
        web_section = f"""
## WebAssembly ({web.get("engine", "Node")})

`node scripts/bench-web.mjs --no-browser` on web/dist (the shipped build of `scripts/build-wasm.sh`)
next to onnxruntime-web (npm, wasm backend, 1 thread) on EfficientNet-Lite0 int8, interleaved:

| Ledge `classify` (PNG → top-5) | Ledge `classifyTensor` | onnxruntime-web `run` | Ledge / ORT | load Ledge / ORT |
|---:|---:|---:|---:|---:|
| {web["classifyMs"]:.1f} ms | {web["classifyTensorMs"]:.1f} ms | {web["ortRunMs"]:.1f} ms | {ratio:.2f} | {web["ledgeLoadMs"]:.0f} / {web["ortLoadMs"]:.0f} ms |
"""
        print(web_section)

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "rounds": args.rounds, "iters": args.iters, "onnxruntime": ort.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": len(__import__("os").sched_getaffinity(0)), "cpu": cpu(), "isas": isas,
        "threads": [1, *counts],
    }
    (args.out / "benchmarks.json").write_text(json.dumps({"meta": meta, "raw": raw, "web": web}, indent=1) + "\n")
    (args.out / "benchmarks.svg").write_text(svg_plot(plot))
    doc = f"""# Benchmarks

`scripts/bench` — Ledge (`ledge bench --json`, dist build), the same binary with `--tract-kernels`
("tract alone": every operator on tract 0.23.9's own kernels, QDQ convolutions in float, i.e.
before Ledge's kernels) and onnxruntime {ort.__version__} (Python, 1 intra-op thread, `ORT_ENABLE_ALL`) on the same
models and the same input, interleaved over {args.rounds} rounds of {args.iters} timed runs each (after 5
warm-up runs); every number is the median over rounds of each round's median. Single thread,
{meta['cpus']}-core shared machine, CPU **{meta['cpu']}**: compare ratios, not absolute times. Raw
numbers: `benchmarks.json`.

{table}

![Latency relative to onnxruntime](benchmarks.svg)

Load is `Model::from_path` (parse, pin shapes, repair, optimize, plan) against `InferenceSession(...)`.
Reproduce: `LEDGE_SHARED_MODELS=DIR scripts/bench --rounds {args.rounds} --iters {args.iters}{" --isa " + args.isa if isas else ""}{" --threads " + args.threads if counts else ""}{" --web" if args.web else ""}`
(DIR holds the fp32 sources named in demo-models/README.md; without it, the int8 rows only).
{web_section}"""
    (args.out / "benchmarks.md").write_text(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
