#!/usr/bin/env bash
# Writes demo-models/fixtures/signed/: packages of the PP-OCR demo model that every language's
# tests load with a trusted key, and what each must give (expected.json). The keys are TEST
# KEYS with fixed seeds (0x11.. and 0x22..): never trust them in an app.
#
# Usage: scripts/make-signed-fixtures.sh   (LEDGE_BIN: a prebuilt `ledge`, else cargo run)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
out=demo-models/fixtures/signed
ledge() {
  if [[ -n "${LEDGE_BIN:-}" ]]; then "${LEDGE_BIN}" "$@"; else cargo run --release -q -p ledge-cli -- "$@"; fi
}
mkdir -p "${out}"
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
printf '%s\n' "$(printf '11%.0s' {1..32})" >"${out}/test.key"
printf '%s\n' "$(printf '22%.0s' {1..32})" >"${tmp}/other.key"
model=demo-models/ppocr-cls/model.onnx
manifest=demo-models/ppocr-cls/manifest.toml
ledge pack "${model}" --manifest "${manifest}" -o "${out}/signed.onnx" --sign "${out}/test.key" >/dev/null
ledge pack "${model}" --manifest "${manifest}" -o "${out}/foreign.onnx" --sign "${tmp}/other.key" >/dev/null
# Another manifest (other labels), packed unsigned: given the signed package's signature below.
sed 's/^labels_file = .*/labels = ["up", "upside down"]/' "${manifest}" >"${tmp}/m.toml"
ledge pack "${model}" --manifest "${tmp}/m.toml" -o "${tmp}/relabelled.onnx" >/dev/null
# The public keys (as `ledge keygen` writes them, read from the signatures), one weight byte
# flipped, and the relabelled package with the signed one's signature grafted on.
python3 - "${out}" "${tmp}" <<'PY'
import sys
from pathlib import Path
out, tmp = Path(sys.argv[1]), Path(sys.argv[2])
def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def signature(b: bytes) -> tuple[str, bytes]:
    """The signature value and its whole metadata_props entry (the file's last bytes)."""
    at = b.rindex(b"ledge.signature") + len("ledge.signature")
    assert b[at] == 0x12
    n, shift, i = 0, 0, at + 1
    while True:
        n |= (b[i] & 0x7F) << shift
        shift += 7
        i += 1
        if b[i - 1] < 0x80:
            break
    value = b[i:i + n]
    inner = b"\x0a\x0fledge.signature\x12" + varint(n) + value
    entry = b"\x72" + varint(len(inner)) + inner
    assert b.endswith(entry)
    return value.decode(), entry
signed = (out / "signed.onnx").read_bytes()
foreign = (out / "foreign.onnx").read_bytes()
# The value is PUBLIC_KEY_HEX:SIGNATURE_HEX.
(out / "test.pub").write_text(signature(signed)[0].split(":")[0] + "\n")
(out / "other.pub").write_text(signature(foreign)[0].split(":")[0] + "\n")
tampered = bytearray(signed)
tampered[len(tampered) // 2] ^= 0x40  # one weight byte
(out / "tampered.onnx").write_bytes(bytes(tampered))
relabelled = (tmp / "relabelled.onnx").read_bytes()
(out / "remanifested.onnx").write_bytes(relabelled + signature(signed)[1])
PY
cp "${model}" "${out}/unsigned.onnx"
cat >"${out}/expected.json" <<'JSON'
{
  "trusted_key": "test.pub",
  "cases": [
    {"model": "signed.onnx", "problem": null},
    {"model": "unsigned.onnx", "problem": "unsigned"},
    {"model": "tampered.onnx", "problem": "invalid"},
    {"model": "foreign.onnx", "problem": "untrusted_key"},
    {"model": "remanifested.onnx", "problem": "invalid"}
  ]
}
JSON
ls -la "${out}"
