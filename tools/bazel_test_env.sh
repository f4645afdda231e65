#!/bin/sh
# Runs one Bazel test with a private HOME and TMPDIR (used via --run_under in
# .bazelrc). Bazel leaves HOME unset and TMPDIR shared; Keras and TensorFlow
# write caches under both, so each test gets fresh ones inside TEST_TMPDIR,
# which Bazel creates per test and removes afterwards.
set -eu
export HOME="${TEST_TMPDIR}/home"
export TMPDIR="${TEST_TMPDIR}/tmp"
mkdir -p "${HOME}" "${TMPDIR}"
exec "$@"
