"""The tutorial tests again with Keras 2 (`tf-keras`, `TF_USE_LEGACY_KERAS=1`).

TFF 0.87's tutorials are Keras 2 code. Each tutorial test of this folder runs
here in a subprocess with `TF_USE_LEGACY_KERAS=1`, so `tf.keras` is Keras 2
there; it must pass as it does with Keras 3 (a test that needs Keras 2, such
as custom federated algorithms part 2's tensor learning rate, runs only
there).
"""

import glob
import os
import subprocess
import sys

from absl.testing import absltest
from absl.testing import parameterized

_HERE = os.path.dirname(os.path.abspath(__file__))
_TUTORIAL_TESTS = sorted(glob.glob(os.path.join(_HERE, '*_tutorial_test.py')))


class TutorialsUnderKeras2Test(parameterized.TestCase):

  def test_every_tutorial_test_is_found(self):
    self.assertLen(_TUTORIAL_TESTS, 8)

  @parameterized.parameters(*_TUTORIAL_TESTS)
  def test_tutorial_passes_with_tf_use_legacy_keras(self, path):
    env = dict(os.environ, TF_USE_LEGACY_KERAS='1',
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))

    result = subprocess.run([sys.executable, path], env=env,
                            capture_output=True, text=True, timeout=900,
                            check=False)

    self.assertEqual(result.returncode, 0,
                     f'{os.path.basename(path)} failed with Keras 2:\n'
                     f'{result.stderr[-4000:]}')
    self.assertRegex(result.stderr, r'\nOK')
    self.assertNotIn('skipped=', result.stderr.splitlines()[-1])


if __name__ == '__main__':
  absltest.main()
