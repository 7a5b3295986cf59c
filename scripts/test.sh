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

step "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --release --locked -- -D warnings

step "shell scripts (shellcheck)"
shellcheck scripts/*.sh .ci/run

step "size budget (dist build + ledge budget check)"
"${repo}/scripts/size-budget.sh"

step "tests (cargo test)"
cargo test --workspace --release --locked
