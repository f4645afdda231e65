#!/usr/bin/env bash
# Regenerates tffx/proto/*_pb2.py from tffx/proto/*.proto.
#
# Usage: bash tools/generate_protos.sh [OUT_ROOT]
#
# Uses grpc_tools.protoc from grpcio-tools 1.85.1 (the `test` extra, pinned in
# pyproject.toml), whose output needs protobuf >= 7.35.1 at run time. protoc
# runs with -I at the repository root, so `tffx/proto/computation.proto` becomes
# the module `tffx.proto.computation_pb2`, written next to its .proto file
# (or under OUT_ROOT/tffx/proto/, e.g. to compare with the checked-in files).
# The generated files are checked in; rerun this after editing a .proto file.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly PYTHON="${PYTHON:-.venv/bin/python}"
readonly OUT_ROOT="${1:-.}"

shopt -s nullglob
protos=(tffx/proto/*.proto)
if ((${#protos[@]} == 0)); then
  echo "generate_protos: no tffx/proto/*.proto files" >&2
  exit 1
fi
mkdir -p "${OUT_ROOT}"
"${PYTHON}" -m grpc_tools.protoc -I. --python_out="${OUT_ROOT}" "${protos[@]}"
echo "generate_protos: generated ${#protos[@]} module(s) from: ${protos[*]}"
