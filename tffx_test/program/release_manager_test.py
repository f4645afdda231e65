import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.program import release_manager


class ReleaseManagerTest(parameterized.TestCase):

  def test_flatten_metrics_names_nested_ordered_dicts_by_path(self):
    metrics = collections.OrderedDict(
        client_work=collections.OrderedDict(
            train=collections.OrderedDict(loss=0.5, num_examples=12)),
        finalizer=collections.OrderedDict(update_norm=np.float32(2.0)))

    flat = release_manager.flatten_metrics(metrics)

    self.assertEqual(
        flat,
        collections.OrderedDict([
            ('client_work/train/loss', 0.5),
            ('client_work/train/num_examples', 12),
            ('finalizer/update_norm', np.float32(2.0)),
        ]))

  def test_flatten_metrics_converts_tensors_to_numpy(self):

    flat = release_manager.flatten_metrics({'loss': tf.constant([1.0, 2.0])})

    self.assertIsInstance(flat['loss'], np.ndarray)
    np.testing.assert_array_equal(flat['loss'], [1.0, 2.0])

  def test_flatten_metrics_names_single_leaf_value(self):

    flat = release_manager.flatten_metrics(0.25)

    self.assertEqual(flat, {release_manager.TOP_LEVEL_NAME: 0.25})

  @parameterized.named_parameters(
      ('none', None, ''),
      ('python_float', 0.5, '0.5'),
      ('numpy_float32', np.float32(0.1), '0.1'),
      ('zero_d_array', np.array(3, np.int64), '3'),
      ('bool', True, 'True'),
      ('bytes', b'caf\xc3\xa9', 'café'),
      ('numpy_bytes', np.bytes_(b'ab'), 'ab'),
      ('array_as_json', np.array([[1, 2], [3, 4]]), '[[1, 2], [3, 4]]'),
      ('bytes_array_as_json', np.array([b'a', b'b']), '["a", "b"]'),
      ('string', 'fast', 'fast'),
  )
  def test_format_metric(self, leaf, expected):

    self.assertEqual(release_manager.format_metric(leaf), expected)

  @parameterized.named_parameters(
      ('int', 3, 3),
      ('numpy_int', np.int64(4), 4),
  )
  def test_check_key_returns_int(self, key, expected):

    checked = release_manager.check_key(key)

    self.assertEqual(checked, expected)
    self.assertIsInstance(checked, int)

  @parameterized.named_parameters(
      ('negative', -1, ValueError, 'non-negative key'),
      ('float', 1.0, TypeError, 'integer key'),
      ('string', '1', TypeError, 'integer key'),
      ('bool', True, TypeError, 'integer key'),
  )
  def test_check_key_raises(self, key, error, message):

    with self.assertRaisesRegex(error, message):
      release_manager.check_key(key)

  def test_release_manager_is_abstract(self):

    with self.assertRaises(TypeError):
      release_manager.ReleaseManager()


if __name__ == '__main__':
  absltest.main()
