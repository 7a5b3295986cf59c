#!/usr/bin/env bash
# Builds ios/LedgeFFI.xcframework (macOS with Xcode only): static libraries of the ledge-uniffi
# crate for iOS devices (aarch64-apple-ios) and the simulator (aarch64-apple-ios-sim and
# x86_64-apple-ios, joined with lipo), each with the generated C header and module map from
# ios/Headers. The Swift package in ios/ uses it as its binary target.
#
#   scripts/build-xcframework.sh            device + simulator slices
#   scripts/build-xcframework.sh --macos    also a macOS slice (arm64 + x86_64), for `swift test`
#
# Environment:
#   CARGO_TARGET_DIR            cargo's build folder (default ./target)
#   LEDGE_PROFILE               cargo profile (default dist: LTO, one codegen unit)
#   IPHONEOS_DEPLOYMENT_TARGET  minimum iOS (default 15.0, as ios/Package.swift)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target_dir="${CARGO_TARGET_DIR:-${repo}/target}"
profile="${LEDGE_PROFILE:-dist}"
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
export MACOSX_DEPLOYMENT_TARGET="${MACOSX_DEPLOYMENT_TARGET:-12.0}"

macos=false
case "${1:-}" in
  --macos) macos=true ;;
  "") ;;
  *) echo "usage: $0 [--macos]" >&2; exit 2 ;;
esac

if [[ "$(uname -s)" != "Darwin" ]] || ! command -v xcodebuild >/dev/null; then
  echo "error: building the XCFramework needs macOS with Xcode (xcodebuild, lipo)" >&2
  exit 1
fi

# The committed header and module map must match the library being packaged.
"${repo}/scripts/gen-bindings.sh" --check

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
if ${macos}; then
  targets+=(aarch64-apple-darwin x86_64-apple-darwin)
fi
rustup target add "${targets[@]}"

for target in "${targets[@]}"; do
  echo "== ${target}" >&2
  # The crate's crate-type is cdylib + lib; the static library is asked for explicitly.
  cargo rustc --locked -p ledge-uniffi --lib --profile "${profile}" --target "${target}" \
    --crate-type staticlib
done

lib() { echo "${target_dir}/$1/${profile}/libledge_uniffi.a"; }

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/headers" "${work}/ios-simulator" "${work}/macos"
cp ios/Headers/LedgeFFI.h "${work}/headers/LedgeFFI.h"
cp ios/Headers/LedgeCoreFFI.h "${work}/headers/LedgeCoreFFI.h"
cp ios/Headers/module.modulemap "${work}/headers/module.modulemap"

lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" \
  -output "${work}/ios-simulator/libledge_uniffi.a"

args=(
  -library "$(lib aarch64-apple-ios)" -headers "${work}/headers"
  -library "${work}/ios-simulator/libledge_uniffi.a" -headers "${work}/headers"
)
if ${macos}; then
  lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" \
    -output "${work}/macos/libledge_uniffi.a"
  args+=(-library "${work}/macos/libledge_uniffi.a" -headers "${work}/headers")
fi

rm -rf ios/LedgeFFI.xcframework
xcodebuild -create-xcframework "${args[@]}" -output ios/LedgeFFI.xcframework
for a in "$(lib aarch64-apple-ios)" "${work}/ios-simulator/libledge_uniffi.a"; do
  printf '%12d bytes  %s\n' "$(wc -c <"${a}")" "${a}" >&2
done
echo "wrote ios/LedgeFFI.xcframework" >&2
