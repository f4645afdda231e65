"""The tutorial tests again with Keras 2 (`tf-keras`, `TF_USE_LEGACY_KERAS=1`).

TFF 0.87's tutorials are Keras 2 code. Each tutorial test of this folder runs
here in a subprocess with `TF_USE_LEGACY_KERAS=1`, so `tf.keras` is Keras 2
there; it must pass as it does with Keras 3 (a test that needs Keras 2, such
as custom federated algorithms part 2's tensor learning rate, runs only
there).
"""

import glob
import os

from absl.testing import absltest
from absl.testing import parameterized

from tffx_test import keras2_rerun

_HERE = os.path.dirname(os.path.abspath(__file__))
_TUTORIAL_TESTS = sorted(glob.glob(os.path.join(_HERE, '*_tutorial_test.py')))


class TutorialsUnderKeras2Test(parameterized.TestCase):

  def test_every_tutorial_test_is_found(self):
    self.assertLen(_TUTORIAL_TESTS, 8)

  @parameterized.parameters(*_TUTORIAL_TESTS)
  def test_tutorial_passes_with_tf_use_legacy_keras(self, path):
    stderr = keras2_rerun.assert_passes_with_keras2(self, path)

    self.assertNotIn('skipped=', stderr.splitlines()[-1])


if __name__ == '__main__':
  absltest.main()
