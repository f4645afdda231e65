from absl.testing import absltest
import numpy as np

from tffx.program import client_id_data_source
from tffx.program import data_source
from tffx.types import computation_types as ct
from tffx.types import placements

_IDS = ['a', 'b', 'c', 'ü']


class ClientIdDataSourceTest(absltest.TestCase):

  def test_federated_type_is_string_at_clients(self):
    source = client_id_data_source.ClientIdDataSource(_IDS)

    self.assertIsInstance(source, data_source.FederatedDataSource)
    self.assertEqual(source.federated_type,
                     ct.FederatedType(np.str_, placements.CLIENTS))

  def test_select_returns_k_distinct_ids(self):
    iterator = client_id_data_source.ClientIdDataSource(_IDS).iterator()

    selected = iterator.select(3)

    self.assertLen(set(selected), 3)
    self.assertContainsSubset(selected, _IDS)

  def test_select_raises_value_error_for_bad_k(self):
    iterator = client_id_data_source.ClientIdDataSource(_IDS).iterator()
    for k in (None, -1, 5):
      with self.subTest(k=k):
        with self.assertRaises(ValueError):
          iterator.select(k)

  def test_iterator_round_trips_through_bytes(self):
    iterator = client_id_data_source.ClientIdDataSource(_IDS).iterator()

    restored = client_id_data_source.ClientIdDataSourceIterator.from_bytes(
        iterator.to_bytes())

    self.assertEqual(restored, iterator)
    self.assertCountEqual(restored.select(4), _IDS)

  def test_from_bytes_raises_value_error_for_cut_buffer(self):
    buffer = client_id_data_source.ClientIdDataSourceIterator(_IDS).to_bytes()
    with self.assertRaises(ValueError):
      client_id_data_source.ClientIdDataSourceIterator.from_bytes(buffer[:-1])

  def test_raises_for_empty_or_non_string_ids(self):
    with self.assertRaises(ValueError):
      client_id_data_source.ClientIdDataSource([])
    with self.assertRaises(TypeError):
      client_id_data_source.ClientIdDataSource([1, 2])
    with self.assertRaises(TypeError):
      client_id_data_source.ClientIdDataSource('abc')


if __name__ == '__main__':
  absltest.main()
