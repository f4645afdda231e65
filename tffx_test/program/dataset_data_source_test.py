from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.program import data_source
from tffx.program import dataset_data_source
from tffx.types import computation_types as ct
from tffx.types import placements


def _datasets():
  return [tf.data.Dataset.from_tensor_slices(np.arange(n, dtype=np.int32))
          for n in (1, 2, 3)]


class DatasetDataSourceTest(absltest.TestCase):

  def test_federated_type_is_sequence_at_clients(self):
    source = dataset_data_source.DatasetDataSource(_datasets())

    self.assertIsInstance(source, data_source.FederatedDataSource)
    self.assertEqual(
        source.federated_type,
        ct.FederatedType(ct.SequenceType(ct.TensorType(np.int32, [])),
                         placements.CLIENTS))
    self.assertEqual(source.iterator().federated_type, source.federated_type)

  def test_select_returns_k_distinct_datasets(self):
    datasets = _datasets()
    iterator = dataset_data_source.DatasetDataSource(datasets).iterator()

    selected = iterator.select(3)

    self.assertLen(selected, 3)
    self.assertCountEqual([id(d) for d in selected], [id(d) for d in datasets])
    self.assertEqual(iterator.select(0), [])

  def test_select_raises_value_error_for_bad_k(self):
    iterator = dataset_data_source.DatasetDataSource(_datasets()).iterator()
    for k in (None, -1, 4):
      with self.subTest(k=k):
        with self.assertRaises(ValueError):
          iterator.select(k)

  def test_iterator_round_trips_through_bytes(self):
    iterator = dataset_data_source.DatasetDataSource(_datasets()).iterator()

    restored = dataset_data_source.DatasetDataSourceIterator.from_bytes(
        iterator.to_bytes())

    self.assertEqual(restored, iterator)
    self.assertEqual(restored.federated_type, iterator.federated_type)
    self.assertNotEqual(
        restored,
        dataset_data_source.DatasetDataSourceIterator(
            _datasets()[::-1], iterator.federated_type))

  def test_raises_value_error_for_empty_or_mixed_datasets(self):
    with self.assertRaises(ValueError):
      dataset_data_source.DatasetDataSource([])
    with self.assertRaises(ValueError):
      dataset_data_source.DatasetDataSource(
          [tf.data.Dataset.range(2), tf.data.Dataset.from_tensors('a')])

  def test_raises_type_error_for_non_datasets(self):
    with self.assertRaises(TypeError):
      dataset_data_source.DatasetDataSource([[1, 2]])


if __name__ == '__main__':
  absltest.main()
