import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import errors
from tffx.simulation import tensor_slices_client_data

TestClientData = tensor_slices_client_data.TestClientData


def _example_dict():
  return {
      'bob': collections.OrderedDict(
          x=np.array([[1.0, 2.0]], np.float32), y=np.array([7], np.int32)),
      'alice': collections.OrderedDict(
          x=np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], np.float32),
          y=np.array([0, 1, 2], np.int32)),
  }


def _elements(dataset):
  return [tf.nest.map_structure(lambda t: np.asarray(t).tolist(), e)
          for e in dataset]


class TestClientDataTest(parameterized.TestCase):

  def test_client_ids_are_sorted(self):
    data = TestClientData(_example_dict())

    self.assertEqual(data.client_ids, ['alice', 'bob'])

  def test_element_type_structure_drops_example_dimension(self):
    data = TestClientData(_example_dict())

    self.assertEqual(
        data.element_type_structure,
        collections.OrderedDict(
            x=tf.TensorSpec([2], tf.float32), y=tf.TensorSpec([], tf.int32)))

  def test_create_tf_dataset_for_client_yields_one_element_per_slice(self):
    data = TestClientData(_example_dict())

    elements = _elements(data.create_tf_dataset_for_client('alice'))

    self.assertEqual(elements, [
        collections.OrderedDict(x=[0.0, 1.0], y=0),
        collections.OrderedDict(x=[2.0, 3.0], y=1),
        collections.OrderedDict(x=[4.0, 5.0], y=2),
    ])

  def test_num_examples_counts_slices(self):
    data = TestClientData(_example_dict())

    self.assertEqual([data.num_examples(i) for i in data.client_ids], [3, 1])

  def test_num_examples_raises_unknown_client_id(self):
    data = TestClientData(_example_dict())

    with self.assertRaises(errors.UnknownClientIdError):
      data.num_examples('carol')

  def test_values_may_be_plain_lists_and_strings(self):
    data = TestClientData({'a': [1, 2, 3], 'b': [4]})
    words = TestClientData({'a': ['hi', 'there']})

    self.assertEqual(_elements(data.create_tf_dataset_for_client('a')),
                     [1, 2, 3])
    self.assertEqual(words.element_type_structure,
                     tf.TensorSpec([], tf.string))
    self.assertEqual(_elements(words.create_tf_dataset_for_client('a')),
                     [b'hi', b'there'])

  def test_input_arrays_are_copied_into_dataset_values(self):
    arrays = _example_dict()
    data = TestClientData(arrays)

    arrays['bob']['y'] = np.array([99], np.int32)

    self.assertEqual(_elements(data.create_tf_dataset_for_client('bob')),
                     [collections.OrderedDict(x=[1.0, 2.0], y=7)])

  def test_create_tf_dataset_from_all_clients_matches_generic_concatenation(
      self):
    data = TestClientData({str(i): np.arange(i, 2 * i) for i in range(1, 9)})

    fast = _elements(data.create_tf_dataset_from_all_clients(seed=4))
    generic = _elements(
        client_data.ClientData.create_tf_dataset_from_all_clients(data, seed=4))

    self.assertEqual(fast, generic)
    self.assertLen(fast, sum(range(1, 9)))

  def test_preprocess_returns_client_data_with_same_clients(self):
    data = TestClientData(_example_dict())

    batched = data.preprocess(lambda ds: ds.batch(2))

    self.assertEqual(batched.client_ids, ['alice', 'bob'])
    self.assertEqual(
        [e['y'] for e in _elements(batched.create_tf_dataset_for_client(
            'alice'))], [[0, 1], [2]])

  @parameterized.named_parameters(
      ('not_a_mapping', [np.zeros(2)], TypeError, 'mapping from client ids'),
      ('empty', {}, ValueError, 'at least one client id'),
      ('non_string_id', {1: np.zeros(2)}, TypeError, 'to be strings'),
      ('scalar_leaf', {'a': np.float32(1.0)}, ValueError,
       "first dimension .* client 'a'"),
      ('unequal_lengths', {'a': collections.OrderedDict(
          x=np.zeros([2, 3]), y=np.zeros([3]))}, ValueError,
       r'same first dimension .* found \[2, 3\]'),
      ('different_structure', {
          'a': collections.OrderedDict(x=np.zeros([2])),
          'b': collections.OrderedDict(z=np.zeros([2])),
      }, ValueError, "found .* for client 'b'"),
      ('different_dtype', {
          'a': np.zeros([2], np.float32), 'b': np.zeros([2], np.int32)
      }, ValueError, "for client 'b'"),
      ('different_example_shape', {
          'a': np.zeros([2, 3]), 'b': np.zeros([2, 4])
      }, ValueError, "for client 'b'"),
      ('no_arrays', {'a': collections.OrderedDict()}, ValueError,
       'at least one array'),
  )
  def test_init_raises(self, tensor_slices_dict, error, message):

    with self.assertRaisesRegex(error, message):
      TestClientData(tensor_slices_dict)


if __name__ == '__main__':
  absltest.main()
