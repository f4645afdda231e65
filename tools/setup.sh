#!/usr/bin/env bash
# Sets up a development environment for tffx; safe to run again.
#
#   .venv/   a virtualenv made with the `python3` on PATH (>= 3.10), holding
#            tffx in editable mode with its test extras (`pip install -e .[test]`)
#   bazel    from Debian's bazel-bootstrap package when `bazel` is missing
#            (needs root or passwordless sudo; otherwise prints what to do)
#
# The pip step is skipped when pyproject.toml has not changed since the last
# successful run (stamp file in .venv), so repeated runs take a second.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly VENV=.venv
readonly STAMP="${VENV}/.tffx-setup-stamp"

log() { echo "setup: $*"; }

# Prints the command prefix that runs as root ("" or "sudo -n"); fails if none.
as_root_prefix() {
  if [[ "$(id -u)" == 0 ]]; then
    echo ""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "sudo -n"
  else
    return 1
  fi
}

APT_UPDATED=0
# apt_install PACKAGE...: installs Debian packages; returns 1 if it cannot.
apt_install() {
  local root
  if ! command -v apt-get >/dev/null 2>&1 || ! root="$(as_root_prefix)"; then
    return 1
  fi
  if [[ "${APT_UPDATED}" == 0 ]]; then
    ${root} apt-get update -qq || return 1
    APT_UPDATED=1
  fi
  ${root} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Python virtualenv --------------------------------------------------------
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup: error: python3 not found on PATH (tffx needs Python >= 3.10)." >&2
  exit 1
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup: error: $(python3 --version 2>&1) is too old; tffx needs Python >= 3.10." >&2
  exit 1
fi

if [[ -d "${VENV}" ]] && ! "${VENV}/bin/python" -c '' 2>/dev/null; then
  # E.g. the interpreter it was made from was removed or upgraded.
  log "${VENV} is broken; recreating it"
  rm -rf "${VENV}"
fi
if [[ ! -d "${VENV}" ]]; then
  log "creating ${VENV} with $(command -v python3) ($(python3 --version 2>&1))"
  if ! python3 -m venv "${VENV}" 2>/dev/null; then
    # Debian's system Python ships venv/ensurepip separately.
    rm -rf "${VENV}"
    log "python3 -m venv failed; installing python3-venv with apt"
    if ! apt_install python3-venv; then
      echo "setup: error: 'python3 -m venv' failed; install the venv module" \
        "(Debian/Ubuntu: apt-get install python3-venv) and run again." >&2
      exit 1
    fi
    python3 -m venv "${VENV}"
  fi
fi

pyproject_hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${pyproject_hash}" ]] &&
  "${VENV}/bin/python" -c 'import importlib.metadata as m; m.version("tffx")' 2>/dev/null; then
  log "${VENV} is up to date"
else
  log "installing tffx[test] (editable) into ${VENV}; the first time downloads TensorFlow"
  rm -f "${STAMP}"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  "${VENV}/bin/python" -m pip install --quiet --upgrade pip
  "${VENV}/bin/python" -m pip install --quiet -e '.[test]'
  echo "${pyproject_hash}" >"${STAMP}"
fi

# --- Bazel --------------------------------------------------------------------
if command -v bazel >/dev/null 2>&1; then
  log "bazel found at $(command -v bazel)"
else
  log "bazel not found; installing bazel-bootstrap with apt"
  if apt_install bazel-bootstrap && command -v bazel >/dev/null 2>&1; then
    log "bazel installed at $(command -v bazel)"
  else
    # Not fatal: only `bazel test` (in tools/test.sh) needs it.
    echo "setup: warning: could not install Bazel (needs apt-get and root or" \
      "passwordless sudo). Install it yourself ('apt-get install bazel-bootstrap'" \
      "or Bazel >= 4 from bazel.build), or run tests with TFFX_SKIP_BAZEL=1." >&2
  fi
fi
log "done"
