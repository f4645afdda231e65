#!/bin/sh
# Stub for Bazel's coverage tools (see BUILD in this directory).
echo "tffx: 'bazel coverage' is not supported (remote_coverage_tools is an" \
  "offline stub in third_party/remote_coverage_tools); measure coverage with pytest." >&2
exit 1
