#!/usr/bin/env bash
# Builds the WebAssembly face of Ledge into web/dist/ (the npm package's files): ledge-wasm for
# wasm32-unknown-unknown with SIMD128 and the `wasm` profile (opt-level s, LTO, panic=abort),
# wasm-bindgen's ES-module glue (--target web, which also serves bundlers and Node), wasm-opt -Oz
# from npm's binaryen, and the hand-written wrapper from web/src/. The recipe is the tested one of
# docs/toolchains.md: Debian's rustc-web through /usr/bin/cargo with -Zbuild-std (rustup cannot
# add the wasm32 target here). Installs what it needs, idempotently: the Debian packages,
# wasm-bindgen-cli at exactly the version of the workspace's wasm-bindgen, `npm ci` in web/.
#
# Environment:
#   LEDGE_WASM_TARGET_DIR  cargo's build folder (default $CARGO_TARGET_DIR/wasm, else target/wasm)
#   LEDGE_WASM_OPT_LEVEL   override the profile's opt-level (3, s, z) — for size/speed measurements
#   LEDGE_WASM_OPT         0 skips wasm-opt (quicker local iterations)
#   LEDGE_WASM_OUT         output folder (default web/dist)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
# Debian's compiler and rustup's must not share a target dir (as in build-pi.sh).
target_dir="${LEDGE_WASM_TARGET_DIR:-${CARGO_TARGET_DIR:-${repo}/target}/wasm}"
out="${LEDGE_WASM_OUT:-${repo}/web/dist}"
step() { printf '\n== %s\n' "$*" >&2; }
sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)

step "wasm tools"
pkgs=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q "install ok installed" || missing+=("${p}")
done
if ((${#missing[@]})); then
  echo "build-wasm: apt-get install ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# wasm-bindgen-cli must match the library exactly (the glue and the module speak a private ABI).
wb_version="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)"
[[ -n "${wb_version}" ]] || { echo "build-wasm: no pinned wasm-bindgen in Cargo.toml" >&2; exit 1; }
wasm_bindgen="${HOME}/.cargo/bin/wasm-bindgen"
if [[ "$("${wasm_bindgen}" --version 2>/dev/null)" != "wasm-bindgen ${wb_version}" ]]; then
  echo "build-wasm: cargo install wasm-bindgen-cli ${wb_version}" >&2
  # Not --locked: the CLI's own lock file pins crates that no longer build with current rustc.
  cargo install -j2 --force wasm-bindgen-cli --version "=${wb_version}" --root "${HOME}/.cargo" \
    --target-dir "${HOME}/.cache/ledge/target-wasm-bindgen-cli"
fi

# npm ci when node_modules is missing or older than the lock file (a stamp records the lock used).
if ! cmp -s web/package-lock.json web/node_modules/.ledge-lock-stamp; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp web/package-lock.json web/node_modules/.ledge-lock-stamp
fi

step "ledge-wasm → wasm32-unknown-unknown (+simd128, profile wasm${LEDGE_WASM_OPT_LEVEL:+, opt-level ${LEDGE_WASM_OPT_LEVEL}})"
# Debian's compiler (rustup's has no wasm32 std here); RUSTC_BOOTSTRAP for -Zbuild-std.
# `cargo rustc --crate-type cdylib`: a crate with an rlib crate-type would get no LTO.
started=${SECONDS}
vars=(RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="${target_dir}"
  RUSTFLAGS="-C target-feature=+simd128")
[[ -z "${LEDGE_WASM_OPT_LEVEL:-}" ]] || vars+=(CARGO_PROFILE_WASM_OPT_LEVEL="${LEDGE_WASM_OPT_LEVEL}")
env "${vars[@]}" /usr/bin/cargo rustc -j2 --locked --profile wasm -p ledge-wasm --lib --crate-type cdylib \
  -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown
echo "build-wasm: cargo took $((SECONDS - started)) s" >&2
raw="${target_dir}/wasm32-unknown-unknown/wasm/ledge_wasm.wasm"

# wasm-bindgen and wasm-opt (minutes) only when the module or the options changed.
stamp="$(cat "${raw}" scripts/build-wasm.sh | sha256sum | cut -c1-16)-${LEDGE_WASM_OPT:-1}"
if [[ -f "${out}/ledge_wasm_bg.wasm" && "$(cat "${out}/.build-stamp" 2>/dev/null)" == "${stamp}" ]]; then
  echo "build-wasm: ${out#"${repo}"/}/ledge_wasm_bg.wasm is current" >&2
  cp web/src/*.js web/src/*.d.ts "${out}/"
  exit 0
fi

step "wasm-bindgen ${wb_version} (--target web)"
gen="$(mktemp -d)"
trap 'rm -rf "${gen}"' EXIT
# --experimental-reset-state-function: the wrapper replaces the instance after a trap (panic).
"${wasm_bindgen}" --target web --experimental-reset-state-function --out-dir "${gen}" "${raw}"

if [[ "${LEDGE_WASM_OPT:-1}" != 0 ]]; then
  step "wasm-opt -Oz (binaryen $(web/node_modules/.bin/wasm-opt --version | awk '{print $3}'))"
  started=${SECONDS}
  web/node_modules/.bin/wasm-opt -Oz --enable-simd --enable-reference-types --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-multivalue --enable-mutable-globals \
    "${gen}/ledge_wasm_bg.wasm" -o "${gen}/ledge_wasm_bg.opt.wasm"
  mv "${gen}/ledge_wasm_bg.opt.wasm" "${gen}/ledge_wasm_bg.wasm"
  echo "build-wasm: wasm-opt took $((SECONDS - started)) s" >&2
fi

step "package files → ${out#"${repo}"/}"
mkdir -p "${out}"
rm -f "${out}"/*.js "${out}"/*.ts "${out}"/*.wasm
cp "${gen}/ledge_wasm.js" "${gen}/ledge_wasm_bg.wasm" "${out}/"
cp web/src/*.js web/src/*.d.ts "${out}/"
echo "${stamp}" >"${out}/.build-stamp"
for f in "${raw}" "${out}/ledge_wasm_bg.wasm" "${out}/ledge_wasm.js" "${out}/"{index,frame,live,worker,ledge_worker}.js; do
  printf '%-60s %10d bytes, gzip -9 %9d\n' "${f#"${HOME}"/}" "$(stat -c %s "${f}")" "$(gzip -9c "${f}" | wc -c)" >&2
done
