from absl.testing import absltest
import numpy as np

from tffx.program import data_source
from tffx.types import computation_types as ct


class DataSourceHelpersTest(absltest.TestCase):

  def test_fields_round_trip_including_empty_ones(self):
    fields = [b'abc', b'', b'\x00' * 9]

    self.assertEqual(
        data_source.unpack_fields(data_source.pack_fields(fields)), fields)

  def test_unpack_raises_value_error_for_cut_buffer(self):
    buffer = data_source.pack_fields([b'abc'])

    for end in (3, len(buffer) - 1):
      with self.subTest(end=end):
        with self.assertRaises(ValueError):
          data_source.unpack_fields(buffer[:end])

  def test_federated_type_round_trips(self):
    federated_type = ct.type_at_clients(ct.SequenceType(np.int32))

    self.assertEqual(
        data_source.unpack_federated_type(
            data_source.pack_type(federated_type)), federated_type)

  def test_unpack_federated_type_raises_type_error_for_other_type(self):
    with self.assertRaises(TypeError):
      data_source.unpack_federated_type(
          data_source.pack_type(ct.TensorType(np.int32)))

  def test_check_k_accepts_zero_to_count(self):
    self.assertEqual(data_source.check_k(0, 2, 'x'), 0)
    self.assertEqual(data_source.check_k(2, 2, 'x'), 2)
    with self.assertRaises(TypeError):
      data_source.check_k(1.0, 2, 'x')

  def test_interfaces_are_abstract(self):
    with self.assertRaises(TypeError):
      data_source.FederatedDataSource()
    with self.assertRaises(TypeError):
      data_source.FederatedDataSourceIterator()


if __name__ == '__main__':
  absltest.main()
