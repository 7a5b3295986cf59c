#!/usr/bin/env python3
"""Runs every shared vector and the bad-input catalogue through a `ledge` CLI binary.

Used for builds that cannot run `cargo test` natively (Raspberry Pi binaries under qemu-user).
The binary is given as a command prefix, e.g.
    scripts/check_vectors.py -- qemu-aarch64-static -cpu cortex-a72 -L / dist/aarch64/ledge
The vector rule is the one every language applies (core/tests/vectors.rs): the top-1 index
matches, and each expected class's score is within the case's tolerance. Detection and embedding
vectors (detect.json, embed.json) follow core/tests/tasks.rs: the same number of detections, each
expected one matched by class with IoU >= min_iou and its score within score_tolerance; each
embedding's cosine with the expected one >= min_cosine, each pair's cosine within tolerance. Frame
vectors (frames.json) follow core/tests/frames.rs, through `ledge --frame` with the planes repacked
tightly (the conversion's NEON paths, rotation, mirror, region). With `--reference CMD`,
each bad input's exit code and error line must equal the reference binary's (the x86_64 build).
Standard library only. Prints `N passed, N failed` and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo-models"


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def check_vectors(ledge: list[str], models: list[str]) -> tuple[int, list[str], float]:
    cases = json.loads((DEMO / "vectors/cases.json").read_text(encoding="utf-8"))["cases"]
    if models:
        cases = [c for c in cases if c["model"] in models]
        if not cases:
            raise SystemExit(f"check_vectors: no case uses any of {models}")
    groups: dict[tuple[str, str | None], list[dict]] = defaultdict(list)
    for case in cases:
        groups[(case["model"], case.get("manifest"))].append(case)
    passed, failures, worst = 0, [], 0.0
    for (model, manifest), group in groups.items():
        inputs = [c["tensor"] if c["level"] == "tensor" else c["image"] for c in group]
        cmd = ledge + ["classify", str(DEMO / model), "--top", "100000", "--json"]
        if manifest:
            cmd += ["--manifest", str(DEMO / manifest)]
        out = run(cmd + [str(DEMO / i) for i in inputs])
        if out.returncode != 0:
            failures += [f"{c['name']}: ledge failed: {out.stderr.strip()}" for c in group]
            continue
        results = [json.loads(line) for line in out.stdout.splitlines()]
        for case, result in zip(group, results):
            scores = {p["index"]: p["score"] for p in result["predictions"]}
            problems = []
            if result["predictions"][0]["index"] != case["expected"][0]["index"]:
                problems.append(f"top-1 {result['predictions'][0]['index']} != {case['expected'][0]['index']}")
            for e in case["expected"]:
                diff = abs(scores[e["index"]] - e["score"])
                worst = max(worst, diff if case["level"] == "tensor" else 0.0)
                if diff > case["tolerance"]:
                    problems.append(f"index {e['index']}: {scores[e['index']]:.5f} vs {e['score']:.5f}")
            if problems:
                failures.append(f"{case['name']}: " + "; ".join(problems))
            else:
                passed += 1
    return passed, failures, worst


def iou(a: list[float], b: list[float]) -> float:
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(ix, 0.0) * max(iy, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def detection_problems(case: dict, actual: list[dict]) -> list[str]:
    """The rule of core/tests/common/mod.rs `detection_mismatches`."""
    problems = []
    if len(actual) != len(case["expected"]):
        problems.append(f"{len(actual)} detections, expected {len(case['expected'])}")
    taken = [False] * len(actual)
    for e in case["expected"]:
        scored = [(iou(e["box"], [a["boundingBox"][k] for k in ("x", "y", "width", "height")]), i)
                  for i, a in enumerate(actual) if not taken[i] and a["index"] == e["index"]]
        best = max(scored, default=None)
        if best is None or best[0] < case["min_iou"]:
            problems.append(f"class {e['index']} box {e['box']}: best IoU {best and best[0]}")
            continue
        taken[best[1]] = True
        if abs(actual[best[1]]["score"] - e["score"]) > case["score_tolerance"]:
            problems.append(f"class {e['index']} score {actual[best[1]]['score']} vs {e['score']}")
    return problems


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb)


def check_tasks(ledge: list[str]) -> tuple[int, list[str]]:
    """Detection and embedding vectors through `ledge detect --json` / `ledge embed --json`."""
    passed, failures = 0, []
    detect = json.loads((DEMO / "vectors/detect.json").read_text(encoding="utf-8"))["cases"]
    for case in detect:
        cmd = ledge + ["detect", str(DEMO / case["model"]), str(DEMO / case["image"]), "--json"]
        flags = {"maxResults": "--max-results", "scoreThreshold": "--score-threshold",
                 "iouThreshold": "--iou-threshold"}
        for key, value in case.get("options", {}).items():
            cmd += [flags[key], str(value)]
        out = run(cmd)
        if out.returncode != 0:
            failures.append(f"{case['name']}: ledge failed: {out.stderr.strip()}")
            continue
        problems = detection_problems(case, json.loads(out.stdout)["detections"])
        if problems:
            failures.append(f"{case['name']}: " + "; ".join(problems))
        else:
            passed += 1
    embed = json.loads((DEMO / "vectors/embed.json").read_text(encoding="utf-8"))
    wanted: dict[str, set[str]] = defaultdict(set)
    for case in embed["cases"]:
        wanted[case["model"]].add(case["image"])
    for pair in embed["pairs"]:
        wanted[pair["model"]] |= {pair["a"], pair["b"]}
    got: dict[tuple[str, str], list[float]] = {}
    for model, images in wanted.items():
        images = sorted(images)
        out = run(ledge + ["embed", str(DEMO / model), "--json"] + [str(DEMO / i) for i in images])
        if out.returncode != 0:
            failures.append(f"embed {model}: ledge failed: {out.stderr.strip()}")
            continue
        for image, line in zip(images, out.stdout.splitlines()):
            got[(model, image)] = json.loads(line)["embedding"]
    for case in embed["cases"]:
        values = got.get((case["model"], case["image"]))
        c = values and cosine(values, case["expected"])
        if c is not None and c >= case["min_cosine"]:
            passed += 1
        else:
            failures.append(f"{case['name']}: cosine with the reference {c}")
    for pair in embed["pairs"]:
        a, b = got.get((pair["model"], pair["a"])), got.get((pair["model"], pair["b"]))
        c = a and b and cosine(a, b)
        if c is not None and abs(c - pair["cosine"]) <= pair["tolerance"]:
            passed += 1
        else:
            failures.append(f"pair {pair['a']} / {pair['b']}: cosine {c} vs {pair['cosine']}")
    if not detect or not embed["cases"] or not embed["pairs"]:
        failures.append("detect.json or embed.json has no cases")
    return passed, failures


def tight_planes(raw: bytes, case: dict) -> bytes:
    """A frame vector's planes repacked tightly, in order (what `ledge --frame` reads): strides and
    YUV_420_888's interleaved chroma are the Rust, Python, Kotlin and JavaScript suites' to test."""
    lay = case["layout"]
    w, h, fmt = lay["width"], lay["height"], lay["format"]
    cw, ch = (w + 1) // 2, (h + 1) // 2
    out = bytearray()

    def samples(plane: int, cols: int, rows: int, size: int) -> None:
        offset, _ = case["planes"][plane]
        pl = lay["planes"][plane]
        for r in range(rows):
            at = offset + r * pl["rowStride"]
            for c in range(cols):
                px = at + c * pl["pixelStride"]
                out.extend(raw[px:px + size])

    if fmt in ("rgba", "bgra", "rgb"):
        samples(0, w, h, 4 if fmt != "rgb" else 3)
    else:
        samples(0, w, h, 1)
        if fmt == "i420":
            samples(1, cw, ch, 1)
            samples(2, cw, ch, 1)
        else:
            samples(1, cw, ch, 2)
    return bytes(out)


def check_frames(ledge: list[str], tmp: Path) -> tuple[int, list[str]]:
    """Every frames.json case through `ledge classify|detect --frame` (tight planes; rotation, mirror,
    region, matrix and range as the case says)."""
    passed, failures = 0, []
    cases = json.loads((DEMO / "vectors/frames.json").read_text(encoding="utf-8"))["cases"]
    for case in cases:
        lay = case["layout"]
        frame = tmp / "frame.raw"
        frame.write_bytes(tight_planes((DEMO / "vectors" / case["file"]).read_bytes(), case))
        cmd = ledge + [case["task"], str(DEMO / case["model"]), str(frame), "--json",
                       "--frame", f"{lay['format']}:{lay['width']}x{lay['height']}:{lay['rotationDegrees']}"]
        cmd += ["--mirror"] if lay["mirror"] else []
        cmd += ["--bt709"] if lay["colorMatrix"] == "bt709" else []
        cmd += ["--video-range"] if lay["colorRange"] == "video" else []
        if lay["region"]:
            r = lay["region"]
            cmd += ["--region", f"{r['x']},{r['y']},{r['width']},{r['height']}"]
        if case["task"] == "detect":
            cmd += ["--score-threshold", str(case["options"]["scoreThreshold"])]
        else:
            cmd += ["-k", "1"]
        out = run(cmd)
        if out.returncode != 0:
            failures.append(f"frame {case['name']}: ledge failed: {out.stderr.strip()}")
            continue
        got = json.loads(out.stdout)
        if case["task"] == "detect":
            problems = detection_problems(case, got["detections"])
        else:
            top = got["predictions"][0]
            index, score = case["expected"][0]
            problems = [] if top["index"] == index and abs(top["score"] - score) <= case["score_tolerance"] \
                else [f"top-1 {top['index']} ({top['score']:.4f}), expected {index} ({score:.4f})"]
        if problems:
            failures.append(f"frame {case['name']}: " + "; ".join(problems))
        else:
            passed += 1
    if not cases:
        failures.append("frames.json has no cases")
    return passed, failures


def bad_inputs(tmp: Path) -> list[tuple[str, list[str]]]:
    """(name, ledge arguments) of the bad-input catalogue."""
    model = (DEMO / "ppocr-cls/model.onnx").read_bytes()
    (tmp / "empty.onnx").write_bytes(b"")
    (tmp / "truncated.onnx").write_bytes(model[: len(model) // 2])
    (tmp / "random.onnx").write_bytes(bytes((i * 7919 + 13) % 251 for i in range(4096)))
    (tmp / "not-an-image.png").write_bytes(b"GIF89a nope")
    (tmp / "zero.npy").write_bytes(b"")
    ppocr = str(DEMO / "ppocr-cls/model.onnx")
    return [
        ("empty model", ["inspect", str(tmp / "empty.onnx")]),
        ("truncated model", ["inspect", str(tmp / "truncated.onnx")]),
        ("random bytes", ["inspect", str(tmp / "random.onnx")]),
        ("unsupported operator", ["inspect", str(DEMO / "fixtures/ppocr-cls-qoperator.onnx")]),
        ("4 TiB plan", ["inspect", str(DEMO / "fixtures/plan-4tib.onnx")]),
        ("wrong input shape", ["run", ppocr, "--input", str(DEMO / "vectors/tensors/efficientnet-lite0_chelsea.npy")]),
        ("undecodable image", ["classify", ppocr, str(tmp / "not-an-image.png")]),
        ("bad npy", ["classify", ppocr, str(tmp / "zero.npy")]),
        ("missing file", ["classify", str(tmp / "missing.onnx"), str(tmp / "x.png")]),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", help="command of the reference ledge binary for the bad inputs")
    ap.add_argument("--model", action="append", default=[],
                    help="only the cases of this model (demo-models/ relative path; repeatable)")
    ap.add_argument("--no-tasks", action="store_true", help="skip the detection, embedding and frame vectors")
    ap.add_argument("ledge", nargs=argparse.REMAINDER, help="command prefix that runs ledge")
    args = ap.parse_args()
    ledge = [a for a in args.ledge if a != "--"]
    if not ledge:
        ap.error("give the ledge command after --")

    passed, failures, worst = check_vectors(ledge, args.model)
    print(f"vectors: {passed} passed, {len(failures)} failed (max tensor-level |Δscore| {worst:.5f})")
    if not args.no_tasks:
        task_passed, task_failures = check_tasks(ledge)
        print(f"detection and embedding vectors: {task_passed} passed, {len(task_failures)} failed")
        passed += task_passed
        failures += task_failures
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_tasks:
            frame_passed, frame_failures = check_frames(ledge, Path(tmp))
            print(f"frame vectors: {frame_passed} passed, {len(frame_failures)} failed")
            passed += frame_passed
            failures += frame_failures
        for name, cmd in bad_inputs(Path(tmp)):
            got = run(ledge + cmd)
            line = got.stderr.strip()
            ok = got.returncode == 1 and line.startswith("error: ") and "\n" not in line
            if ok and args.reference:
                want = run(shlex.split(args.reference) + cmd)
                ok = (want.returncode, want.stderr.strip()) == (got.returncode, line)
                if not ok:
                    line += f"  (reference: {want.returncode} {want.stderr.strip()})"
            print(f"bad input {name}: {'ok' if ok else 'FAILED'}: {line}")
            if ok:
                passed += 1
            else:
                failures.append(f"bad input {name}: exit {got.returncode}: {line}")
    for f in failures:
        print(f"FAILED {f}", file=sys.stderr)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
