import os

from absl.testing import absltest
import tensorflow as tf

from tffx.simulation import file_per_user_client_data

FilePerUserClientData = file_per_user_client_data.FilePerUserClientData


def _write_records(path, records):
  with tf.io.TFRecordWriter(path) as writer:
    for record in records:
      writer.write(record)


class FilePerUserClientDataTest(absltest.TestCase):

  def test_create_from_dir_reads_one_tfrecord_file_per_client(self):
    directory = self.create_tempdir().full_path
    _write_records(os.path.join(directory, 'alice'), [b'a1', b'a2'])
    _write_records(os.path.join(directory, 'bob'), [b'b1'])

    data = FilePerUserClientData.create_from_dir(directory)

    self.assertEqual(data.client_ids, ['alice', 'bob'])
    self.assertEqual(
        list(data.create_tf_dataset_for_client('alice').as_numpy_iterator()),
        [b'a1', b'a2'])
    self.assertEqual(data.element_type_structure,
                     tf.TensorSpec((), tf.string))

  def test_dataset_fn_receives_the_client_file_path(self):
    paths = {'x': '/data/x.txt', 'y': '/data/y.txt'}

    data = FilePerUserClientData(
        paths, lambda path: tf.data.Dataset.from_tensors(path))

    self.assertEqual(
        list(data.create_tf_dataset_for_client('y').as_numpy_iterator()),
        [b'/data/y.txt'])

  def test_raises_for_invalid_arguments(self):
    for mapping, dataset_fn, error in (
        ([('x', 'p')], tf.data.TFRecordDataset, TypeError),
        ({'x': 'p'}, 'not callable', TypeError),
        ({}, tf.data.TFRecordDataset, ValueError)):
      with self.subTest(error=error.__name__, mapping=mapping):

        with self.assertRaises(error):
          FilePerUserClientData(mapping, dataset_fn)


if __name__ == '__main__':
  absltest.main()
