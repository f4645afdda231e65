import collections
import os

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.simulation import errors
from tffx.simulation import sql_client_data_utils
from tffx.simulation import tensor_slices_client_data

_SPEC = collections.OrderedDict(
    label=tf.TensorSpec((), tf.int32),
    pixels=tf.TensorSpec((2, 2), tf.float32),
    name=tf.TensorSpec((), tf.string))


def _source():
  return tensor_slices_client_data.TestClientData({
      'a': collections.OrderedDict(
          label=np.array([1, 2], np.int32),
          pixels=np.arange(8, dtype=np.float32).reshape(2, 2, 2),
          name=[b'x', b'y']),
      'b': collections.OrderedDict(
          label=np.array([3], np.int32),
          pixels=np.ones((1, 2, 2), np.float32),
          name=[b'z']),
  })


class SqlClientDataUtilsTest(absltest.TestCase):

  def test_save_then_load_round_trips_client_datasets(self):
    source = _source()
    path = os.path.join(self.create_tempdir().full_path, 'sub', 'fl.sqlite')

    sql_client_data_utils.save_to_sql_client_data(
        source.client_ids, source.create_tf_dataset_for_client, path)
    loaded = sql_client_data_utils.load_and_parse_sql_client_data(path, _SPEC)

    self.assertEqual(loaded.client_ids, ['a', 'b'])
    self.assertEqual(loaded.element_type_structure, _SPEC)
    elements = list(loaded.create_tf_dataset_for_client('a'))
    self.assertEqual([int(e['label']) for e in elements], [1, 2])
    np.testing.assert_array_equal(elements[1]['pixels'], [[4, 5], [6, 7]])
    self.assertEqual(elements[0]['name'].numpy(), b'x')

  def test_save_refuses_existing_file_unless_allowed(self):
    source = _source()
    path = self.create_tempfile().full_path

    with self.assertRaises(FileExistsError):
      sql_client_data_utils.save_to_sql_client_data(
          source.client_ids, source.create_tf_dataset_for_client, path)
    sql_client_data_utils.save_to_sql_client_data(
        ['b'], source.create_tf_dataset_for_client, path,
        allow_overwrite=True)

    loaded = sql_client_data_utils.load_and_parse_sql_client_data(path, _SPEC)
    self.assertEqual(loaded.client_ids, ['b'])

  def test_save_raises_for_non_mapping_elements(self):
    path = os.path.join(self.create_tempdir().full_path, 'x.sqlite')

    with self.assertRaises(errors.ElementSpecCompatibilityError):
      sql_client_data_utils.save_to_sql_client_data(
          ['a'], lambda _: tf.data.Dataset.range(3), path)

  def test_save_raises_for_differing_element_specs(self):
    path = os.path.join(self.create_tempdir().full_path, 'x.sqlite')

    def dataset_fn(client_id):
      dtype = tf.int32 if client_id == 'a' else tf.int64
      return tf.data.Dataset.from_tensor_slices(
          {'x': tf.constant([1], dtype)})

    with self.assertRaises(errors.ElementSpecCompatibilityError):
      sql_client_data_utils.save_to_sql_client_data(['a', 'b'], dataset_fn,
                                                    path)

  def test_load_raises_for_missing_file_or_bad_spec(self):
    path = os.path.join(self.create_tempdir().full_path, 'missing.sqlite')

    with self.assertRaises(FileNotFoundError):
      sql_client_data_utils.load_and_parse_sql_client_data(path, _SPEC)
    with self.assertRaises(errors.ElementSpecCompatibilityError):
      sql_client_data_utils.load_and_parse_sql_client_data(
          path, {'x': tf.int32})


if __name__ == '__main__':
  absltest.main()
