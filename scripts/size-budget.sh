#!/usr/bin/env bash
# Builds the shipped CLI with the `dist` profile and checks every artifact of budget.toml.
# Extra arguments go to `ledge budget check` (e.g. --markdown, --json).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target="${CARGO_TARGET_DIR:-${repo}/target}"

cargo build --profile dist --locked -p ledge-cli
mkdir -p "${repo}/dist/host"
cp "${target}/dist/ledge" "${repo}/dist/host/ledge"
"${repo}/dist/host/ledge" budget check budget.toml "$@"
