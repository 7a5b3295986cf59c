#!/usr/bin/env bash
# Cross-builds Ledge (the `ledge` CLI and the native library behind the Python package) for
# Raspberry Pi and packages one release archive per target:
#   aarch64-unknown-linux-gnu       Pi 3/4/5, 64-bit Raspberry Pi OS
#   armv7-unknown-linux-gnueabihf   32-bit Raspberry Pi OS (Pi 2 and later)
# with Debian's Rust toolchain and cross linkers (scripts/install-cross.sh; `rustup target add`
# is not needed). Release builds use the `dist` profile (LTO, one codegen unit, stripped) and end
# with `ledge budget check` over their own budget.toml lines.
#
# Usage: scripts/build-pi.sh [--test] [--compile-only] [TARGET...]     (default: both targets)
#   --test          what the test command runs under qemu (scripts/test-pi.sh --dist dist/test):
#                   the same code with the `release` profile, no LTO. The four fat-LTO links (CLI
#                   and library per target) are single-threaded and took 7-8 min each; a warm test
#                   build takes ~2 min per target. Staged under dist/test/, without archives or a
#                   size check.
#   --compile-only  compile, stage nothing: the test command compiles in the background from its
#                   first minute and stages later with a second, warm call, after the host's
#                   Python module is generated (two gen-bindings.sh runs at once would write the
#                   same files).
# Output: dist/ledge-<version>-<target>/ and dist/ledge-<version>-<target>.tar.gz, holding
#   bin/ledge, lib/libledge_uniffi.so, python/ledge-<version>-py3-none-<platform>.whl (that library
#   with the Python module that scripts/gen-bindings.sh generates), the demo models and images,
#   README.md, LICENSE and SHA256SUMS.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
profile=dist
dist="${repo}/dist"
stage=true
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --test)
      profile=release
      dist="${repo}/dist/test"
      ;;
    --compile-only) stage=false ;;
    *)
      echo "usage: $0 [--test] [--compile-only] [TARGET...]" >&2
      exit 2
      ;;
  esac
  shift
done
"${repo}/scripts/install-cross.sh"

targets=("$@")
((${#targets[@]})) || targets=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
# One target dir for both targets (Debian's compiler; rustup's, which builds the host crates,
# must not share build scripts with it): their host build scripts and proc-macros (syn, serde,
# uniffi's macros, tract-linalg's kernel templates: ~6 min of one core) are compiled once.
target_root="${CARGO_TARGET_DIR:-${repo}/target}/pi"

# Debian's compiler has the arm64 std and the std sources; rustup's stays first on PATH.
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CC_armv7_unknown_linux_gnueabihf=arm-linux-gnueabihf-gcc
# NEON for armv7 (the target's default is VFPv3 only): every Pi that runs armv7 (Pi 2 and later)
# has it, and it enables Ledge's armv7 NEON int8 matrix product (core/src/kernels/int8/arm32.rs).
# A compile-time choice rather than run-time detection: ARM's `#[target_feature]` and feature
# detection are unstable, and with NEON fixed at build time the kernel needs only the intrinsics
# (nightly; `cfg(target_feature = "neon")` is never set by a stable compiler, so stable armv7
# builds keep the portable product). For the `ledge` crate only (cargo's per-package rustflags,
# -Zprofile-rustflags): NEON for every crate let LLVM vectorize all of tract and std and cost
# +0.95 MB (+0.37 MB gzip) on the armv7 CLI (18.37 MB against 17.42 MB, 2026-12-01). LLVM does
# not vectorize floats with ARMv7 NEON (it flushes subnormals), so float results are unchanged.
armv7_neon=(-Zprofile-rustflags --config "profile.${profile}.package.ledge.rustflags=[\"-C\", \"target-feature=+neon\"]")

# The Python wheel's platform tag per target.
declare -A platforms=([aarch64-unknown-linux-gnu]=linux_aarch64 [armv7-unknown-linux-gnueabihf]=linux_armv7l)
for target in "${targets[@]}"; do
  [[ -n "${platforms[${target}]:-}" ]] || { echo "build-pi: unknown target ${target}" >&2; exit 2; }
  build_std=()
  # No packaged armhf std.
  [[ "${target}" != armv7-* ]] || build_std=("-Zbuild-std=std,panic_abort" "${armv7_neon[@]}")
  echo "build-pi: ${target}" >&2
  # One cargo call per target: the two LTO links (CLI and library) run side by side.
  /usr/bin/cargo build --locked --profile "${profile}" -p ledge-cli -p ledge-uniffi --bin ledge --lib \
    --target "${target}" --target-dir "${target_root}" "${build_std[@]}"
done
[[ "${stage}" == true ]] || exit 0

# The Python module for the wheels, generated from the host library (same API on every target),
# built by rustup's compiler as in every other host step: with the RUSTC exported above, it would
# compile the whole host build again with Debian's.
env -u RUSTC -u RUSTDOC -u RUSTC_BOOTSTRAP "${repo}/scripts/gen-bindings.sh" --check
generated="${CARGO_TARGET_DIR:-${repo}/target}/uniffi-gen/python"

for target in "${targets[@]}"; do
  platform="${platforms[${target}]}"
  out="${target_root}/${target}/${profile}"

  name="ledge-${version}-${target}"
  stage="${dist}/${name}"
  rm -rf "${stage}" "${stage}.tar.gz"
  mkdir -p "${stage}/bin" "${stage}/lib" "${stage}/python" "${stage}/models" "${stage}/images"
  cp "${out}/ledge" "${stage}/bin/ledge"
  cp "${out}/libledge_uniffi.so" "${stage}/lib/"
  python3 scripts/pi_wheel.py --lib "${out}/libledge_uniffi.so" --generated "${generated}" \
    --version "${version}" --platform "${platform}" --out "${stage}/python" >/dev/null
  for model in efficientnet-lite0 ppocr-cls; do
    mkdir -p "${stage}/models/${model}"
    cp "demo-models/${model}/model.onnx" "demo-models/${model}/manifest.toml" \
      "demo-models/${model}/labels.txt" "${stage}/models/${model}/"
  done
  cp demo-models/images/chelsea.png demo-models/images/coffee.png demo-models/images/line0_180.png \
    "${stage}/images/"
  cp LICENSE "${stage}/"
  sed -e "s/@VERSION@/${version}/g" -e "s/@TARGET@/${target}/g" scripts/pi-README.md >"${stage}/README.md"
  sums="$(cd "${stage}" && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs sha256sum)"
  printf '%s\n' "${sums}" >"${stage}/SHA256SUMS"
  if [[ "${profile}" == release ]]; then
    echo "build-pi: ${stage#"${repo}/"}/ (test build: release profile, no archive)" >&2
    continue
  fi
  tar -C "${dist}" --owner=0 --group=0 --sort=name -czf "${stage}.tar.gz" "${name}"
  echo "build-pi: dist/${name}.tar.gz ($(stat -c %s "${stage}.tar.gz") bytes)" >&2
  # This target's lines of budget.toml, with the host CLI that gen-bindings.sh built.
  "${CARGO_TARGET_DIR:-${repo}/target}/release/ledge" budget check budget.toml --only "dist/ledge-*-${target}*"
done
