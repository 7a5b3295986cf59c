#!/usr/bin/env bash
# Runs the `ledge` CLI over shared vectors and the bad-input catalogue under valgrind's memcheck:
# zero errors and no definite leaks, or it fails (valgrind's exit code 99 and its report make
# scripts/check_vectors.py count the case as failed). The release build keeps symbol names, so a
# report points at the code.
#
# By default the PP-OCR vectors (both demo graphs' code paths: image decode, every preprocessing
# step, the int8 and depthwise kernels, the Softmax repair fixture) and every bad input; `--all`
# adds the EfficientNet vectors, which exercise the same code on larger tensors at ~5x the time
# (README, "Testing").
#
# Usage: scripts/memcheck.sh [--all]
# Environment: CARGO_TARGET_DIR (cargo's build folder, default ./target).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
if ! command -v valgrind >/dev/null 2>&1; then
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  echo "memcheck: apt-get install valgrind" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends valgrind
fi
# As scripts/gen-bindings.sh builds it (every crate, default features): nothing to compile here.
cargo build --release --locked --workspace --lib --bins
ledge="${CARGO_TARGET_DIR:-${repo}/target}/release/ledge"
valgrind --version >&2
started="${SECONDS}"
# By default the PP-OCR vectors and the bad inputs (the detection and embedding vectors would put the
# SSD under valgrind: +70 s for code the Rust tests cover); --all runs every vector of every task.
models=(--model ppocr-cls/model.onnx --model fixtures/ppocr-cls-softmax-qdq.onnx --no-tasks)
[[ "${1:-}" != --all ]] || models=()
python3 scripts/check_vectors.py "${models[@]}" -- valgrind --quiet --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite --show-leak-kinds=definite "${ledge}"
echo "memcheck: clean in $((SECONDS - started)) s" >&2
