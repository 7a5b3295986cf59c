#!/usr/bin/env bash
# Installs the Raspberry Pi cross toolchain from Debian's packages (the recipe tested in
# docs/toolchains.md): Debian's rustc/cargo 1.96 with target std for arm64 and the std sources
# (armv7 std is built from source), the GNU cross linkers, and qemu-user to run the results.
# Idempotent: does nothing when everything is present.
set -euo pipefail

pkgs=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 qemu-user-static gcc-aarch64-linux-gnu
  gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross libstd-rust-web-dev:arm64)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q "install ok installed" || missing+=("${p}")
done
((${#missing[@]})) || exit 0

sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)
echo "install-cross: apt-get install ${missing[*]}" >&2
"${sudo[@]}" dpkg --add-architecture arm64
# Only amd64 and arm64 indexes: bookworm-security's armhf index sometimes fails its size check and
# then apt drops the arm64 security list too.
arch=(-o "APT::Architectures=amd64,arm64")
"${sudo[@]}" apt-get "${arch[@]}" update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${arch[@]}" "${pkgs[@]}"
