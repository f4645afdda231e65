"""Fails when a checked-in `tffx/proto/*_pb2.py` is stale.

Regenerates every module from its `.proto` with the same generator as
`tools/generate_protos.sh` (grpcio-tools, pinned in the test extra) and
compares the bytes with the checked-in file. protoc runs in a subprocess:
in a process that has already loaded TensorFlow it can crash.
"""

import glob
import os
import subprocess
import sys

from absl.testing import absltest

import tffx.proto

_PROTO_DIR = os.path.dirname(tffx.proto.__file__)
# protoc runs with -I at the directory holding `tffx/`, as the script does.
_ROOT = os.path.dirname(os.path.dirname(_PROTO_DIR))


def _proto_files():
  return sorted(glob.glob(os.path.join(_PROTO_DIR, '*.proto')))


class GeneratedCodeTest(absltest.TestCase):

  def test_every_proto_has_a_checked_in_module(self):
    protos = _proto_files()

    self.assertNotEmpty(protos)
    for proto in protos:
      module = proto[:-len('.proto')] + '_pb2.py'
      with self.subTest(proto=os.path.basename(proto)):
        self.assertTrue(os.path.isfile(module), f'{module} is missing.')

  def test_checked_in_modules_match_regenerated_code(self):
    out_dir = self.create_tempdir().full_path
    relative = [os.path.relpath(p, _ROOT) for p in _proto_files()]

    completed = subprocess.run(
        [sys.executable, '-m', 'grpc_tools.protoc', f'-I{_ROOT}',
         f'--python_out={out_dir}'] + relative,
        capture_output=True, text=True, check=False)

    self.assertEqual(completed.returncode, 0,
                     f'protoc failed on tffx/proto/*.proto: {completed.stderr}')
    for proto in relative:
      module = proto[:-len('.proto')] + '_pb2.py'
      with open(os.path.join(out_dir, module), 'rb') as f:
        regenerated = f.read()
      with open(os.path.join(_ROOT, module), 'rb') as f:
        checked_in = f.read()
      with self.subTest(module=module):
        self.assertEqual(
            checked_in, regenerated,
            f'{module} is stale. Tip: run `bash tools/generate_protos.sh` '
            f'and commit the result.')


if __name__ == '__main__':
  absltest.main()
