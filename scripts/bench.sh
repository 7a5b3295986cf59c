#!/usr/bin/env bash
# Benchmarks Ledge against onnxruntime (see scripts/bench.py); writes docs/benchmarks.md.
# Builds the dist CLI first. Arguments go to bench.py (e.g. --rounds 7 --fp32-dir DIR, DIR holding
# the fp32 sources named in demo-models/README.md).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target="${CARGO_TARGET_DIR:-${repo}/target}"
cargo build --profile dist --locked -p ledge-cli
mkdir -p dist/host
cp "${target}/dist/ledge" dist/host/ledge
# shellcheck source=scripts/python-env.sh
source scripts/python-env.sh
"${LEDGE_PYTHON}" scripts/bench.py "$@"
