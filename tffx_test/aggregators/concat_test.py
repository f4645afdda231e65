import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import concat
from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import mean
from tffx.aggregators import sum_factory
from tffx.backends import reference
from tffx.types import computation_types as ct

_STRUCT = ct.to_type(
    collections.OrderedDict(
        a=ct.TensorType(np.float32, [2, 2]), b=ct.TensorType(np.float32, [3])))


def _value(scale):
  return collections.OrderedDict(
      a=np.full((2, 2), scale, np.float32),
      b=np.arange(3, dtype=np.float32) * scale)


class ConcatFactoryTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_inner_process_sees_one_vector(self):
    seen = []

    class RecordingSum(factory.UnweightedAggregationFactory):

      def create(self, value_type):
        seen.append(value_type)
        return sum_factory.SumFactory().create(value_type)

    process = concat.concat_factory(RecordingSum()).create(_STRUCT)

    self.assertEqual(seen, [ct.TensorType(np.float32, [7])])
    self.assertTrue(process.next.type_signature.result.result.member
                    .is_equivalent_to(_STRUCT))

  def test_unweighted_sum_restores_structure(self):
    process = concat.concat_factory(sum_factory.SumFactory()).create(_STRUCT)

    output = process.next(process.initialize(), [_value(1.0), _value(2.0)])

    np.testing.assert_array_equal(output.result['a'], np.full((2, 2), 3.0))
    np.testing.assert_array_equal(output.result['b'], [0.0, 3.0, 6.0])

  def test_weighted_mean_keeps_inner_state_and_measurements(self):
    process = concat.concat_factory(mean.MeanFactory()).create(
        _STRUCT, ct.TensorType(np.float32))

    output = process.next(process.initialize(), [_value(1.0), _value(5.0)],
                          [3.0, 1.0])

    self.assertEqual(list(output.measurements), ['mean_value', 'mean_weight'])
    np.testing.assert_array_equal(output.result['a'], np.full((2, 2), 2.0))
    np.testing.assert_array_equal(output.result['b'], [0.0, 2.0, 4.0])

  @parameterized.named_parameters(
      ('mixed_dtypes',
       collections.OrderedDict(a=np.float32, b=np.float64)),
      ('unknown_shape', ct.TensorType(np.float32, [None])),
  )
  def test_raises_for_unsupported_value_type(self, value_type):

    with self.assertRaises(errors.UnsupportedValueTypeError):
      concat.concat_factory(sum_factory.SumFactory()).create(value_type)

  def test_raises_for_non_factory(self):

    with self.assertRaises(errors.FactoryTypeError):
      concat.concat_factory('sum')


if __name__ == '__main__':
  absltest.main()
