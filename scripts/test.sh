#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, the size budget, and all test suites.
# This is README's test command and what CI runs (.ci/run). It installs what it needs.
#
# Environment:
#   CARGO_TARGET_DIR   cargo's build folder (CI points it outside the clone to reuse builds)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"

step() { printf '\n== %s\n' "$*" >&2; }

step "tools"
"${repo}/scripts/install-deps.sh"
cargo --version >&2

step "format (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (cargo clippy -D warnings, every feature)"
cargo clippy --workspace --all-targets --all-features --release --locked -- -D warnings

step "shell scripts (shellcheck)"
shellcheck scripts/*.sh scripts/bench .ci/run

step "uniffi bindings (committed Swift sources are current)"
"${repo}/scripts/gen-bindings.sh" --check

step "Raspberry Pi cross builds (aarch64, armv7: CLI, library, Python wheel)"
"${repo}/scripts/build-pi.sh"

step "WebAssembly build (ledge-wasm for wasm32 + SIMD128, wasm-bindgen, wasm-opt → web/dist)"
"${repo}/scripts/build-wasm.sh"

step "size budget (dist build + ledge budget check)"
"${repo}/scripts/size-budget.sh"

step "Raspberry Pi: every vector and bad input under qemu"
"${repo}/scripts/test-pi.sh"

step "valgrind memcheck: the CLI over every vector and bad input, zero errors, no leaks"
"${repo}/scripts/memcheck.sh"

step "Python binding (wheel, fresh venv, pytest)"
"${repo}/scripts/test-python.sh"

step "Kotlin library (ledge-jni + mvn test in android/)"
"${repo}/scripts/test-kotlin.sh"

step "JavaScript (node --test over web/dist) and the demo page in headless Chromium"
"${repo}/scripts/test-web.sh"

step "fuzz smoke run (30 s per target; scripts/fuzz.sh --runs N for campaigns)"
"${repo}/scripts/fuzz.sh" --seconds 30

step "Rust tests (cargo test)"
cargo test --workspace --all-features --release --locked --lib --bins --tests
# Doc tests last: only the core has them, so CI's closing line counts real tests.
cargo test --release --locked --doc -p ledge
