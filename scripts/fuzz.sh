#!/usr/bin/env bash
# Runs Ledge's fuzz targets (fuzz/, cargo fuzz + libFuzzer + AddressSanitizer).
#
# Usage:
#   scripts/fuzz.sh [--runs N | --seconds S] [TARGET...]
#     --runs N      executions per target (a campaign: 1000000 is the release bar)
#     --seconds S   time per target instead (the test command's smoke run uses 30)
#     TARGET        load_model manifest classify_image npy budget (default: all)
#
# Every target starts from seed corpora built from the repository: fuzz/seeds (tiny models and
# tensors made by fuzz/make_seeds.py), the demo manifests, images, vectors and budget.toml, plus
# truncations and bit flips of each. The grown corpus is kept under the target dir and reused by
# the next campaign (a --seconds smoke run starts from the seeds alone). A crash or timeout stops the run with libFuzzer's report and a reproducer in
# fuzz/artifacts/TARGET/: copy it to fuzz/regressions/TARGET/ so core/tests/fuzz_regressions.rs
# keeps it as a test. Prints executions per target and writes them to
# ${CARGO_TARGET_DIR:-target}/fuzz/report.json.
#
# Needs: cargo-fuzz (installed here into ~/.cargo/bin when missing). cargo fuzz uses unstable
# rustc flags; RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
runs=""
seconds=""
targets=()
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(load_model manifest classify_image npy budget)
[[ -n "${runs}${seconds}" ]] || runs=1000000

cargo_fuzz_version="0.13.1"
if ! cargo fuzz --version 2>/dev/null | grep -q "${cargo_fuzz_version}"; then
  echo "fuzz: cargo install cargo-fuzz ${cargo_fuzz_version}" >&2
  cargo install -j2 --locked --quiet cargo-fuzz --version "=${cargo_fuzz_version}"
fi
export RUSTC_BOOTSTRAP=1
work="${CARGO_TARGET_DIR:-${repo}/target}/fuzz"
mkdir -p "${work}"
work="$(cd "${work}" && pwd)"

# Seeds: each file as is, its first half, and three copies with one bit flipped.
seed() { # seed DIR FILE...
  local dir="$1" f name size
  shift
  mkdir -p "${dir}"
  for f in "$@"; do
    name="$(basename "${f}")"
    cp "${f}" "${dir}/${name}"
    size="$(stat -c %s "${f}")"
    head -c "$((size / 2))" "${f}" >"${dir}/${name}.half"
    python3 - "${f}" "${dir}/${name}" <<'PY'
import random, sys
data = open(sys.argv[1], "rb").read()
rng = random.Random(data[:64])
for i in range(3):
    if not data:
        break
    flipped = bytearray(data)
    at = rng.randrange(len(flipped))
    flipped[at] ^= 1 << rng.randrange(8)
    open(f"{sys.argv[2]}.flip{i}", "wb").write(bytes(flipped))
PY
  done
}

max_len_of() {
  case "$1" in
    load_model) echo 8192 ;;
    classify_image) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

report="${work}/report.json"
printf '{' >"${report}"
sep=""
for target in "${targets[@]}"; do
  seeds="${work}/seeds/${target}"
  rm -rf "${seeds}"
  case "${target}" in
    load_model) seed "${seeds}" fuzz/seeds/models/*.onnx ;;
    manifest) seed "${seeds}" demo-models/*/manifest.toml demo-models/fixtures/*.toml fuzz/tiny.toml ;;
    classify_image) seed "${seeds}" demo-models/images/line*.png fuzz/seeds/images/* ;;
    npy) seed "${seeds}" fuzz/seeds/npy/*.npy ;;
    budget) seed "${seeds}" budget.toml ;;
    *) echo "fuzz: unknown target ${target}" >&2; exit 2 ;;
  esac
  # Campaigns grow one corpus across runs; a timed smoke run starts from the seeds alone, so
  # the test command's result does not depend on what earlier campaigns left behind.
  corpus="${work}/corpus/${target}"
  if [[ -n "${seconds}" ]]; then
    corpus="${work}/smoke-corpus/${target}"
    rm -rf "${corpus}"
  fi
  mkdir -p "${corpus}"
  limit=(-runs="${runs}")
  [[ -z "${seconds}" ]] || limit=(-max_total_time="${seconds}")
  log="${work}/${target}.log"
  echo "fuzz: ${target} (${limit[*]})" >&2
  status=0
  # Its own build folder: sanitizer flags must not invalidate the workspace's builds.
  (cd fuzz && CARGO_TARGET_DIR="${work}/build" cargo fuzz run --release --debug-assertions "${target}" "${corpus}" "${seeds}" -- \
    "${limit[@]}" -max_len="$(max_len_of "${target}")" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1) >"${log}" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "${log}" | tail -n 1)"
  if ((status != 0)); then
    tail -n 60 "${log}" >&2
    echo "fuzz: ${target} FAILED after ${execs:-?} executions (log ${log}); reproducer in fuzz/artifacts/${target}/" >&2
    exit 1
  fi
  echo "fuzz: ${target}: ${execs} executions, no crash" >&2
  printf '%s"%s":%s' "${sep}" "${target}" "${execs:-0}" >>"${report}"
  sep=","
done
printf '}\n' >>"${report}"
echo "fuzz: report ${report}" >&2
