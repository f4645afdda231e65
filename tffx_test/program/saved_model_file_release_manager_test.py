import collections
import os

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.program import errors
from tffx.program import native_platform
from tffx.program import saved_model_file_release_manager
from tffx.types import computation_types as ct

Manager = saved_model_file_release_manager.SavedModelFileReleaseManager


def _value():
  return collections.OrderedDict(
      weights=[np.arange(6, dtype=np.float32).reshape([2, 3]),
               np.float32(0.5)],
      step=native_platform.NativeValueReference(np.int64(7),
                                                ct.TensorType(np.int64)),
      name='model')


class SavedModelFileReleaseManagerTest(absltest.TestCase):

  def test_release_then_get_value_round_trips(self):
    root = self.create_tempdir().full_path
    manager = Manager(root)

    manager.release(_value(), 3)
    value = manager.get_value(3, _value())

    self.assertTrue(os.path.isdir(os.path.join(root, 'release_3')))
    np.testing.assert_array_equal(value['weights'][0],
                                  np.arange(6).reshape([2, 3]))
    self.assertEqual(value['weights'][1], np.float32(0.5))
    self.assertEqual(value['step'], 7)
    self.assertEqual(value['name'], b'model')

  def test_saved_model_loads_with_tensorflow_alone(self):
    root = self.create_tempdir().full_path
    Manager(root, prefix='weights_').release([np.float32(1.5)], 'final')

    loaded = tf.saved_model.load(os.path.join(root, 'weights_final'))

    self.assertEqual([t.numpy() for t in loaded()], [1.5])

  def test_release_again_replaces_value(self):
    manager = Manager(self.create_tempdir().full_path)

    manager.release([np.int32(1)], 0)
    manager.release([np.int32(2)], 0)

    self.assertEqual(manager.get_value(0, [0]), [2])

  def test_get_value_raises_not_found_for_unknown_key(self):
    with self.assertRaises(errors.ReleasedValueNotFoundError):
      Manager(self.create_tempdir().full_path).get_value(1, [0])

  def test_release_raises_type_error_for_none_leaf(self):
    with self.assertRaises(TypeError):
      Manager(self.create_tempdir().full_path).release([None], 1)

  def test_raises_value_error_for_empty_root_dir(self):
    with self.assertRaises(ValueError):
      Manager('')


if __name__ == '__main__':
  absltest.main()
