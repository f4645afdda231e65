import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import sum_factory
from tffx.templates import aggregation_process
from tffx.types import computation_types as ct

_STRUCT = collections.OrderedDict(a=np.float32,
                                  b=[ct.TensorType(np.int64, [2])])


class SumFactoryTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('float_scalar', np.float32, 'float32'),
      ('int_vector', ct.TensorType(np.int32, [3]), 'int32[3]'),
      ('struct', _STRUCT, '<a=float32,b=<int64[2]>>'),
  )
  def test_create_gives_stateless_process_of_value_type(self, value_type,
                                                        member):

    process = sum_factory.SumFactory().create(value_type)

    self.assertIsInstance(process, aggregation_process.AggregationProcess)
    self.assertFalse(process.is_weighted)
    self.assertEqual(
        str(process.next.type_signature),
        f'(<state=<>@SERVER,value={{{member}}}@CLIENTS> -> <state=<>@SERVER,'
        f'result={member}@SERVER,measurements=<>@SERVER>)')

  def test_next_sums_float_scalars(self):
    process = sum_factory.SumFactory().create(np.float32)

    output = process.next(process.initialize(), [1.5, 2.0, -0.25])

    self.assertEqual(output.result, 3.25)
    self.assertEqual(output.state, ())
    self.assertEqual(output.measurements, ())

  def test_next_sums_structs_element_wise(self):
    process = sum_factory.SumFactory().create(_STRUCT)
    values = [
        collections.OrderedDict(a=1.0, b=[np.int64([1, 2])]),
        collections.OrderedDict(a=0.5, b=[np.int64([10, -20])]),
    ]

    output = process.next(process.initialize(), values)

    self.assertIsInstance(output.result, collections.OrderedDict)
    self.assertEqual(output.result['a'], 1.5)
    np.testing.assert_array_equal(output.result['b'][0], [11, -18])

  def test_next_of_no_client_is_zero(self):
    process = sum_factory.SumFactory().create(ct.TensorType(np.int32, [2]))

    output = process.next(process.initialize(), [])

    np.testing.assert_array_equal(output.result, [0, 0])

  @parameterized.named_parameters(
      ('string', np.str_),
      ('bool', np.bool_),
      ('sequence', ct.SequenceType(np.float32)),
      ('struct_with_string', [np.float32, np.str_]),
      ('federated', ct.type_at_clients(np.float32)),
      ('not_a_type', 'not a type spec'),
  )
  def test_create_refuses_value_type_that_cannot_be_summed(self, value_type):

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError,
                                'SumFactory.create expects `value_type`'):
      sum_factory.SumFactory().create(value_type)


if __name__ == '__main__':
  absltest.main()
