#!/usr/bin/env bash
# Kotlin tests on the desktop JVM: builds the JNI library (crate ledge-jni, release, with the bridge-test
# entry points of its `testing` feature) and runs the JUnit 5 suite of android/ with Maven against it.
# Idempotent; needs a JDK ≥ 17 and Maven (installed with apt when missing and running as root); Maven
# fetches Kotlin, kotlinx, JUnit, its plugins and Robolectric's android-all jar (138 MB: the Android classes the
# Image/Bitmap adapters compile against) from Maven Central on the first run (~/.m2).
#
# Environment:
#   CARGO_TARGET_DIR      cargo's build folder (default: target/ in the repository)
#   LEDGE_ANDROID_CHECK=1 also type-check ledge-jni for the three Android targets (Debian rustc + build-std,
#                         see docs of scripts/build-android.sh; slow, off by default)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
target_dir="${CARGO_TARGET_DIR:-${repo}/target}"

step() { printf '\n== %s\n' "$*" >&2; }

step "kotlin: tools"
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven >&2
  else
    echo "error: the Kotlin tests need a JDK ≥ 17 (javac) and Maven (mvn)" >&2
    exit 1
  fi
fi
java -version 2>&1 | sed -n 1p >&2
mvn -v 2>/dev/null | sed -n 1p >&2

# The test command's one host build (every crate, every feature): the same dependency features as
# `cargo test --workspace --all-features`, so tract is compiled once for all of them.
step "kotlin: build libledge_jni (cargo build --release --workspace --all-features: feature testing)"
cargo build --release --locked --workspace --all-features --lib --bins
lib="${target_dir}/release/libledge_jni.so"
[[ -f "${lib}" ]] || { echo "error: ${lib} was not built" >&2; exit 1; }
ls -l "${lib}" >&2

step "kotlin: mvn test (android/, desktop JVM)"
reports="${repo}/android/target/surefire-reports"
rm -rf "${reports}"
status=0
(cd android && mvn -B -q -Dstyle.color=never test -Dledge.library.path="${lib}") || status=$?
if compgen -G "${reports}/*.txt" >/dev/null; then
  # One line per test class ("Tests run: N, Failures: F, ... - in dev.ledge.X"), then the memory loop.
  grep -h "^Tests run:" "${reports}"/*.txt >&2 || true
  awk '/^Tests run:/ { split($0, f, /[ ,]+/); run += f[3]; failed += f[5] + f[7]; skipped += f[9] }
       END { printf "kotlin: %d tests, %d failed, %d skipped\n", run, failed, skipped }' \
    "${reports}"/*.txt >&2
  grep -h "load/close loop\|max |Δscore|\|live stream:" "${reports}"/*-output.txt >&2 2>/dev/null || true
fi
[[ "${status}" == 0 ]] || { echo "error: Kotlin tests failed (reports in ${reports})" >&2; exit "${status}"; }

if [[ "${LEDGE_ANDROID_CHECK:-0}" == 1 ]]; then
  # Needs Debian's rustc-web + rust-web-src (build-std) and the GNU cross compilers (android/README.md);
  # tract-linalg's build script assembles its kernels, for which the GNU cross gcc stands in for the NDK's
  # clang. Linking the .so needs the NDK (scripts/build-android.sh).
  step "kotlin: type-check ledge-jni for Android (no NDK: check only)"
  declare -A cc=(
    [aarch64-linux-android]=aarch64-linux-gnu-gcc
    [armv7-linux-androideabi]=arm-linux-gnueabihf-gcc
    [x86_64-linux-android]=gcc
  )
  for t in aarch64-linux-android armv7-linux-androideabi x86_64-linux-android; do
    env "CC_${t//-/_}=${cc[${t}]}" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
      CARGO_TARGET_DIR="${target_dir}/android-check" \
      /usr/bin/cargo check --release --locked -p ledge-jni --target "${t}" -Zbuild-std=std,panic_abort
  done
fi
