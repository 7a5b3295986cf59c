#!/usr/bin/env bash
# Installs what the test command needs and the machine may lack; idempotent and quiet when
# everything is present. Debian/Ubuntu packages via apt-get (root or sudo).
set -euo pipefail

need_apt=()
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
command -v strip >/dev/null 2>&1 || need_apt+=(binutils)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c "import ensurepip" 2>/dev/null || need_apt+=(python3-venv)
# JavaScript tests (scripts/test-web.sh): Node ≥ 18 for `node --test`, npm, headless Chromium. The
# wasm toolchain itself is installed by scripts/build-wasm.sh.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
((node_major >= 18)) || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)

if ((${#need_apt[@]})); then
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  echo "install-deps: apt-get install ${need_apt[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found; install Rust with rustup (https://rustup.rs)" >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "${component}"
  fi
done
