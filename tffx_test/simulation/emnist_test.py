import collections
import io
import lzma
import os
import tarfile

from absl.testing import absltest
from absl.testing import parameterized
import h5py
import numpy as np
import tensorflow as tf

from tffx.simulation import emnist
from tffx.simulation import errors
from tffx.simulation import sql_client_data


def _example(label):
  return {'label': label, 'pixels': np.full((28, 28), label / 10, np.float32)}


def _write_emnist_lzma(cache_dir):
  """TFF's emnist_all.sqlite.lzma layout, with two writers."""
  path = os.path.join(cache_dir, 'emnist_all.sqlite')
  sql_client_data.write_database(path, {
      'digits_only_train': {'w1': [_example(1), _example(2)],
                            'w2': [_example(3)]},
      'digits_only_test': {'w1': [_example(4)], 'w2': [_example(5)]},
      'all_train': {'w1': [_example(40)], 'w3': [_example(61)]},
      'all_test': {'w3': [_example(36)]},
  })
  with open(path, 'rb') as f, lzma.open(path + '.lzma', 'wb') as out:
    out.write(f.read())
  os.remove(path)


def _hdf5_bytes(clients):
  """An HDF5 file in older TFF releases' layout, examples/<client>/<feature>."""
  buffer = io.BytesIO()
  with h5py.File(buffer, 'w') as f:
    for client_id, labels in clients.items():
      group = f.create_group(f'examples/{client_id}')
      group['label'] = np.array(labels, np.int32)
      group['pixels'] = np.stack([_example(l)['pixels'] for l in labels])
  return buffer.getvalue()


def _write_legacy_archive(cache_dir):
  """fed_emnist_digitsonly.tar.bz2, as older TFF releases downloaded it."""
  directory = os.path.join(cache_dir, 'datasets')
  os.makedirs(directory)
  members = {
      'fed_emnist_digitsonly_train.h5': _hdf5_bytes({'f0': [1, 2], 'f1': [3]}),
      'fed_emnist_digitsonly_test.h5': _hdf5_bytes({'f0': [4]}),
  }
  with tarfile.open(os.path.join(directory, 'fed_emnist_digitsonly.tar.bz2'),
                    'w:bz2') as tar:
    for name, content in members.items():
      info = tarfile.TarInfo(name)
      info.size = len(content)
      tar.addfile(info, io.BytesIO(content))


class EmnistTest(parameterized.TestCase):

  def test_load_data_reads_digits_from_lzma_file_in_cache(self):
    cache_dir = self.create_tempdir().full_path
    _write_emnist_lzma(cache_dir)

    train, test = emnist.load_data(only_digits=True, cache_dir=cache_dir)

    self.assertEqual(train.client_ids, ['w1', 'w2'])
    self.assertEqual(
        train.element_type_structure,
        collections.OrderedDict(
            label=tf.TensorSpec((), tf.int32),
            pixels=tf.TensorSpec((28, 28), tf.float32)))
    elements = list(train.create_tf_dataset_for_client('w1'))
    self.assertEqual([int(e['label']) for e in elements], [1, 2])
    np.testing.assert_allclose(elements[1]['pixels'], np.full((28, 28), 0.2))
    self.assertEqual(
        [int(e['label']) for e in test.create_tf_dataset_for_client('w2')],
        [5])

  def test_load_data_reads_all_characters(self):
    cache_dir = self.create_tempdir().full_path
    _write_emnist_lzma(cache_dir)

    train, test = emnist.load_data(only_digits=False, cache_dir=cache_dir)

    self.assertEqual(train.client_ids, ['w1', 'w3'])
    self.assertEqual(test.client_ids, ['w3'])

  def test_get_synthetic_has_load_data_structure(self):
    cache_dir = self.create_tempdir().full_path
    _write_emnist_lzma(cache_dir)
    train, _ = emnist.load_data(cache_dir=cache_dir)

    synthetic = emnist.get_synthetic()

    self.assertEqual(synthetic.client_ids, ['synthetic1', 'synthetic2'])
    self.assertEqual(synthetic.element_type_structure,
                     train.element_type_structure)
    labels = [int(e['label']) for e in
              synthetic.create_tf_dataset_for_client('synthetic2')]
    self.assertEqual(labels, list(range(10)))

  def test_load_data_falls_back_to_older_hdf5_archive(self):
    cache_dir = self.create_tempdir().full_path
    _write_legacy_archive(cache_dir)

    train, test = emnist.load_data(only_digits=True, cache_dir=cache_dir)

    self.assertEqual(train.client_ids, ['f0', 'f1'])
    self.assertEqual(train.element_type_structure,
                     emnist.get_synthetic().element_type_structure)
    self.assertEqual(
        [int(e['label']) for e in train.create_tf_dataset_for_client('f0')],
        [1, 2])
    self.assertEqual(test.client_ids, ['f0'])

  def test_load_data_raises_not_found_with_files_to_place(self):
    cache_dir = self.create_tempdir().full_path

    with self.assertRaises(errors.DatasetFileNotFoundError) as cm:
      emnist.load_data(cache_dir=cache_dir)

    message = str(cm.exception)
    self.assertIn('emnist_all.sqlite.lzma', message)
    self.assertIn('fed_emnist_digitsonly_train.h5', message)
    self.assertIn(os.path.join(cache_dir, 'datasets'), message)


if __name__ == '__main__':
  absltest.main()
