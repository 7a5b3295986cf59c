#!/usr/bin/env bash
# Regenerate everything in demo-models/ from the fp32 sources in ../shared/models:
#   1. the Python environment (scripts/python-env.sh)
#   2. int8 quantization into target/demo-models-build/ (scripts/demo_models.py quantize: classifiers;
#      scripts/task_models.py quantize: detectors and the embedding model)
#   3. `ledge pack` of each model with its manifest into demo-models/<name>/model.onnx, and the fixtures
#   4. the shared test vectors and test images (scripts/demo_models.py vectors: cases.json;
#      scripts/task_models.py vectors: detect.json, embed.json, mirrored photos)
#   5. the size / agreement reports (demo-models/report.json, demo-models/report-tasks.json)
# The fp32 detectors in ${LEDGE_SHARED_MODELS}/detection are made by scripts/convert-detectors.sh.
#
# Usage: scripts/make-demo-models.sh [--unpacked]
#   --unpacked   copy the unpacked int8 models into demo-models/ instead of running `ledge pack`
#                (for trying the pipeline while `ledge pack` is not available yet)
# Environment:
#   LEDGE_SHARED_MODELS  fp32 sources (default: <repo>/../shared/models)
#   LEDGE_VENV           Python venv (default: ~/.cache/ledge/venv, see scripts/python-env.sh)
#   LEDGE_BIN            a prebuilt `ledge` binary to use instead of `cargo run --release -p ledge-cli`
#
# Every step overwrites its outputs, so running it again gives the same files.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${LEDGE_SHARED_MODELS:-${repo}/../shared/models}"
build="${repo}/target/demo-models-build"
models="${repo}/demo-models"
names=(efficientnet-lite0 ppocr-cls ssd-mobilenetv2-oid blazeface-short-range efficientnet-lite0-embed)
fixtures=(ppocr-cls-qoperator ppocr-cls-softmax-qdq)

pack=1
for arg in "$@"; do
  case "${arg}" in
    --unpacked) pack=0 ;;
    -h | --help)
      sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "make-demo-models: unknown argument ${arg}" >&2
      exit 2
      ;;
  esac
done

ledge() {
  if [[ -n "${LEDGE_BIN:-}" ]]; then
    "${LEDGE_BIN}" "$@"
  else
    cargo run --release -q -p ledge-cli -- "$@"
  fi
}

cd "${repo}"

echo "== 1/5 python environment" >&2
# shellcheck source=scripts/python-env.sh
source "${repo}/scripts/python-env.sh"
py="${LEDGE_PYTHON}"

echo "== 2/5 quantize (${shared} -> ${build})" >&2
"${py}" scripts/demo_models.py quantize --shared "${shared}" --out "${build}"
"${py}" scripts/task_models.py quantize --shared "${shared}" --out "${build}"

echo "== 3/5 pack" >&2
for name in "${names[@]}"; do
  if [[ "${pack}" == 1 ]]; then
    ledge pack "${build}/${name}/model.onnx" --manifest "${models}/${name}/manifest.toml" \
      -o "${models}/${name}/model.onnx"
  else
    echo "make-demo-models: --unpacked: copying ${name} without its manifest" >&2
    cp "${build}/${name}/model.onnx" "${models}/${name}/model.onnx"
  fi
done
mkdir -p "${models}/fixtures"
for fixture in "${fixtures[@]}"; do
  cp "${build}/fixtures/${fixture}.onnx" "${models}/fixtures/${fixture}.onnx"
done

echo "== 4/5 test vectors" >&2
"${py}" scripts/demo_models.py vectors --models "${models}" --shared "${shared}"
"${py}" scripts/task_models.py vectors --models "${models}"

echo "== 5/5 report" >&2
"${py}" scripts/demo_models.py report --models "${models}" --shared "${shared}"
"${py}" scripts/task_models.py report --models "${models}" --shared "${shared}"
