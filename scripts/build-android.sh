#!/usr/bin/env bash
# Builds libledge_jni.so for the Android ABIs and copies them where the Gradle build packs them into
# the AAR: android/src/main/jniLibs/{arm64-v8a,armeabi-v7a,x86_64}/libledge_jni.so.
#
# Needs (not available on the project's CI machines, see android/README.md):
#   - the Android NDK (r26 or newer), found through ANDROID_NDK_HOME (or ANDROID_NDK_ROOT /
#     ANDROID_HOME/ndk/<version>)
#   - rustup targets: aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
#   - cargo-ndk: `cargo install cargo-ndk --version ^4` (installed here when missing)
#
# Usage: scripts/build-android.sh [ABI...]   (default: all three ABIs)
#
# Environment:
#   ANDROID_NDK_HOME   the NDK
#   ANDROID_API        minimum API level the libraries are linked for (default 24, as minSdk in android/)
#   PROFILE            cargo profile (default dist: LTO, one codegen unit, stripped)
#   CARGO_TARGET_DIR   cargo's build folder
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"

abis=("$@")
[[ ${#abis[@]} -gt 0 ]] || abis=(arm64-v8a armeabi-v7a x86_64)
api="${ANDROID_API:-24}"
profile="${PROFILE:-dist}"
out="${repo}/android/src/main/jniLibs"

if [[ -z "${ANDROID_NDK_HOME:-}" ]]; then
  if [[ -n "${ANDROID_NDK_ROOT:-}" ]]; then
    export ANDROID_NDK_HOME="${ANDROID_NDK_ROOT}"
  elif [[ -n "${ANDROID_HOME:-}" && -d "${ANDROID_HOME}/ndk" ]]; then
    newest="$(find "${ANDROID_HOME}/ndk" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -1)"
    [[ -n "${newest}" ]] && export ANDROID_NDK_HOME="${newest}"
  fi
fi
if [[ -z "${ANDROID_NDK_HOME:-}" || ! -d "${ANDROID_NDK_HOME}" ]]; then
  echo "error: no Android NDK: set ANDROID_NDK_HOME (Android Studio: SDK Manager → SDK Tools → NDK)" >&2
  exit 1
fi

declare -A rust_target=(
  [arm64-v8a]=aarch64-linux-android
  [armeabi-v7a]=armv7-linux-androideabi
  [x86_64]=x86_64-linux-android
  [x86]=i686-linux-android
)
targets=()
for abi in "${abis[@]}"; do
  [[ -n "${rust_target[${abi}]:-}" ]] || { echo "error: unknown ABI ${abi}" >&2; exit 2; }
  targets+=("${rust_target[${abi}]}")
done
if command -v rustup >/dev/null; then
  rustup target add "${targets[@]}"
fi
if ! cargo ndk --version >/dev/null 2>&1; then
  cargo install --locked cargo-ndk --version '^4'
fi

target_dir="${CARGO_TARGET_DIR:-${repo}/target}"
ndk_args=()
for abi in "${abis[@]}"; do ndk_args+=(-t "${abi}"); done
# cargo-ndk sets the NDK clang as linker, C compiler and ar per target (tract-linalg assembles its
# kernels with it); the copy into jniLibs is done here so that any cargo profile works.
cargo ndk "${ndk_args[@]}" --platform "${api}" build --locked --profile "${profile}" -p ledge-jni

for abi in "${abis[@]}"; do
  built="${target_dir}/${rust_target[${abi}]}/${profile}/libledge_jni.so"
  mkdir -p "${out}/${abi}"
  cp "${built}" "${out}/${abi}/libledge_jni.so"
  ls -l "${out}/${abi}/libledge_jni.so"
done
echo "next: cd android && gradle assembleRelease   # → build/outputs/aar/ledge-release.aar" >&2
