#!/usr/bin/env bash
# Tests the Raspberry Pi builds under qemu-user: every shared vector through the cross-built CLI,
# and the bad-input catalogue with the same exit codes and messages as the x86_64 build, on a
# Cortex-A72 (Pi 4: the NEON int8 kernels) and, for the demo models' vectors, a Cortex-A76 (Pi 5:
# the dot-product kernels), and the armv7 build on a Cortex-A7 (the armv7 NEON int8 kernels). Prints
# the int8 truth per CPU (the instruction set chosen and the share of EfficientNet-Lite0's MACs in
# integer kernels; at least 95 % required on every CPU). Checks
# each Pi wheel (RECORD, tag, every native function the Python module calls exported by the ARM
# library), and that a wheel put together by scripts/pi_wheel.py installs and classifies (the
# same assembly around the host library: no ARM Python here).
# Needs scripts/build-pi.sh and the host artifacts (dist/host/, from scripts/size-budget.sh).
#
# Usage: scripts/test-pi.sh [--dist DIR]   the folder holding ledge-<version>-<target>/: dist (the
#   release builds, the default) or dist/test (`scripts/build-pi.sh --test`, what the test command runs)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
pi_dist=dist
if [[ "${1:-}" == --dist ]]; then
  pi_dist="${2:?--dist needs a folder}"
fi
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"

# tract's CPU feature detection reads /proc/cpuinfo, which is the x86 host's under qemu: force NEON
# on armv7, and silence tract's warning that the arm64 feature lines are missing (it would precede
# the error line the bad-input checks compare).
export TRACT_CPU_ARM32_NEON=true RUST_LOG=error
status=0
# With LEDGE_PI_UNIT_TESTS=1, first the int8 kernel unit tests (every supported instruction set
# against the integer definition, the extremes, the requantization edges) built for armv7 with
# NEON (here for every crate; scripts/build-pi.sh gives it to `ledge` only) and run on a
# Cortex-A7: a separate test build of the whole crate graph (~35 min on 2 busy cores, minutes
# once cached), so not by default.
if [[ "${LEDGE_PI_UNIT_TESTS:-0}" == 1 ]]; then
  echo "== armv7-unknown-linux-gnueabihf kernel unit tests (qemu, cortex-a7)"
  env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc \
    CC_armv7_unknown_linux_gnueabihf=arm-linux-gnueabihf-gcc \
    CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-feature=+neon" \
    CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER="qemu-arm-static -cpu cortex-a7 -L /usr/arm-linux-gnueabihf" \
    CARGO_PROFILE_RELEASE_PANIC=unwind \
    /usr/bin/cargo test --locked --release -p ledge --lib --target armv7-unknown-linux-gnueabihf \
    -Zbuild-std --target-dir "${CARGO_TARGET_DIR:-${repo}/target}/pi-test/armv7" kernels::int8 || status=1
fi
# The three CPUs run side by side (qemu-user runs one thread each), each into its own log,
# printed in order when all are done.
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
cpus=()
vectors() { # vectors NAME CHECK_VECTORS_ARGS... -- COMMAND...: one CPU's run, in the background
  local name="$1"
  shift
  cpus+=("${name}")
  (python3 scripts/check_vectors.py --reference dist/host/ledge "$@" >"${tmp}/${name}.log" 2>&1 \
    || touch "${tmp}/${name}.failed") &
}
# Pi 4's core; qemu's default "max" CPU would make tract pick SVE kernels no Pi has. "-L /" (not
# /usr/aarch64-linux-gnu): with libc6:arm64 installed, mixing two glibc builds hangs pthread_create.
aarch64="${pi_dist}/ledge-${version}-aarch64-unknown-linux-gnu/bin/ledge"
armv7="${pi_dist}/ledge-${version}-armv7-unknown-linux-gnueabihf/bin/ledge"
vectors "aarch64-unknown-linux-gnu (qemu, cortex-a72)" -- \
  qemu-aarch64-static -cpu cortex-a72 -L / "${aarch64}"
vectors "aarch64-unknown-linux-gnu (qemu, cortex-a76: the dot-product kernels, Pi 5)" \
  --model efficientnet-lite0/model.onnx --model ppocr-cls/model.onnx --no-tasks -- \
  qemu-aarch64-static -cpu cortex-a76 -L / "${aarch64}"
vectors "armv7-unknown-linux-gnueabihf (qemu, cortex-a7)" -- \
  qemu-arm-static -cpu cortex-a7 -L /usr/arm-linux-gnueabihf "${armv7}"
wait
for name in "${cpus[@]}"; do
  echo "== ${name}"
  cat "${tmp}/${name}.log"
  [[ ! -e "${tmp}/${name}.failed" ]] || status=1
done

# The int8 truth per CPU: the instruction set chosen and the share of EfficientNet-Lite0's MACs
# that ran in integer kernels (issue 15 asks for at least 95 % on every ARM target).
int8_truth() { # int8_truth NAME MIN_SHARE COMMAND...
  local name="$1" min="$2" json
  shift 2
  json="$("$@" inspect demo-models/efficientnet-lite0/model.onnx --json --profile 1)"
  python3 - "${name}" "${min}" "${json}" <<'PY' || status=1
import json, sys
name, minimum, info = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
share = info["integer_mac_fraction"]
print(f"int8 truth {name}: isa {info['int8_isa']}, {share:.1%} of MACs in integer kernels")
sys.exit(0 if share >= minimum else 1)
PY
}
int8_truth "aarch64 cortex-a72" 0.95 qemu-aarch64-static -cpu cortex-a72 -L / "${aarch64}"
int8_truth "aarch64 cortex-a76" 0.95 qemu-aarch64-static -cpu cortex-a76 -L / "${aarch64}"
int8_truth "armv7 cortex-a7" 0.95 qemu-arm-static -cpu cortex-a7 -L /usr/arm-linux-gnueabihf "${armv7}"
int8_truth "x86_64 (this host)" 0.95 dist/host/ledge

echo "== Python wheels"
python3 scripts/check_wheel.py "${pi_dist}/ledge-${version}-aarch64-unknown-linux-gnu/python/"*.whl \
  --platform linux_aarch64 || status=1
python3 scripts/check_wheel.py "${pi_dist}/ledge-${version}-armv7-unknown-linux-gnueabihf/python/"*.whl \
  --platform linux_armv7l || status=1
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
