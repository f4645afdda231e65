import os
import sqlite3

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.simulation import errors
from tffx.simulation import sql_client_data


def _examples():
  return {
      'train': {
          'b': [{'x': 1}, {'x': 2}],
          'a': [{'x': 3}],
      },
      'test': {
          'a': [{'x': 4}],
          'c': [{'x': 5}, {'x': 6}, {'x': 7}],
      },
  }


def _parse_x(serialized):
  return tf.io.parse_single_example(
      serialized, {'x': tf.io.FixedLenFeature((), tf.int64)})['x']


class SqlClientDataTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.path = os.path.join(self.create_tempdir().full_path, 'data.sqlite')
    sql_client_data.write_database(self.path, _examples())

  def test_client_ids_are_sorted_and_filtered_by_split(self):

    all_clients = sql_client_data.SqlClientData(self.path)
    train = sql_client_data.SqlClientData(self.path, 'train')

    self.assertEqual(all_clients.client_ids, ['a', 'b', 'c'])
    self.assertEqual(train.client_ids, ['a', 'b'])
    self.assertEqual(train.element_type_structure,
                     tf.TensorSpec((), tf.string))

  def test_dataset_yields_serialized_examples_of_the_split(self):
    train = sql_client_data.SqlClientData(self.path, 'train')
    every_split = sql_client_data.SqlClientData(self.path)

    values = [int(_parse_x(e)) for e in train.create_tf_dataset_for_client('b')]
    a_everywhere = [int(_parse_x(e)) for e in
                    every_split.create_tf_dataset_for_client('a')]

    self.assertEqual(values, [1, 2])
    self.assertCountEqual(a_everywhere, [3, 4])

  def test_load_splits_parses_each_split(self):

    train, test = sql_client_data.load_splits(self.path, ('train', 'test'),
                                              _parse_x)

    self.assertEqual(test.client_ids, ['a', 'c'])
    self.assertEqual(
        list(test.create_tf_dataset_for_client('c').as_numpy_iterator()),
        [5, 6, 7])
    self.assertEqual(train.element_type_structure,
                     tf.TensorSpec((), tf.int64))

  def test_serialize_example_round_trips_arrays_and_strings(self):
    serialized = sql_client_data.serialize_example(
        {'pixels': np.arange(4, dtype=np.float32).reshape(2, 2),
         'name': 'abc'})

    parsed = tf.io.parse_single_example(serialized, {
        'pixels': tf.io.FixedLenFeature((2, 2), tf.float32),
        'name': tf.io.FixedLenFeature((), tf.string),
    })

    np.testing.assert_array_equal(parsed['pixels'], [[0, 1], [2, 3]])
    self.assertEqual(parsed['name'].numpy(), b'abc')

  def test_raises_database_format_error_for_missing_table(self):
    path = os.path.join(self.create_tempdir().full_path, 'bad.sqlite')
    connection = sqlite3.connect(path)
    connection.execute('CREATE TABLE examples (split_name TEXT);')
    connection.close()

    with self.assertRaisesRegex(errors.DatabaseFormatError,
                                'does not have the required'):
      sql_client_data.SqlClientData(path)

  def test_raises_database_format_error_for_missing_columns(self):
    path = os.path.join(self.create_tempdir().full_path, 'bad.sqlite')
    connection = sqlite3.connect(path)
    connection.execute('CREATE TABLE examples (split_name TEXT);')
    connection.execute('CREATE TABLE client_metadata (client_id TEXT);')
    connection.close()

    with self.assertRaisesRegex(errors.DatabaseFormatError,
                                'missing columns'):
      sql_client_data.SqlClientData(path)

  def test_raises_database_format_error_for_non_sqlite_file(self):
    path = self.create_tempfile(content='not a database').full_path

    with self.assertRaises(errors.DatabaseFormatError):
      sql_client_data.SqlClientData(path)

  def test_raises_client_data_file_error_for_missing_file(self):

    with self.assertRaises(errors.ClientDataFileError):
      sql_client_data.SqlClientData(self.path + '.missing')

  def test_raises_value_error_for_empty_split(self):

    with self.assertRaisesRegex(ValueError, 'heldout'):
      sql_client_data.SqlClientData(self.path, 'heldout')

  def test_write_database_refuses_existing_file(self):

    with self.assertRaises(FileExistsError):
      sql_client_data.write_database(self.path, _examples())


if __name__ == '__main__':
  absltest.main()
