import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.simulation import tensor_slices_client_data
from tffx.simulation import transforming_client_data

TransformingClientData = transforming_client_data.TransformingClientData


def _base():
  return tensor_slices_client_data.TestClientData({
      'a': collections.OrderedDict(x=[1, 2]),
      'b': collections.OrderedDict(x=[10]),
  })


def _add_suffix_number(client_id):
  offset = int(client_id.split('-')[1]) if '-' in client_id else 0
  return lambda e: collections.OrderedDict(x=e['x'] + offset)


class TransformingClientDataTest(absltest.TestCase):

  def test_transform_without_expansion_keeps_client_ids(self):

    data = TransformingClientData(
        _base(), lambda _: lambda e: collections.OrderedDict(x=e['x'] * 2))

    self.assertEqual(data.client_ids, ['a', 'b'])
    self.assertEqual(
        [int(e['x']) for e in data.create_tf_dataset_for_client('a')], [2, 4])

  def test_expansion_makes_pseudo_clients(self):

    data = TransformingClientData(
        _base(), _add_suffix_number,
        expand_client_id=lambda c: [f'{c}-0', f'{c}-1', f'{c}-2'],
        reduce_client_id=lambda c: c.split('-')[0])

    self.assertEqual(data.client_ids,
                     ['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2'])
    self.assertEqual(
        [int(e['x']) for e in data.create_tf_dataset_for_client('a-2')],
        [3, 4])
    self.assertEqual(data.element_type_structure,
                     collections.OrderedDict(x=tf.TensorSpec((), tf.int64)))

  def test_reduce_client_id_may_return_a_string_tensor(self):

    data = TransformingClientData(
        _base(), _add_suffix_number,
        expand_client_id=lambda c: [f'{c}-5'],
        reduce_client_id=lambda c: tf.strings.split(c, '-')[0])

    np.testing.assert_array_equal(
        [int(e['x']) for e in data.create_tf_dataset_for_client('b-5')], [15])

  def test_raises_value_error_for_only_one_id_function(self):

    with self.assertRaisesRegex(ValueError, 'both or neither'):
      TransformingClientData(_base(), _add_suffix_number,
                             expand_client_id=lambda c: [c])

  def test_raises_type_error_for_non_client_data(self):

    with self.assertRaises(TypeError):
      TransformingClientData({'a': [1]}, _add_suffix_number)


if __name__ == '__main__':
  absltest.main()
