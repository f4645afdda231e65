"""Runs a test file again with Keras 2 as `tf.keras` (`TF_USE_LEGACY_KERAS=1`).

TFF code is Keras 2 code; the tests that check it run their files a second
time in a subprocess with `tf-keras` selected, and assert that they pass.
"""

import os
import subprocess
import sys

from absl.testing import absltest


def assert_passes_with_keras2(test: absltest.TestCase, path: str) -> str:
  """Runs the test file `path` with `TF_USE_LEGACY_KERAS=1`; returns stderr.

  Fails `test` unless the file exits 0 and reports OK.
  """
  env = dict(os.environ, TF_USE_LEGACY_KERAS='1',
             PYTHONPATH=os.pathsep.join(p for p in sys.path if p))

  result = subprocess.run([sys.executable, path], env=env,
                          capture_output=True, text=True, timeout=900,
                          check=False)

  test.assertEqual(result.returncode, 0,
                   f'{os.path.basename(path)} failed with Keras 2:\n'
                   f'{result.stderr[-4000:]}')
  test.assertRegex(result.stderr, r'\nOK')
  return result.stderr
