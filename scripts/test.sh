#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, the size budget, and all test suites.
# This is README's test command and what CI runs (.ci/run). It installs what it needs.
#
# Every step is timed: a table of step durations closes the run (also on failure) and is written
# as JSON to $CARGO_TARGET_DIR/test-times.json, so every note can say where CI time goes.
#
# Environment:
#   CARGO_TARGET_DIR   cargo's build folder (CI points it outside the clone to reuse builds)
#   LEDGE_FUZZ_SMOKE   1 adds a 30 s AddressSanitizer fuzz run per target (a full ASan compile of
#                      tract: ~31 min cold). Off by default: every fuzz finding and seed is a plain
#                      cargo test (core/tests/fuzz_regressions.rs); campaigns are scripts/fuzz.sh.
#   LEDGE_PI_DIST      1 tests the Raspberry Pi release archives (dist profile, fat LTO, their size
#                      budget; ~20 min more) instead of the test builds (release profile, same code)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target_dir="${CARGO_TARGET_DIR:-${repo}/target}"
mkdir -p "${target_dir}"
times_json="$(cd "${target_dir}" && pwd)/test-times.json"

names=()
secs=()
started_all=${SECONDS}
current=""
current_started=0

# step NAME COMMAND...: runs one timed step.
step() {
  local name="$1"
  shift
  printf '\n== %s\n' "${name}" >&2
  current="${name}"
  current_started=${SECONDS}
  "$@"
  names+=("${name}")
  secs+=($((SECONDS - current_started)))
  current=""
  printf '== %s: %d s\n' "${name}" "${secs[-1]}" >&2
}

# bg_step KEY NAME COMMAND...: starts a timed step in the background, its output kept in a log
# that is printed when it is awaited (wait_bg_steps): the long compiles, so that the suites run
# while they compile (cold, both cores stay busy throughout; README, "Testing").
bg_keys=()
bg_names=()
bg_pids=()
bg_logs=()
bg_count=0
bg_step() {
  local key="$1" name="$2" log="${target_dir}/test-step-${bg_count}.log"
  bg_count=$((bg_count + 1))
  shift 2
  printf '\n== %s (started in the background; output when awaited)\n' "${name}" >&2
  (
    started=${SECONDS}
    rc=0
    "$@" >"${log}" 2>&1 || rc=$?
    echo "${rc} $((SECONDS - started))" >"${log}.rc"
  ) &
  bg_pids[bg_count]=$!
  bg_keys[bg_count]="${key}"
  bg_names[bg_count]="${name}"
  bg_logs[bg_count]="${log}"
}

# wait_bg_steps [KEY...]: waits for the background steps of these keys (default: all), prints
# their output and records their times; fails if one failed.
wait_bg_steps() {
  local i rc took failed=0
  for i in "${!bg_pids[@]}"; do
    if (($#)) && [[ " $* " != *" ${bg_keys[i]} "* ]]; then
      continue
    fi
    wait "${bg_pids[i]}" || true
    read -r rc took <"${bg_logs[i]}.rc"
    printf '\n== %s (background output)\n' "${bg_names[i]}" >&2
    cat "${bg_logs[i]}" >&2
    printf '== %s: %d s (exit %d)\n' "${bg_names[i]}" "${took}" "${rc}" >&2
    if [[ "${rc}" == 0 ]]; then
      names+=("${bg_names[i]} (in the background)")
    else
      names+=("${bg_names[i]} (in the background, FAILED)")
      failed=1
    fi
    secs+=("${took}")
    unset "bg_pids[i]" "bg_keys[i]" "bg_names[i]" "bg_logs[i]"
  done
  return "${failed}"
}

# kill_tree PID: stops a background step and everything it started (cargo, rustc, qemu).
kill_tree() {
  local child
  for child in $(pgrep -P "$1" || true); do
    kill_tree "${child}"
  done
  kill "$1" 2>/dev/null || true
}

summary() {
  local status=$? pid
  # A failed step ends the run: background steps still running are stopped, not left behind.
  for pid in "${bg_pids[@]}"; do
    kill_tree "${pid}"
  done
  if [[ -n "${current}" ]]; then
    names+=("${current} (FAILED)")
    secs+=($((SECONDS - current_started)))
  fi
  local total=$((SECONDS - started_all)) i json="" sep=""
  {
    printf '\n== step times (exit %d)\n' "${status}"
    printf '%8s  %s\n' "seconds" "step"
    for i in "${!names[@]}"; do
      printf '%8d  %s\n' "${secs[i]}" "${names[i]}"
      json+="${sep}{\"step\": \"${names[i]//\"/\\\"}\", \"seconds\": ${secs[i]}}"
      sep=", "
    done
    printf '%8d  %s\n' "${total}" "total ($((total / 60)) min)"
  } >&2
  printf '{"exit": %d, "total_seconds": %d, "steps": [%s]}\n' "${status}" "${total}" "${json}" \
    >"${times_json}"
  echo "step times written to ${times_json}" >&2
}
trap summary EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# rust_tests [--no-run]: every Rust test; with --no-run, only the test binaries' builds (compiled
# while the background compiles run, so the last step mostly runs them; rustdoc builds the doc
# tests as it runs them).
rust_tests() {
  cargo test --workspace --all-features --release --locked --lib --bins --tests "$@"
  [[ "${1:-}" != --no-run ]] || return 0
  # Doc tests last: only the core has them, so CI's closing line counts real tests. The same
  # packages and features as above: `-p ledge` alone resolved features anew and compiled tract a
  # second time (~6 min of a cold run).
  cargo test --workspace --all-features --release --locked --doc
}

tools() {
  "${repo}/scripts/install-deps.sh"
  "${repo}/scripts/install-cross.sh"
}
step "tools" tools
cargo --version >&2
# The Raspberry Pi and WebAssembly builds (own target folders, Debian's compiler) start now, in
# the background, and the host dist build once the host release build is done (its own profile
# folder and lock): they compile while the steps in between run. The suites need only the host
# release build (JavaScript the wasm build too); the size budget, the Pi staging and the qemu
# tests wait for the rest.
if [[ "${LEDGE_PI_DIST:-0}" == 1 ]]; then
  pi_build=("${repo}/scripts/build-pi.sh")
  pi=(--dist dist)
  bg_step pi "Raspberry Pi release compiles (aarch64, armv7; dist: fat LTO)" "${pi_build[@]}" --compile-only
else
  pi_build=("${repo}/scripts/build-pi.sh" --test)
  pi=(--dist dist/test)
  bg_step pi "Raspberry Pi test compiles (aarch64, armv7: CLI, library; release profile)" \
    "${pi_build[@]}" --compile-only
fi
bg_step wasm "WebAssembly build (wasm32 + SIMD128, wasm-bindgen, wasm-opt → web/dist)" \
  "${repo}/scripts/build-wasm.sh"
step "format (cargo fmt --check)" cargo fmt --all -- --check
step "lints (cargo clippy -D warnings, every feature)" \
  cargo clippy --workspace --all-targets --all-features --release --locked -- -D warnings
step "shell scripts (shellcheck)" shellcheck scripts/*.sh scripts/bench .ci/run
step "uniffi bindings (committed Swift sources are current; the host release build)" \
  "${repo}/scripts/gen-bindings.sh" --check
bg_step dist "host dist build (CLI and library, fat LTO)" "${repo}/scripts/size-budget.sh" --build-only
step "valgrind memcheck (CLI, PP-OCR vectors and every bad input)" "${repo}/scripts/memcheck.sh"
step "Python binding (wheel, fresh venv, pytest)" "${repo}/scripts/test-python.sh"
step "Kotlin library (ledge-jni + mvn test in android/)" "${repo}/scripts/test-kotlin.sh"
step "Rust test builds (cargo test --no-run)" rust_tests --no-run
step "waiting for the WebAssembly build" wait_bg_steps wasm
step "JavaScript (node --test over web/dist, headless Chromium)" "${repo}/scripts/test-web.sh"
if [[ "${LEDGE_FUZZ_SMOKE:-0}" == 1 ]]; then
  step "fuzz smoke run (30 s per target)" "${repo}/scripts/fuzz.sh" --seconds 30
fi
step "waiting for the host dist and Raspberry Pi compiles" wait_bg_steps
step "size budget (ledge budget check)" "${repo}/scripts/size-budget.sh"
# A warm second call: stages the CLI, library and Python wheel per target (and, with
# LEDGE_PI_DIST=1, packs the archives and checks their size budget).
step "Raspberry Pi staging (dist/test/ or, with LEDGE_PI_DIST=1, the archives and their budget)" \
  "${pi_build[@]}"
step "Raspberry Pi: every vector and bad input under qemu" "${repo}/scripts/test-pi.sh" "${pi[@]}"
step "Rust tests (cargo test)" rust_tests
