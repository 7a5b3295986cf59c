#!/usr/bin/env bash
# Where the bytes of Ledge's shipped runtime go: regenerates the measured part of docs/size.md
# (between its `size-report` markers) from the dist builds.
#
#   scripts/size-report.sh [--no-build] [--out DIR] [--before DIR]
#   scripts/size-report.sh --latency OLD_LEDGE NEW_LEDGE [ROUNDS]
#
# Builds (unless --no-build) what the other scripts ship, with the linker writing a map of each ELF
# link (LEDGE_LINK_MAP, see bindings/page_size_build.rs): scripts/build-pi.sh (aarch64 and armv7),
# the host dist build of scripts/size-budget.sh and scripts/build-wasm.sh. Then it measures every
# artifact (bytes, stripped, gzip -9), attributes the code of each ELF link (from its map: every
# function's section after --gc-sections, demangled, per crate) and of the wasm module (its name
# section, `llvm-nm -S` on the module before wasm-bindgen and wasm-opt) to crates, and writes:
#   DIR/sizes.tsv                  artifact, bytes, stripped, gzip
#   DIR/<artifact>.crates.tsv      crate, code bytes, functions (+ #other: non-code sections)
#   DIR/<artifact>.functions.tsv   the 200 largest functions
#   docs/size.md                   the tables, with before/after columns when --before DIR names
#                                  an earlier run's DIR
# DIR defaults to $CARGO_TARGET_DIR/size-report (./target/size-report).
# --latency compares two builds of the `ledge` CLI (e.g. before and after a profile change) in one
# run: `ledge bench` on EfficientNet-Lite0 int8 and, with LEDGE_SHARED_MODELS set, fp32, rounds
# alternating which binary goes first; prints the medians of the round medians (run, whole call,
# load) as a Markdown table.
# Needs python3, llvm-cxxfilt-22, llvm-nm-22 and llvm-strip-22 (Debian's llvm-22 and the wasm
# build's packages).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target="${CARGO_TARGET_DIR:-${repo}/target}"
out="${target}/size-report"
before=""
build=true
latency=()
while (($#)); do
  case "$1" in
    --latency) latency=("$2" "$3" "${4:-6}"); break ;;
    --no-build) build=false ;;
    --out) out="$2"; shift ;;
    --before) before="$2"; shift ;;
    *)
      echo "usage: $0 [--no-build] [--out DIR] [--before DIR] | --latency OLD_LEDGE NEW_LEDGE [ROUNDS]" >&2
      exit 2
      ;;
  esac
  shift
done
# The attribution and the Markdown, in one Python program: `attribute KIND SOURCE OUT` and
# `render OUT BEFORE DOC REVISION`, `latency OLD NEW ROUNDS`.
IFS= read -r -d '' py <<'PY' || true
"""Size report: attributes the code of a linked binary to crates (a GNU ld map of an ELF link, or a
wasm module with its name section), renders docs/size.md and compares the latency of two CLIs."""
import collections
import datetime
import os
import re
import subprocess
import sys

LEGACY = {"$LT$": "<", "$GT$": ">", "$LP$": "(", "$RP$": ")", "$C$": ",", "$RF$": "&",
          "$BP$": "*", "$SP$": "@", "$u20$": " ", "$u27$": "'", "$u5b$": "[", "$u5d$": "]",
          "$u7b$": "{", "$u7d$": "}", "$u7e$": "~", "$u3b$": ";", "$u21$": "!", "$u2b$": "+",
          "$u22$": '"', "$u3d$": "="}


def demangle(names):
    """llvm-cxxfilt for both manglings (v0 and legacy), then legacy's escapes and hashes."""
    out = subprocess.run(["llvm-cxxfilt-22"], input="\n".join(names) + "\n", text=True,
                         capture_output=True, check=True).stdout.splitlines()
    res = []
    for s in out:
        s = re.sub(r"\$(LT|GT|LP|RP|C|RF|BP|SP|u[0-9a-f]{2})\$",
                   lambda m: LEGACY.get(m.group(0), m.group(0)), s)
        s = s.replace("..", "::")
        s = re.sub(r"(^|::|<|, )_(?=<)", r"\1", s)  # legacy: a component starting with `$` has a `_`
        s = re.sub(r"::h[0-9a-f]{16}$", "", s)
        res.append(s)
    return res


STD = {"core", "alloc", "std", "compiler_builtins", "std_detect", "panic_unwind", "panic_abort",
       "hashbrown", "rustc_demangle", "addr2line", "gimli", "miniz_oxide", "object", "adler2"}
WRAPPERS = ("core::ptr::drop_in_place<", "core::ptr::drop_glue<")
SKIP = re.compile(r"^(?:&mut |&|\*const |\*mut |dyn |\[|\(|<|impl )+")


def crate_of(name):
    """The crate a (demangled) Rust function belongs to: its own path's first segment; for a
    trait impl on a std/primitive type, the trait's crate; for drop glue, the dropped type's."""
    for w in WRAPPERS:
        if name.startswith(w):
            inner = crate_of(name[len(w):])
            if inner not in STD and inner != "[?]":
                return inner
    head = SKIP.sub("", name)
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", head)
    if not m:
        if re.match(r"(u8|u16|u32|u64|u128|usize|i8|i16|i32|i64|i128|isize|f16|f32|f64|bool|"
                    r"char|str)\b", head) and " as " in name:
            crate = "core"
        elif name.startswith(("uniffi_", "ffi_ledge", "Java_")):
            return "[FFI exports]"
        else:
            return "[C / runtime]" if not name.startswith("_") else "[?]"
    else:
        crate = m.group(1)
    if crate in STD and " as " in name:
        tm = re.search(r" as (?:&mut |&|dyn )*([A-Za-z_][A-Za-z0-9_]*)::", name)
        if tm and tm.group(1) not in STD:
            return tm.group(1)
    return crate


def from_lld_map(f):
    """(name, size, object) for every input section of an lld map (rustup's x86_64 linker)."""
    rows = []
    line_re = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+(\S.*)$")
    for line in f:
        m = line_re.match(line.rstrip("\n"))
        if not m or not m.group(2).endswith(")") or ":(" not in m.group(2):
            continue
        obj, _, sec = m.group(2).rpartition(":(")
        rows.append((sec[:-1], int(m.group(1), 16), obj))
    return rows


def from_map(path):
    """(name, size, object) for every input section of a GNU ld or lld map that made it into
    the link."""
    with open(path, errors="replace") as f:
        if f.readline().split()[:2] == ["VMA", "LMA"]:
            return from_lld_map(f)
    rows = []
    started = False
    pending = None
    line_re = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(.*)$")
    cont_re = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(.*)$")
    with open(path, errors="replace") as f:
        for line in f:
            if not started:
                started = line.startswith("Linker script and memory map")
                continue
            line = line.rstrip("\n")
            if pending is not None:
                m = cont_re.match(line)
                if m:
                    rows.append((pending, int(m.group(2), 16), m.group(3)))
                pending = None
                continue
            m = line_re.match(line)
            if m:
                rows.append((m.group(1), int(m.group(3), 16), m.group(4)))
            elif re.match(r"^ \.\S+$", line):
                pending = line.strip()
    return rows


def elf_functions(path):
    """Functions of an ELF link (from its map) and the rest by section kind."""
    funcs = []
    other = collections.Counter()
    for sec, size, obj in from_map(path):
        if size == 0:
            continue
        rlib = re.search(r"lib([A-Za-z0-9_]+)-[0-9a-f]+\.rlib\(", obj)
        if sec.startswith(".text."):
            funcs.append((sec[len(".text."):], size, None))
        elif sec == ".text" and rlib:
            funcs.append((f"[native code of {rlib.group(1)}] {obj.rsplit('(', 1)[-1].rstrip(')')}",
                          size, rlib.group(1)))
        elif sec.startswith(".text") or sec in (".init", ".fini", ".plt"):
            funcs.append((f"[{sec} of {obj.rsplit('/', 1)[-1]}]", size, "[C / runtime]"))
        else:
            kind = re.match(r"(\.[a-z_]+(?:\.rel\.ro)?)", sec)
            other[kind.group(1) if kind else sec] += size
    return funcs, other


def wasm_functions(path):
    out = subprocess.run(["llvm-nm-22", "-S", "--size-sort", path], capture_output=True,
                         text=True, check=True).stdout
    funcs = []
    other = collections.Counter()
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) != 4:
            continue
        size, kind, name = int(parts[1], 16), parts[2], parts[3]
        if kind in "tT":
            funcs.append((name, size, None))
        else:
            other[f"data ({name})"] += size
    return funcs, other


def attribute(kind, path, out):
    funcs, other = elf_functions(path) if kind == "map" else wasm_functions(path)
    names = demangle([n for n, _, _ in funcs])
    crates = collections.Counter()
    counts = collections.Counter()
    rows = []
    for (raw, size, crate), name in zip(funcs, names):
        crate = crate or crate_of(name)
        crates[crate] += size
        counts[crate] += 1
        rows.append((size, crate, name))
    code = sum(crates.values())
    with open(out + ".crates.tsv", "w") as f:
        f.write(f"#code\t{code}\n")
        for k, v in sorted(other.items(), key=lambda kv: -kv[1]):
            f.write(f"#other\t{k}\t{v}\n")
        for crate, size in crates.most_common():
            f.write(f"{crate}\t{size}\t{counts[crate]}\n")
    rows.sort(reverse=True)
    with open(out + ".functions.tsv", "w") as f:
        for size, crate, name in rows[:200]:
            f.write(f"{size}\t{crate}\t{name}\n")



LABELS = {
    "aarch64-lib": "`libledge_uniffi.so`, aarch64 Linux (Pi 3-5)",
    "aarch64-cli": "`ledge` CLI, aarch64 Linux",
    "armv7-lib": "`libledge_uniffi.so`, armv7 Linux (32-bit Pi OS)",
    "armv7-cli": "`ledge` CLI, armv7 Linux",
    "x86_64-lib": "`libledge_uniffi.so`, x86_64 Linux",
    "x86_64-cli": "`ledge` CLI, x86_64 Linux",
    "wasm": "`ledge_wasm_bg.wasm` (shipped, after wasm-opt)",
}
FRONT_END = ["tract_onnx", "tract_hir", "tract_onnx_opl", "prost"]


def mb(n):
    return "" if n is None else f"{n / 1e6:.2f}"


def change(a, b):
    if a is None or b is None or a == 0:
        return ""
    return f"{(b - a) / a * 100:+.0f} %"


def read_sizes(d):
    sizes = {}
    try:
        with open(os.path.join(d, "sizes.tsv")) as f:
            for line in f.read().splitlines()[1:]:
                key, raw, stripped, gz = line.split("\t")
                sizes[key] = (int(raw), int(stripped), int(gz))
    except OSError:
        pass
    return sizes


def read_crates(d, key):
    crates, other, code = {}, {}, None
    try:
        with open(os.path.join(d, f"{key}.crates.tsv")) as f:
            for line in f.read().splitlines():
                cols = line.split("\t")
                if cols[0] == "#code":
                    code = int(cols[1])
                elif cols[0] == "#other":
                    other[cols[1]] = int(cols[2])
                else:
                    crates[cols[0]] = (int(cols[1]), int(cols[2]))
    except OSError:
        return None
    return crates, other, code


def crate_table(key, now, then, lines):
    crates, other, code = now
    old = then[0] if then else {}
    rows = sorted(set(crates) | set(old),
                  key=lambda c: -max(crates.get(c, (0, 0))[0], old.get(c, (0, 0))[0]))
    lines.append("| crate | functions | code before (MB) | code now (MB) | change |")
    lines.append("|---|---:|---:|---:|---:|")
    top, rest = rows[:25], rows[25:]
    for c in top:
        a = old.get(c, (None, 0))[0] if then else None
        b, n = crates.get(c, (0, 0))
        lines.append(f"| {c} | {n} | {mb(a)} | {mb(b)} | {change(a, b)} |")
    if rest:
        a = sum(old.get(c, (0, 0))[0] for c in rest) if then else None
        b = sum(crates.get(c, (0, 0))[0] for c in rest)
        n = sum(crates.get(c, (0, 0))[1] for c in rest)
        lines.append(f"| {len(rest)} other crates | {n} | {mb(a)} | {mb(b)} | {change(a, b)} |")
    a = then[2] if then else None
    lines.append(f"| **all code** | {sum(n for _, n in crates.values())} | {mb(a)} | **{mb(code)}** "
                 f"| {change(a, code)} |")
    big = [(k, v) for k, v in sorted(other.items(), key=lambda kv: -kv[1]) if v >= 50_000]
    if big:
        lines.append("")
        lines.append("Besides code: " + ", ".join(f"`{k}` {mb(v)} MB" for k, v in big) + ".")
    front = sum(crates.get(c, (0, 0))[0] for c in FRONT_END)
    lines.append("")
    lines.append(f"The ONNX front end ({', '.join(FRONT_END)}) is {mb(front)} MB of this code "
                 f"({front / code * 100:.0f} %); tract_nnef, which a compiled model form would "
                 f"load with, {mb(crates.get('tract_nnef', (0, 0))[0])} MB.")


def function_table(d, key, n, lines):
    try:
        with open(os.path.join(d, f"{key}.functions.tsv")) as f:
            rows = [line.split("\t", 2) for line in f.read().splitlines()[:n]]
    except OSError:
        return
    lines.append("| bytes | crate | function |")
    lines.append("|---:|---|---|")
    for size, crate, name in rows:
        name = name if len(name) <= 140 else name[:137] + "..."
        name = name.replace("|", "\\|")
        lines.append(f"| {int(size):,} | {crate} | `{name}` |")


def render(out, before, doc, revision):
    now, then = read_sizes(out), read_sizes(before) if before else {}
    lines = [BEGIN, "",
             f"Measured {datetime.date.today()} at `{revision}` by `scripts/size-report.sh`"
             + (" against an earlier run (the *before* columns)" if then else "") + ". "
             "MB = 10^6 bytes; *stripped*: after `llvm-strip` (the dist builds are stripped "
             "already); *gzip*: `gzip -9` of the stripped file.", "",
             "| artifact | stripped before (MB) | gzip before (MB) | stripped (MB) | gzip (MB) | change |",
             "|---|---:|---:|---:|---:|---:|"]
    for key, label in LABELS.items():
        if key not in now and key not in then:
            continue
        a, b = then.get(key), now.get(key)
        lines.append(f"| {label} | {mb(a and a[1])} | {mb(a and a[2])} | {mb(b and b[1])} "
                     f"| {mb(b and b[2])} | {change(a and a[1], b and b[1])} |")
    for key, title in (("aarch64-lib", "The aarch64 library's code per crate (from the linker map)"),
                       ("wasm", "The wasm module's code per crate (its name section, before "
                                "wasm-bindgen and wasm-opt)")):
        cur = read_crates(out, key)
        if cur is None:
            continue
        lines += ["", f"### {title}", ""]
        crate_table(key, cur, read_crates(before, key) if before else None, lines)
        lines += ["", f"Largest functions ({key}):", ""]
        function_table(out, key, 20 if key != "wasm" else 12, lines)
    lines += ["", END]
    block = "\n".join(lines) + "\n"
    try:
        text = open(doc).read()
    except OSError:
        text = "# Size\n\n" + BEGIN + "\n" + END + "\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    with open(doc, "w") as f:
        f.write(head + block + tail.lstrip("\n"))


def latency(old, new, rounds):
    import json
    import statistics
    demo = os.path.join(os.getcwd(), "demo-models")
    models = [("EfficientNet-Lite0 int8", os.path.join(demo, "efficientnet-lite0/model.onnx"), None)]
    shared = os.environ.get("LEDGE_SHARED_MODELS")
    if shared:
        models.append(("EfficientNet-Lite0 fp32", os.path.join(shared, "efficientnet_lite0_fp32.onnx"),
                       os.path.join(demo, "efficientnet-lite0/manifest.toml")))
    keys = ("p50_ms", "task_p50_ms", "load_ms")
    res = {(m, b): {k: [] for k in keys} for m, _, _ in models for b in (0, 1)}
    for r in range(int(rounds)):
        for label, model, manifest in models:
            for b in ((0, 1) if r % 2 == 0 else (1, 0)):
                cmd = [(old, new)[b], "bench", model, "--image",
                       os.path.join(demo, "images/chelsea.png"), "--iters", "40", "--warmup", "5",
                       "--json"] + (["--manifest", manifest] if manifest else [])
                out = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                text=True).stdout)
                for k in keys:
                    res[(label, b)][k].append(out[k])
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"CPU {cpu}, {os.cpu_count()} cores; {rounds} rounds of 40 runs after 5 warm-up runs, "
          "alternating which build goes first; medians of the round medians (ms).")
    print("")
    print("| model | run before | run after | ratio | call before | call after | ratio "
          "| load before | load after | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, _, _ in models:
        cells = []
        for k in keys:
            a = statistics.median(res[(label, 0)][k])
            b = statistics.median(res[(label, 1)][k])
            cells += [f"{a:.2f}", f"{b:.2f}", f"{b / a:.3f}"]
        print(f"| {label} | " + " | ".join(cells) + " |")


BEGIN = "<!-- size-report: begin (scripts/size-report.sh rewrites everything up to the end marker) -->"
END = "<!-- size-report: end -->"

if sys.argv[1] == "attribute":
    attribute(*sys.argv[2:5])
elif sys.argv[1] == "latency":
    latency(*sys.argv[2:5])
else:
    render(*sys.argv[2:6])
PY

if ((${#latency[@]})); then
  exec python3 -c "${py}" latency "${latency[@]}"
fi

mkdir -p "${out}/maps/pi" "${out}/maps/host"
out="$(cd "${out}" && pwd)"

if "${build}"; then
  rm -f "${out}"/maps/*/*.map
  LEDGE_LINK_MAP="${out}/maps/pi" scripts/build-pi.sh
  # The host dist build and the budget check (a failed limit does not stop the report).
  LEDGE_LINK_MAP="${out}/maps/host" scripts/size-budget.sh || echo "size-report: the budget check failed" >&2
  scripts/build-wasm.sh
fi

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
# key, file, linker map (ELF) or raw module (wasm) for the per-crate attribution
artifacts=(
  "aarch64-lib" "dist/ledge-${version}-aarch64-unknown-linux-gnu/lib/libledge_uniffi.so"
  "${out}/maps/pi/ledge-uniffi-aarch64-unknown-linux-gnu.map"
  "aarch64-cli" "dist/ledge-${version}-aarch64-unknown-linux-gnu/bin/ledge"
  "${out}/maps/pi/ledge-cli-aarch64-unknown-linux-gnu.map"
  "armv7-lib" "dist/ledge-${version}-armv7-unknown-linux-gnueabihf/lib/libledge_uniffi.so"
  "${out}/maps/pi/ledge-uniffi-armv7-unknown-linux-gnueabihf.map"
  "armv7-cli" "dist/ledge-${version}-armv7-unknown-linux-gnueabihf/bin/ledge"
  "${out}/maps/pi/ledge-cli-armv7-unknown-linux-gnueabihf.map"
  "x86_64-lib" "dist/host/libledge_uniffi.so" "${out}/maps/host/ledge-uniffi-x86_64-unknown-linux-gnu.map"
  "x86_64-cli" "dist/host/ledge" "${out}/maps/host/ledge-cli-x86_64-unknown-linux-gnu.map"
  "wasm" "web/dist/ledge_wasm_bg.wasm"
  "${LEDGE_WASM_TARGET_DIR:-${target}/wasm}/wasm32-unknown-unknown/wasm/ledge_wasm.wasm"
)


printf 'artifact\tbytes\tstripped\tgzip\n' >"${out}/sizes.tsv"
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
for ((i = 0; i < ${#artifacts[@]}; i += 3)); do
  key="${artifacts[i]}" file="${artifacts[i + 1]}" source="${artifacts[i + 2]}"
  rm -f "${out}/${key}".{crates,functions}.tsv
  if [[ ! -f "${file}" ]]; then
    echo "size-report: ${file} is missing (not built here), skipped" >&2
    continue
  fi
  cp "${file}" "${tmp}/${key}"
  [[ "${key}" == wasm ]] || llvm-strip-22 "${tmp}/${key}"
  printf '%s\t%d\t%d\t%d\n' "${key}" "$(stat -c %s "${file}")" "$(stat -c %s "${tmp}/${key}")" \
    "$(gzip -9c "${tmp}/${key}" | wc -c)" >>"${out}/sizes.tsv"
  if [[ -f "${source}" ]]; then
    kind=map
    [[ "${key}" != wasm ]] || kind=wasm
    python3 -c "${py}" attribute "${kind}" "${source}" "${out}/${key}"
  else
    echo "size-report: no ${source}: ${key} has sizes only" >&2
  fi
done
python3 -c "${py}" render "${out}" "${before}" docs/size.md "$(git describe --always --dirty)"
echo "size-report: docs/size.md (data in ${out#"${repo}"/})" >&2
