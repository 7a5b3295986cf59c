#!/usr/bin/env python3
"""Runs every shared vector and the bad-input catalogue through a `ledge` CLI binary.

Used for builds that cannot run `cargo test` natively (Raspberry Pi binaries under qemu-user).
The binary is given as a command prefix, e.g.
    scripts/check_vectors.py -- qemu-aarch64-static -cpu cortex-a72 -L / dist/aarch64/ledge
The vector rule is the one every language applies (core/tests/vectors.rs): the top-1 index
matches, and each expected class's score is within the case's tolerance. With `--reference CMD`,
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
    ap.add_argument("ledge", nargs=argparse.REMAINDER, help="command prefix that runs ledge")
    args = ap.parse_args()
    ledge = [a for a in args.ledge if a != "--"]
    if not ledge:
        ap.error("give the ledge command after --")

    passed, failures, worst = check_vectors(ledge, args.model)
    print(f"vectors: {passed} passed, {len(failures)} failed (max tensor-level |Δscore| {worst:.5f})")
    with tempfile.TemporaryDirectory() as tmp:
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
