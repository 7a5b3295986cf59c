#!/usr/bin/env bash
# Python environment for Ledge's scripts (demo-model quantization and test vectors).
#
#   source scripts/python-env.sh   # exports LEDGE_VENV and LEDGE_PYTHON
#   scripts/python-env.sh          # prints the venv's python path
#
# Creates a venv at ${LEDGE_VENV:-$HOME/.cache/ledge/venv} if it is missing (or broken) and installs
# scripts/requirements.txt into it whenever that file changed since the last install (a stamp file in
# the venv keeps the requirements' sha256). Safe to run any number of times. The base interpreter is
# ${LEDGE_BASE_PYTHON:-python3}. Progress goes to stderr; stdout carries only the python path.
#
# The work runs in a subshell with `set -euo pipefail` so that sourcing this file does not change the
# caller's shell options. The steps that matter also check their status explicitly, because bash
# ignores `set -e` inside a function called from a condition (`if source ...`, `... || ...`).

_ledge_python_env() (
  set -euo pipefail

  local script_dir requirements venv py stamp want have
  script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  requirements="${script_dir}/requirements.txt"
  venv="${LEDGE_VENV:-${HOME}/.cache/ledge/venv}"
  py="${venv}/bin/python"
  stamp="${venv}/.ledge-requirements.sha256"

  if [[ ! -f "${requirements}" ]]; then
    echo "python-env: ${requirements} not found" >&2
    exit 1
  fi

  if [[ ! -x "${py}" ]] || ! "${py}" -c '' >/dev/null 2>&1; then
    echo "python-env: creating venv at ${venv}" >&2
    mkdir -p "$(dirname "${venv}")"
    "${LEDGE_BASE_PYTHON:-python3}" -m venv --clear "${venv}" >&2 || exit 1
    rm -f "${stamp}"
  fi

  want="$("${py}" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "${requirements}")" || exit 1
  have=""
  if [[ -f "${stamp}" ]]; then
    have="$(<"${stamp}")"
  fi
  if [[ "${want}" != "${have}" ]]; then
    echo "python-env: installing ${requirements} into ${venv}" >&2
    "${py}" -m pip install --disable-pip-version-check --quiet -r "${requirements}" >&2 || exit 1
    printf '%s\n' "${want}" >"${stamp}"
  fi

  printf '%s\n' "${py}"
)

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
  set -euo pipefail
  _ledge_python_env
else
  # A plain assignment, not `|| return`, which would turn off `set -e` inside the function. A caller
  # with `set -e` stops here on failure; any other caller gets status 1 from `source`.
  LEDGE_PYTHON="$(_ledge_python_env)"
  _ledge_status=$?
  if [[ "${_ledge_status}" != 0 ]]; then
    unset _ledge_status LEDGE_PYTHON
    return 1
  fi
  unset _ledge_status
  LEDGE_VENV="$(dirname "$(dirname "${LEDGE_PYTHON}")")"
  export LEDGE_PYTHON LEDGE_VENV
  echo "python-env: LEDGE_PYTHON=${LEDGE_PYTHON}" >&2
fi
