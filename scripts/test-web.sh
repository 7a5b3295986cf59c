#!/usr/bin/env bash
# Tests the npm package @ledge/web (web/) as built by scripts/build-wasm.sh (run first; it is
# incremental): the TypeScript declarations through tsc --strict; Node's built-in test runner over
# the built package (every shared vector: cases.json, detect.json, embed.json, frames.json; camera
# frames in every format and rotation, the bad-input and bad-frame catalogues, bridge and
# lifecycle tests, the live-stream runner with a fake fast camera, the WorkerModel in a worker
# thread, the README quick starts); then, in Debian's headless Chromium driven by playwright-core,
# the demo page (classify, detection boxes over a photo, similar images, the camera mode's live
# stream over a Web Worker with its frame rate and drops), VideoFrames and every other frame
# source in a Web Worker and on the page, and the browser camera quick start on a fake camera
# (screenshots under web/test-results/).
# Installs what it needs: Chromium from Debian (never a downloaded browser), `npm ci` in web/.
# Extra arguments go to both `node --test` runs (e.g. --test-name-pattern=panic).
#
# Environment:
#   CHROMIUM            the browser binary (default /usr/bin/chromium)
#   LEDGE_DEMO_MODELS   the demo-models folder the Node tests read (default demo-models/)
#   LEDGE_WEB_ROOT      the folder served as the repository root to the browser test (holding web/
#                       and demo-models/; default the repository)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
step() { printf '\n== %s\n' "$*" >&2; }

"${repo}/scripts/build-wasm.sh"

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "${CHROMIUM}" ]]; then
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  echo "test-web: apt-get install chromium" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium
fi

cd web
rm -rf test-results
step "TypeScript declarations (tsc --strict over web/test/types)"
node_modules/.bin/tsc -p test/types/tsconfig.json && echo "test-web: types ok" >&2

step "Node $(node --version): node --test over the built package"
node --test --test-reporter=spec "$@" test/*.test.js

step "browser: the demo page in $("${CHROMIUM}" --version 2>/dev/null | head -1) (playwright-core)"
node --test --test-reporter=spec "$@" test-browser/*.test.js
echo "test-web: screenshots in web/test-results/" >&2
