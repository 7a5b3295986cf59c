#!/usr/bin/env bash
# Tests the Raspberry Pi builds under qemu-user: every shared vector through the cross-built CLI,
# and the bad-input catalogue with the same exit codes and messages as the x86_64 build. Checks
# each Pi wheel (RECORD, tag, every native function the Python module calls exported by the ARM
# library), and that a wheel put together by scripts/pi_wheel.py installs and classifies (the
# same assembly around the host library: no ARM Python here).
# Needs scripts/build-pi.sh and the host artifacts (dist/host/, from scripts/size-budget.sh).
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

echo "== Python wheels"
python3 scripts/check_wheel.py "dist/ledge-${version}-aarch64-unknown-linux-gnu/python/"*.whl \
  --platform linux_aarch64 || status=1
python3 scripts/check_wheel.py "dist/ledge-${version}-armv7-unknown-linux-gnueabihf/python/"*.whl \
  --platform linux_armv7l || status=1
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
python3 scripts/pi_wheel.py --lib dist/host/libledge_uniffi.so \
  --generated "${CARGO_TARGET_DIR:-${repo}/target}/uniffi-gen/python" --version "${version}" \
  --platform linux_x86_64 --out "${tmp}/wheel" >/dev/null
python3 scripts/check_wheel.py "${tmp}/wheel/"*.whl --platform linux_x86_64 || status=1
python3 -m venv "${tmp}/venv"
"${tmp}/venv/bin/pip" install --quiet --no-index --disable-pip-version-check "${tmp}/wheel/"*.whl
top="$(cd "${tmp}" && "${tmp}/venv/bin/python" -c '
import sys, ledge
model = ledge.Model.from_path(sys.argv[1])
print(model.classify(sys.argv[2], top_k=1)[0].label)' \
  "${repo}/demo-models/efficientnet-lite0/model.onnx" "${repo}/demo-models/images/chelsea.png")"
if [[ "${top}" == "tiger cat" ]]; then
  echo "pi_wheel: the assembled wheel installs and classifies chelsea.png as '${top}'"
else
  echo "pi_wheel: the assembled wheel classified chelsea.png as '${top}', expected 'tiger cat'" >&2
  status=1
fi
exit "${status}"
