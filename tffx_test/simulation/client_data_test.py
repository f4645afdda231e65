import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import errors


def _range_dataset_fn(client_id):
  # Client 'n' has the n elements [100 * n, 100 * n + n).
  n = tf.strings.to_number(client_id, tf.int64)
  return tf.data.Dataset.range(100 * n, 100 * n + n)


def _elements(dataset):
  return [e.numpy().tolist() for e in dataset]


def _numbered_client_data(num_clients):
  return client_data.ClientData.from_clients_and_tf_fn(
      [str(n) for n in range(1, num_clients + 1)], _range_dataset_fn)


class ClientDataTest(parameterized.TestCase):

  def test_from_clients_and_tf_fn_builds_dataset_from_id_tensor(self):
    data = _numbered_client_data(3)

    dataset = data.create_tf_dataset_for_client('2')

    self.assertEqual(_elements(dataset), [200, 201])

  def test_from_clients_and_tf_fn_keeps_client_ids_in_order(self):
    data = client_data.ClientData.from_clients_and_tf_fn(
        ['b', 'a', 'c'], lambda cid: tf.data.Dataset.from_tensors(cid))

    self.assertEqual(data.client_ids, ['b', 'a', 'c'])

  def test_element_type_structure_is_element_spec_of_client_datasets(self):
    data = client_data.ClientData.from_clients_and_tf_fn(
        ['a'], lambda cid: tf.data.Dataset.from_tensors(
            collections.OrderedDict(x=tf.zeros([2]), id=cid)))

    spec = data.element_type_structure

    self.assertEqual(
        spec,
        collections.OrderedDict(
            x=tf.TensorSpec([2], tf.float32), id=tf.TensorSpec([], tf.string)))

  def test_create_tf_dataset_for_client_raises_unknown_client_id(self):
    data = _numbered_client_data(3)

    with self.assertRaisesRegex(errors.UnknownClientIdError,
                                r"3 client ids.*found '7'"):
      data.create_tf_dataset_for_client('7')

  def test_create_tf_dataset_for_client_raises_type_error_non_string(self):
    data = _numbered_client_data(3)

    with self.assertRaisesRegex(TypeError, 'client id string'):
      data.create_tf_dataset_for_client(1)

  @parameterized.named_parameters(
      ('no_ids', [], _range_dataset_fn, ValueError, 'at least one'),
      ('repeated_id', ['1', '2', '1'], _range_dataset_fn, ValueError,
       r"unique client ids, found \['1'\]"),
      ('non_string_id', ['1', 2], _range_dataset_fn, TypeError,
       'to be strings'),
      ('fn_not_callable', ['1'], 'not a function', TypeError,
       'callable serializable_dataset_fn'),
      ('fn_returns_list', ['1'], lambda cid: [cid], TypeError,
       'serializable_dataset_fn to return a tf.data.Dataset, found list'),
  )
  def test_from_clients_and_tf_fn_raises(self, client_ids, fn, error,
                                         message):

    with self.assertRaisesRegex(error, message):
      client_data.ClientData.from_clients_and_tf_fn(client_ids, fn)

  def test_preprocess_applies_fn_to_each_client_separately(self):
    data = _numbered_client_data(3)

    batched = data.preprocess(lambda ds: ds.batch(2))

    self.assertEqual(batched.client_ids, ['1', '2', '3'])
    self.assertEqual(_elements(batched.create_tf_dataset_for_client('3')),
                     [[300, 301], [302]])
    self.assertEqual(batched.element_type_structure,
                     tf.TensorSpec([None], tf.int64))
    self.assertEqual(
        _elements(batched.create_tf_dataset_from_all_clients(seed=0)).count(
            [100]), 1)

  def test_preprocess_leaves_original_unchanged(self):
    data = _numbered_client_data(2)

    data.preprocess(lambda ds: ds.map(lambda x: x * 0))

    self.assertEqual(_elements(data.create_tf_dataset_for_client('2')),
                     [200, 201])

  def test_preprocess_composes(self):
    data = _numbered_client_data(3)

    twice = data.preprocess(lambda ds: ds.map(lambda x: x + 1)).preprocess(
        lambda ds: ds.map(lambda x: x * 2))

    self.assertEqual(_elements(twice.create_tf_dataset_for_client('2')),
                     [402, 404])

  @parameterized.named_parameters(
      ('not_callable', 3, 'callable preprocess_fn'),
      ('returns_tensor', lambda ds: tf.constant(1),
       'preprocess_fn to return a tf.data.Dataset'),
  )
  def test_preprocess_raises_type_error(self, fn, message):
    data = _numbered_client_data(2)

    with self.assertRaisesRegex(TypeError, message):
      data.preprocess(fn)

  @parameterized.parameters(1, 2, 5, 37)
  def test_create_tf_dataset_from_all_clients_has_every_element_once(
      self, num_clients):
    data = _numbered_client_data(num_clients)
    expected = sorted(100 * n + i for n in range(1, num_clients + 1)
                      for i in range(n))

    elements = _elements(data.create_tf_dataset_from_all_clients(seed=3))

    self.assertEqual(sorted(elements), expected)

  def test_create_tf_dataset_from_all_clients_keeps_clients_contiguous(self):
    data = _numbered_client_data(6)

    elements = _elements(data.create_tf_dataset_from_all_clients(seed=5))

    clients = [e // 100 for e in elements]
    runs = [c for i, c in enumerate(clients) if i == 0 or clients[i - 1] != c]
    self.assertCountEqual(runs, range(1, 7))

  def test_create_tf_dataset_from_all_clients_order_is_fixed_by_seed(self):
    data = _numbered_client_data(8)

    first = _elements(data.create_tf_dataset_from_all_clients(seed=11))
    again = _elements(data.create_tf_dataset_from_all_clients(seed=11))
    other = _elements(data.create_tf_dataset_from_all_clients(seed=12))

    self.assertEqual(first, again)
    self.assertNotEqual(first, other)

  def test_datasets_yields_limit_count_distinct_clients(self):
    data = _numbered_client_data(5)

    datasets = list(data.datasets(limit_count=3, seed=1))

    firsts = [_elements(d)[0] // 100 for d in datasets]
    self.assertLen(firsts, 3)
    self.assertLen(set(firsts), 3)

  def test_datasets_yields_every_client_without_limit(self):
    data = _numbered_client_data(4)

    firsts = [_elements(d)[0] // 100 for d in data.datasets(seed=2)]

    self.assertCountEqual(firsts, [1, 2, 3, 4])

  def test_datasets_raises_value_error_negative_limit(self):
    data = _numbered_client_data(2)

    with self.assertRaisesRegex(ValueError, 'non-negative limit_count'):
      next(data.datasets(limit_count=-1))

  def test_subclass_without_abstract_methods_cannot_be_built(self):

    class Incomplete(client_data.ClientData):

      @property
      def client_ids(self):
        return ['a']

    with self.assertRaises(TypeError):
      Incomplete()

  def test_subclass_gets_checked_create_tf_dataset_for_client(self):

    class Squares(client_data.ClientData):

      @property
      def client_ids(self):
        return ['2', '3']

      @property
      def element_type_structure(self):
        return tf.TensorSpec([], tf.int64)

      def _create_dataset(self, client_id):
        return tf.data.Dataset.from_tensor_slices(
            np.arange(int(client_id))**2)

    data = Squares()

    self.assertEqual(_elements(data.create_tf_dataset_for_client('3')),
                     [0, 1, 4])
    with self.assertRaises(errors.UnknownClientIdError):
      data.create_tf_dataset_for_client('4')


if __name__ == '__main__':
  absltest.main()
