#!/usr/bin/env bash
# Builds the shipped host artifacts with the `dist` profile (the CLI and the uniffi library) and
# checks every artifact of budget.toml but the Raspberry Pi archives, which scripts/build-pi.sh
# checks where it builds them (the test command builds them without LTO: scripts/build-pi.sh --test).
# Extra arguments go to `ledge budget check` (e.g. --markdown, --json); `--build-only` (alone)
# builds and stages dist/host/ without checking (the test command checks once web/dist is built).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target="${CARGO_TARGET_DIR:-${repo}/target}"

# One cargo call: one feature resolution, so tract is compiled once for both (two calls resolved
# features per package and compiled it twice); the two LTO links run side by side.
cargo build --profile dist --locked -p ledge-cli -p ledge-uniffi --bin ledge --lib
mkdir -p "${repo}/dist/host"
cp "${target}/dist/ledge" "${target}/dist/libledge_uniffi.so" "${repo}/dist/host/"
[[ "${1:-}" != --build-only ]] || exit 0
"${repo}/dist/host/ledge" budget check budget.toml --skip 'dist/ledge-*' "$@"
