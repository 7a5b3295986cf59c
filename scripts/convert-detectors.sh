#!/usr/bin/env bash
# Reproduce the fp32 detector sources from the registry packages they come from:
#   1. `npm pack` @mediapipe/objectron@0.4.1675468480 and @mediapipe/face_detection@0.4.1657300184
#      (Apache-2.0) into target/detector-sources/ (npm checks the tarballs' registry integrity hashes)
#   2. scripts/task_models.py convert: cut the fp16 SSD-MobileNetV2 TFLite model (bytes 184..9987912) and
#      its label map (bytes 0..184) out of objectron_solution_packed_assets.data (the ranges are checked
#      against the package's loader and the sha256 values against the ones pinned in task_models.py),
#      take face_detection_short_range.tflite as is, and convert both with tflite2onnx 0.4.1 (PyPI,
#      scripts/requirements.txt; no TensorFlow); initializers and value_info are sorted by name, since
#      tflite2onnx writes them in an order that changes from run to run
#   3. compare with ${LEDGE_SHARED_MODELS}/detection/ when that variable is set
#
# Usage: scripts/convert-detectors.sh [OUT]     OUT defaults to target/detectors
# Environment:
#   LEDGE_SHARED_MODELS  a folder of fp32 sources to compare with (optional; nothing outside the
#                        repository is read otherwise)
#   LEDGE_VENV           Python venv (default: ~/.cache/ledge/venv, see scripts/python-env.sh)
#
# The rest of the pipeline (scripts/make-demo-models.sh) reads the fp32 files from LEDGE_SHARED_MODELS,
# like the classifiers; this script is how they were made, and checks that they still can be.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-${repo}/target/detectors}"
work="${repo}/target/detector-sources"
objectron="@mediapipe/objectron@0.4.1675468480"
face="@mediapipe/face_detection@0.4.1657300184"

case "${1:-}" in
  -h | --help)
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac

# shellcheck source=scripts/python-env.sh
source "${repo}/scripts/python-env.sh"

start=${SECONDS}
mkdir -p "${work}"
objectron_tgz="${work}/mediapipe-objectron-0.4.1675468480.tgz"
face_tgz="${work}/mediapipe-face_detection-0.4.1657300184.tgz"
for pkg in "${objectron}" "${face}"; do
  echo "convert-detectors: npm pack ${pkg}" >&2
  (cd "${work}" && npm pack --silent "${pkg}" >/dev/null)
done
for tgz in "${objectron_tgz}" "${face_tgz}"; do
  if [[ ! -f "${tgz}" ]]; then
    echo "convert-detectors: npm pack did not write ${tgz}" >&2
    exit 1
  fi
done
echo "convert-detectors: packages ready ($((SECONDS - start)) s)" >&2

compare=()
if [[ -n "${LEDGE_SHARED_MODELS:-}" ]]; then
  compare=(--compare "${LEDGE_SHARED_MODELS}/detection")
fi
"${LEDGE_PYTHON}" "${repo}/scripts/task_models.py" convert \
  --objectron "${objectron_tgz}" \
  --face "${face_tgz}" \
  --out "${out}" "${compare[@]}"
echo "convert-detectors: done ($((SECONDS - start)) s)" >&2
