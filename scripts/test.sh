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

# bg_step NAME COMMAND...: starts a timed step in the background, its output kept in a log that
# is printed when it is awaited (wait_bg_steps). For steps that would leave the second core idle
# (qemu runs one thread; the wasm and dist builds have long single-threaded stretches: crates
# compiled as one codegen unit, LTO links): they overlap the steps that follow.
bg_names=()
bg_pids=()
bg_logs=()
bg_count=0
bg_step() {
  local name="$1" log="${target_dir}/test-step-${bg_count}.log"
  bg_count=$((bg_count + 1))
  shift
  printf '\n== %s (started in the background; output at the end)\n' "${name}" >&2
  (
    started=${SECONDS}
    rc=0
    "$@" >"${log}" 2>&1 || rc=$?
    echo "${rc} $((SECONDS - started))" >"${log}.rc"
  ) &
  bg_pids+=($!)
  bg_names+=("${name}")
  bg_logs+=("${log}")
}

# Waits for every background step, prints its output and records its time; fails if one failed.
wait_bg_steps() {
  local i rc took failed=0
  for i in "${!bg_pids[@]}"; do
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
  done
  bg_pids=()
  bg_names=()
  bg_logs=()
  return "${failed}"
}

summary() {
  local status=$?
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

rust_tests() {
  cargo test --workspace --all-features --release --locked --lib --bins --tests
  # Doc tests last: only the core has them, so CI's closing line counts real tests. The same
  # packages and features as above: `-p ledge` alone resolved features anew and compiled tract a
  # second time (~6 min of a cold run).
  cargo test --workspace --all-features --release --locked --doc
}

step "tools" "${repo}/scripts/install-deps.sh"
cargo --version >&2
step "format (cargo fmt --check)" cargo fmt --all -- --check
step "lints (cargo clippy -D warnings, every feature)" \
  cargo clippy --workspace --all-targets --all-features --release --locked -- -D warnings
step "shell scripts (shellcheck)" shellcheck scripts/*.sh scripts/bench .ci/run
step "uniffi bindings (committed Swift sources are current)" "${repo}/scripts/gen-bindings.sh" --check
# The Raspberry Pi builds (own target folders, Debian's compiler) beside the wasm and host dist
# builds; the qemu tests need both.
if [[ "${LEDGE_PI_DIST:-0}" == 1 ]]; then
  pi=(--dist dist)
  bg_step "Raspberry Pi release archives (aarch64, armv7; dist: fat LTO; their size budget)" \
    "${repo}/scripts/build-pi.sh"
else
  pi=(--dist dist/test)
  bg_step "Raspberry Pi test builds (aarch64, armv7: CLI, library, Python wheel; release profile)" \
    "${repo}/scripts/build-pi.sh" --test
fi
step "WebAssembly build (wasm32 + SIMD128, wasm-bindgen, wasm-opt → web/dist)" "${repo}/scripts/build-wasm.sh"
step "size budget (dist build + ledge budget check)" "${repo}/scripts/size-budget.sh"
step "waiting for the Raspberry Pi builds" wait_bg_steps
# qemu runs one thread: the suites below use the other core meanwhile.
bg_step "Raspberry Pi: every vector and bad input under qemu" "${repo}/scripts/test-pi.sh" "${pi[@]}"
step "valgrind memcheck (CLI, PP-OCR vectors and every bad input)" "${repo}/scripts/memcheck.sh"
step "Python binding (wheel, fresh venv, pytest)" "${repo}/scripts/test-python.sh"
step "Kotlin library (ledge-jni + mvn test in android/)" "${repo}/scripts/test-kotlin.sh"
step "JavaScript (node --test over web/dist, headless Chromium)" "${repo}/scripts/test-web.sh"
if [[ "${LEDGE_FUZZ_SMOKE:-0}" == 1 ]]; then
  step "fuzz smoke run (30 s per target)" "${repo}/scripts/fuzz.sh" --seconds 30
fi
step "waiting for the background steps" wait_bg_steps
step "Rust tests (cargo test)" rust_tests
