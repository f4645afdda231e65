#!/usr/bin/env bash
# Runs every tffx test, the same way CI does. Run tools/setup.sh first.
#
#   1. pytest over tffx_test/ (extra arguments go to pytest, e.g. -k name -x)
#   2. tools/check_bazel_targets.py: every *_test.py has a Bazel target
#   3. bazel test //tffx_test/... with the .venv interpreter, offline
#
# All steps run even if one fails; the exit status is non-zero if any failed.
# TFFX_SKIP_BAZEL=1 skips step 3 for quick local iterations (CI never sets it).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT="${PWD}"
# Absolute: Bazel runs tests from inside its own execroot.
readonly PYTHON="${ROOT}/.venv/bin/python"

if [[ ! -x "${PYTHON}" ]]; then
  echo "test: error: ${PYTHON} not found; run 'bash tools/setup.sh' first." >&2
  exit 1
fi

failed=()

# step NAME COMMAND...: runs COMMAND, reports its result and duration.
step() {
  local name="$1"
  shift
  local start="${SECONDS}"
  echo "=== ${name}"
  if "$@"; then
    echo "=== ${name}: passed ($((SECONDS - start))s)"
  else
    echo "=== ${name}: FAILED ($((SECONDS - start))s)"
    failed+=("${name}")
  fi
}

step pytest "${PYTHON}" -m pytest -q "$@"
step check_bazel_targets "${PYTHON}" tools/check_bazel_targets.py

if [[ "${TFFX_SKIP_BAZEL:-0}" == 1 ]]; then
  echo "=== bazel: skipped (TFFX_SKIP_BAZEL=1)"
elif ! command -v bazel >/dev/null 2>&1; then
  echo "test: error: bazel not found; run 'bash tools/setup.sh' (or set TFFX_SKIP_BAZEL=1)." >&2
  failed+=(bazel)
else
  # The other flags are in .bazelrc. PATH: subprocesses that run `python3`
  # get the venv too; a fixed value also keeps Bazel's test cache stable.
  step bazel bazel test \
    --python_path="${PYTHON}" \
    --test_env=PATH="${ROOT}/.venv/bin:/usr/local/bin:/usr/bin:/bin" \
    //tffx_test/...
fi

if ((${#failed[@]} > 0)); then
  echo "test: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test: all passed"
