#!/usr/bin/env bash
# Tests the Raspberry Pi builds under qemu-user: every shared vector through the cross-built CLI,
# and the bad-input catalogue with the same exit codes and messages as the x86_64 build.
# Needs scripts/build-pi.sh and the host CLI (dist/host/ledge, from scripts/size-budget.sh).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"

# tract's CPU feature detection reads /proc/cpuinfo, which is the x86 host's under qemu: force NEON
# on armv7, and silence tract's warning that the arm64 feature lines are missing (it would precede
# the error line the bad-input checks compare).
export TRACT_CPU_ARM32_NEON=true RUST_LOG=error
status=0
# Pi 4's core; qemu's default "max" CPU would make tract pick SVE kernels no Pi has. "-L /" (not
# /usr/aarch64-linux-gnu): with libc6:arm64 installed, mixing two glibc builds hangs pthread_create.
echo "== aarch64-unknown-linux-gnu (qemu, cortex-a72)"
python3 scripts/check_vectors.py --reference dist/host/ledge -- \
  qemu-aarch64-static -cpu cortex-a72 -L / "dist/ledge-${version}-aarch64-unknown-linux-gnu/bin/ledge" || status=1
echo "== armv7-unknown-linux-gnueabihf (qemu, cortex-a7)"
python3 scripts/check_vectors.py --reference dist/host/ledge -- \
  qemu-arm-static -cpu cortex-a7 -L /usr/arm-linux-gnueabihf \
  "dist/ledge-${version}-armv7-unknown-linux-gnueabihf/bin/ledge" || status=1
exit "${status}"
