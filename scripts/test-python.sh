#!/usr/bin/env bash
# Tests the Python package `ledge` (bindings/uniffi/python) as a user gets it: a wheel (the
# ledge-uniffi cdylib, here with the `testing` feature for the bridge tests, and the modules the
# crate's pinned uniffi-bindgen generates from it), a fresh virtual environment with the wheel,
# pytest and NumPy from PyPI, and pytest over the suite beside the binding: every shared vector,
# the bad-input catalogue, the bridge tests, the options, 8 threads on one model, the README
# quick start. Idempotent: the venv is recreated on every run. Extra arguments go to pytest.
#
# The wheel is assembled by scripts/pi_wheel.py from the library of the test command's one host
# build (`cargo build --release --workspace --all-features`), so no step compiles tract again
# for Python. `--maturin` builds it with maturin instead (the publishing path, pyproject.toml):
# maturin's cargo call resolves features for ledge-uniffi alone, a second full compile of tract.
#
# Usage: scripts/test-python.sh [--maturin] [PYTEST ARGS...]
# Environment:
#   CARGO_TARGET_DIR  cargo's build folder (default ./target); the venv and wheel go under it
#   PYTHON            base interpreter (default python3, ≥ 3.9)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target_dir="${CARGO_TARGET_DIR:-${repo}/target}"
mkdir -p "${target_dir}"
target_dir="$(cd "${target_dir}" && pwd)"
export CARGO_TARGET_DIR="${target_dir}"
python="${PYTHON:-python3}"
maturin=false
if [[ "${1:-}" == --maturin ]]; then
  maturin=true
  shift
fi
venv="${target_dir}/py-venv"
wheels="${target_dir}/py-wheels"
# maturin runs the pinned uniffi-bindgen with `cargo run` (dev profile); no debug info keeps
# that build small and quick. The library itself is built with --release.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-0}"

step() { printf '\n== %s\n' "$*" >&2; }

step "fresh virtual environment (${venv})"
rm -rf "${venv}"
if ! "${python}" -m venv "${venv}" >&2; then
  # Debian/Ubuntu ship venv's ensurepip separately.
  rm -rf "${venv}"
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  echo "test-python: apt-get install python3-venv" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends python3-venv
  "${python}" -m venv "${venv}" >&2
fi
py="${venv}/bin/python"
"${py}" -m pip install --disable-pip-version-check --quiet --upgrade pip >&2
"${py}" -m pip install --disable-pip-version-check --quiet pytest numpy >&2

rm -rf "${wheels}"
if ${maturin}; then
  step "wheel (maturin, release, feature testing)"
  "${py}" -m pip install --disable-pip-version-check --quiet "maturin>=1.9,<2" >&2
  # maturin reads bindings/uniffi/python/pyproject.toml (manifest-path = ../Cargo.toml).
  (cd bindings/uniffi/python &&
    "${venv}/bin/maturin" build --release --locked --features testing --out "${wheels}" >&2)
else
  step "wheel (the host build's library with feature testing, its generated modules, pi_wheel.py)"
  cargo build --release --locked --workspace --all-features --lib --bins
  generated="$(mktemp -d)"
  trap 'rm -rf "${generated}"' EXIT
  "${target_dir}/release/uniffi-bindgen" generate --library "${target_dir}/release/libledge_uniffi.so" \
    --language python --no-format --out-dir "${generated}" >&2
  version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
  "${py}" scripts/pi_wheel.py --lib "${target_dir}/release/libledge_uniffi.so" --generated "${generated}" \
    --version "${version}" --platform linux_x86_64 --out "${wheels}" >&2
fi
shopt -s nullglob
built=("${wheels}"/ledge-*.whl)
if ((${#built[@]} != 1)); then
  echo "error: expected one wheel in ${wheels}, found ${#built[@]}" >&2
  exit 1
fi
"${py}" -m pip install --disable-pip-version-check --quiet "${built[0]}" >&2
ls -l "${built[0]}" >&2

step "pytest (bindings/uniffi/python/tests)"
# From outside the source tree, so `import ledge` is the installed wheel.
cd "${target_dir}"
LEDGE_TESTING_REQUIRED=1 "${venv}/bin/pytest" -p no:cacheprovider -q \
  "${repo}/bindings/uniffi/python/tests" "$@"
