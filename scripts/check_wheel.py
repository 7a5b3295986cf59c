"""Checks a Ledge wheel without running it on its own architecture (scripts/test-pi.sh):

- every RECORD entry has the sha256 and size of the file in the wheel (what pip verifies);
- the WHEEL tag's platform is the one expected;
- every native function the generated Python module calls (`uniffi_*`, `ffi_*`) is a dynamic
  symbol the wheel's library exports, read with `readelf` (any ELF architecture), so the module
  and the library were built from the same API.

    python3 scripts/check_wheel.py WHEEL --platform linux_aarch64
"""

import argparse
import base64
import hashlib
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("wheel", type=Path)
    ap.add_argument("--platform", required=True)
    args = ap.parse_args()
    problems = []
    with zipfile.ZipFile(args.wheel) as z:
        names = set(z.namelist())
        record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
        for line in z.read(record_name).decode().splitlines():
            name, digest, size = line.rsplit(",", 2)
            if name == record_name:
                continue
            data = z.read(name)
            actual = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if digest != actual or int(size) != len(data):
                problems.append(f"RECORD mismatch for {name}")
            names.discard(name)
        names.discard(record_name)
        if names:
            problems.append(f"files missing from RECORD: {sorted(names)}")
        wheel_meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))).decode()
        if f"Tag: py3-none-{args.platform}" not in wheel_meta:
            problems.append(f"WHEEL tag is not py3-none-{args.platform}: {wheel_meta!r}")
        # The binding's module and the core's (its optional uniffi derives): both call the library.
        module = z.read("ledge/_native/ledge_uniffi.py").decode() + z.read("ledge/_native/ledge.py").decode()
        with tempfile.TemporaryDirectory() as tmp:
            lib = Path(tmp) / "lib.so"
            lib.write_bytes(z.read("ledge/_native/libledge_uniffi.so"))
            dynsyms = subprocess.run(
                ["readelf", "--dyn-syms", "--wide", str(lib)], check=True, capture_output=True, text=True
            ).stdout
    exported = set(re.findall(r"\b((?:uniffi|ffi)_ledge(?:_uniffi)?_\w+)", dynsyms))
    called = set(re.findall(r"_UniffiLib\.((?:uniffi|ffi)_ledge(?:_uniffi)?_\w+)", module))
    if not called:
        problems.append("the Python module calls no native function: not a uniffi module?")
    missing = sorted(called - exported)
    if missing:
        problems.append(f"{len(missing)} native functions missing from the library: {missing[:5]}")
    for p in problems:
        print(f"check_wheel: {args.wheel.name}: {p}", file=sys.stderr)
    if not problems:
        print(f"check_wheel: {args.wheel.name}: RECORD ok, tag ok, {len(called)} native functions all exported")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
