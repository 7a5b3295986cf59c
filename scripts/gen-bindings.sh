#!/usr/bin/env bash
# Generates the Swift and Python sources of the uniffi binding (bindings/uniffi) from the built
# library, with the uniffi-bindgen pinned in that crate (the same uniffi version as the library).
#
#   scripts/gen-bindings.sh           regenerate; the Swift sources are committed:
#                                       ios/Sources/Ledge/Ledge.swift (the Swift API)
#                                       ios/Headers/LedgeFFI.h, ios/Headers/module.modulemap (C side)
#   scripts/gen-bindings.sh --check   regenerate into a temporary folder and exit 1 when the
#                                     committed Swift sources are stale
# Both write the Python module to $CARGO_TARGET_DIR/uniffi-gen/python (nothing to commit: the
# host wheel built by maturin carries its own copy; scripts/build-pi.sh packs this one into the
# Raspberry Pi wheels, with the library beside it here for a quick local import).
#
# Environment: CARGO_TARGET_DIR (cargo's build folder, default ./target).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target_dir="${CARGO_TARGET_DIR:-${repo}/target}"

check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# The library without the `testing` feature: the committed API is the shipped one.
# Every crate, default features (no `testing`: its bridge-test exports stay out of the committed
# Swift): the same dependency features as the test command's other host builds, so only the
# binding crates are compiled twice, never tract.
cargo build --release --locked --workspace --lib --bins
lib=""
for name in libledge_uniffi.so libledge_uniffi.dylib ledge_uniffi.dll; do
  if [[ -f "${target_dir}/release/${name}" ]]; then
    lib="${target_dir}/release/${name}"
    break
  fi
done
if [[ -z "${lib}" ]]; then
  echo "error: no ledge_uniffi library in ${target_dir}/release" >&2
  exit 1
fi
bindgen="${target_dir}/release/uniffi-bindgen"

out="$(mktemp -d)"
trap 'rm -rf "${out}"' EXIT
for language in swift python; do
  "${bindgen}" generate --library "${lib}" --language "${language}" --no-format \
    --out-dir "${out}/${language}" >&2
done

# Where each generated Swift-side file lives in ios/.
# Two uniffi components: the binding crate (Ledge.swift, LedgeFFI.h) and the core's derived
# types (LedgeCore.swift, LedgeCoreFFI.h; core/uniffi.toml). Both Swift files build into the one
# module `Ledge`; both headers belong to the one clang module `LedgeFFI`, whose module map is the
# binding's with the core's header added.
sed 's|^\(\s*\)header "LedgeFFI.h"|&\n\1header "LedgeCoreFFI.h"|' "${out}/swift/LedgeFFI.modulemap" \
  >"${out}/swift/module.modulemap"
grep -q 'header "LedgeCoreFFI.h"' "${out}/swift/module.modulemap" || {
  echo "error: could not add LedgeCoreFFI.h to the module map" >&2
  exit 1
}
swift_files=(
  "Ledge.swift:ios/Sources/Ledge/Ledge.swift"
  "LedgeCore.swift:ios/Sources/Ledge/LedgeCore.swift"
  "LedgeFFI.h:ios/Headers/LedgeFFI.h"
  "LedgeCoreFFI.h:ios/Headers/LedgeCoreFFI.h"
  "module.modulemap:ios/Headers/module.modulemap"
)

if ${check}; then
  stale=0
  for pair in "${swift_files[@]}"; do
    generated="${out}/swift/${pair%%:*}"
    committed="${repo}/${pair#*:}"
    if ! cmp -s "${generated}" "${committed}"; then
      echo "stale: ${pair#*:} differs from what ${pair%%:*} generates now" >&2
      diff -u "${committed}" "${generated}" | head -20 >&2 || true
      stale=1
    fi
  done
  if [[ ${stale} -ne 0 ]]; then
    echo "error: the committed Swift bindings are stale; run scripts/gen-bindings.sh" >&2
    exit 1
  fi
  echo "Swift bindings are up to date" >&2
else
  for pair in "${swift_files[@]}"; do
    cp "${out}/swift/${pair%%:*}" "${repo}/${pair#*:}"
    echo "wrote ${pair#*:}" >&2
  done
fi
rm -rf "${target_dir}/uniffi-gen/python"
mkdir -p "${target_dir}/uniffi-gen"
cp -R "${out}/python" "${target_dir}/uniffi-gen/python"
cp "${lib}" "${target_dir}/uniffi-gen/python/"
echo "wrote ${target_dir}/uniffi-gen/python" >&2
