import collections
import os

from absl.testing import absltest
from absl.testing import parameterized
import h5py
import numpy as np
import tensorflow as tf

from tffx.simulation import errors
from tffx.simulation import hdf5_client_data

# Like federated EMNIST: `examples/<client_id>/{label, pixels}`, plus a
# text feature as in Shakespeare.
_CLIENTS = collections.OrderedDict([
    ('f0001_23', collections.OrderedDict(
        label=np.array([3, 1], np.int32),
        pixels=np.arange(2 * 4 * 4, dtype=np.float32).reshape([2, 4, 4]),
        snippets=np.array([b'to be', b'or not'], dtype=object))),
    ('f0000_14', collections.OrderedDict(
        label=np.array([9], np.int32),
        pixels=np.ones([1, 4, 4], np.float32),
        snippets=np.array([b'hi'], dtype=object))),
])


def _write(path, clients):
  with h5py.File(path, 'w') as f:
    examples = f.create_group('examples')
    for client_id, features in clients.items():
      group = examples.create_group(client_id)
      for name, values in features.items():
        if values.dtype == object:
          group.create_dataset(
              name, data=values, dtype=h5py.string_dtype(encoding='ascii'))
        else:
          group.create_dataset(name, data=values)
  return path


def _elements(dataset):
  return [tf.nest.map_structure(lambda t: np.asarray(t).tolist(), e)
          for e in dataset]


class HDF5ClientDataTest(parameterized.TestCase):

  def _file(self, clients=None):
    path = os.path.join(self.create_tempdir().full_path, 'data.h5')
    return _write(path, _CLIENTS if clients is None else clients)

  def test_client_ids_are_the_sorted_groups_under_examples(self):
    data = hdf5_client_data.HDF5ClientData(self._file())

    self.assertEqual(data.client_ids, ['f0000_14', 'f0001_23'])

  def test_element_type_structure_has_features_in_name_order(self):
    data = hdf5_client_data.HDF5ClientData(self._file())

    self.assertEqual(
        data.element_type_structure,
        collections.OrderedDict(
            label=tf.TensorSpec([], tf.int32),
            pixels=tf.TensorSpec([4, 4], tf.float32),
            snippets=tf.TensorSpec([], tf.string)))

  def test_create_tf_dataset_for_client_yields_the_written_examples(self):
    data = hdf5_client_data.HDF5ClientData(self._file())

    elements = _elements(data.create_tf_dataset_for_client('f0001_23'))

    self.assertLen(elements, 2)
    self.assertEqual([e['label'] for e in elements], [3, 1])
    self.assertEqual([e['snippets'] for e in elements], [b'to be', b'or not'])
    np.testing.assert_array_equal(
        [e['pixels'] for e in elements], _CLIENTS['f0001_23']['pixels'])

  def test_create_tf_dataset_from_all_clients_has_every_example(self):
    data = hdf5_client_data.HDF5ClientData(self._file())

    labels = [e['label'] for e in _elements(
        data.create_tf_dataset_from_all_clients(seed=0))]

    self.assertCountEqual(labels, [3, 1, 9])

  def test_preprocess_batches_each_client(self):
    data = hdf5_client_data.HDF5ClientData(self._file())

    batched = data.preprocess(lambda ds: ds.batch(5))

    batches = _elements(batched.create_tf_dataset_for_client('f0001_23'))
    self.assertEqual([b['label'] for b in batches], [[3, 1]])

  def test_create_tf_dataset_for_client_raises_unknown_client_id(self):
    data = hdf5_client_data.HDF5ClientData(self._file())

    with self.assertRaisesRegex(errors.UnknownClientIdError, 'f9999'):
      data.create_tf_dataset_for_client('f9999')

  def test_init_raises_missing_file(self):
    path = os.path.join(self.create_tempdir().full_path, 'absent.h5')

    with self.assertRaisesRegex(errors.ClientDataFileError,
                                'HDF5 file at .*absent.h5.*found nothing'):
      hdf5_client_data.HDF5ClientData(path)

  def test_init_raises_directory(self):
    path = self.create_tempdir().full_path

    with self.assertRaisesRegex(errors.ClientDataFileError,
                                'found a directory'):
      hdf5_client_data.HDF5ClientData(path)

  def test_init_raises_file_that_is_not_hdf5(self):
    path = self.create_tempfile('data.h5', content='label,pixels\n').full_path

    with self.assertRaisesRegex(errors.ClientDataFileError,
                                'h5py cannot read it'):
      hdf5_client_data.HDF5ClientData(path)

  def _file_with(self, build):
    path = os.path.join(self.create_tempdir().full_path, 'bad.h5')
    with h5py.File(path, 'w') as f:
      build(f)
    return path

  @parameterized.named_parameters(
      ('no_examples_group',
       lambda f: f.create_group('clients').create_group('a'),
       r"group `examples` at the root .*found the entries \['clients'\]"),
      ('examples_is_a_dataset',
       lambda f: f.create_dataset('examples', data=[1, 2]),
       'group `examples`'),
      ('no_clients', lambda f: f.create_group('examples'),
       'at least one client'),
      ('client_is_a_dataset',
       lambda f: f.create_group('examples').create_dataset('a', data=[1]),
       '`examples/a` .* to be a group'),
      ('client_without_features',
       lambda f: f.create_group('examples').create_group('a'),
       'at least one feature'),
      ('scalar_feature',
       lambda f: f.create_group('examples/a').create_dataset('label', data=3),
       '`examples/a/label` .* one row per example'),
      ('nested_group_feature',
       lambda f: f.create_group('examples/a/label'),
       '`examples/a/label` .* one row per example'),
  )
  def test_init_raises_wrong_layout(self, build, message):
    path = self._file_with(build)

    with self.assertRaisesRegex(errors.ClientDataFileError, message):
      hdf5_client_data.HDF5ClientData(path)

  @parameterized.named_parameters(
      ('unequal_feature_lengths', {
          'a': collections.OrderedDict(
              label=np.zeros([2], np.int32), pixels=np.zeros([3, 4])),
      }, r"same number of examples, found \[2, 3\]"),
      ('clients_with_different_features', {
          'a': collections.OrderedDict(label=np.zeros([2], np.int32)),
          'b': collections.OrderedDict(digit=np.zeros([2], np.int32)),
      }, "found .*digit.* for client 'b'"),
      ('clients_with_different_shapes', {
          'a': collections.OrderedDict(pixels=np.zeros([2, 4])),
          'b': collections.OrderedDict(pixels=np.zeros([2, 5])),
      }, "for client 'b'"),
  )
  def test_init_raises_inconsistent_clients(self, clients, message):
    path = self._file(clients)

    with self.assertRaisesRegex(errors.ClientDataFileError, message):
      hdf5_client_data.HDF5ClientData(path)


if __name__ == '__main__':
  absltest.main()
