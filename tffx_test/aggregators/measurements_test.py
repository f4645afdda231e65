import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import mean
from tffx.aggregators import measurements
from tffx.aggregators import sum_factory
from tffx.backends import reference
from tffx.computations import intrinsics
from tffx.types import computation_types as ct

_VALUE = ct.TensorType(np.float32, [2])
_WEIGHT = ct.TensorType(np.float32)


def _max_of_values(value):
  return collections.OrderedDict(max_value=intrinsics.federated_max(value))


class AddMeasurementsTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_unweighted_adds_measurement_of_client_values(self):
    aggregator = measurements.add_measurements(mean.UnweightedMeanFactory(),
                                               _max_of_values)

    process = aggregator.create(_VALUE)
    output = process.next(process.initialize(), [[1.0, 2.0], [3.0, 5.0]])

    self.assertIsInstance(aggregator, factory.UnweightedAggregationFactory)
    self.assertEqual(
        str(process.next.type_signature.result.measurements),
        '<mean_value=<>,mean_count=<>,max_value=float32[2]>@SERVER')
    np.testing.assert_array_equal(output.measurements['max_value'], [3, 5])
    np.testing.assert_array_equal(output.result, [2.0, 3.5])

  def test_weighted_passes_value_and_weight(self):
    aggregator = measurements.add_measurements(
        mean.MeanFactory(),
        lambda value, weight: {'total_weight': intrinsics.federated_sum(
            weight)})

    process = aggregator.create(_VALUE, _WEIGHT)
    output = process.next(process.initialize(), [[1.0, 2.0], [3.0, 5.0]],
                          [1.0, 3.0])

    self.assertIsInstance(aggregator, factory.WeightedAggregationFactory)
    self.assertEqual(float(output.measurements['total_weight']), 4.0)
    np.testing.assert_array_equal(output.result, [2.5, 4.25])

  def test_server_placed_input_sees_the_result(self):
    aggregator = measurements.add_measurements(
        sum_factory.SumFactory(), lambda result: {'sum': result},
        client_placed_input=False)

    process = aggregator.create(_VALUE)
    output = process.next(process.initialize(), [[1.0, 2.0], [3.0, 5.0]])

    np.testing.assert_array_equal(output.measurements['sum'], [4.0, 7.0])

  @parameterized.named_parameters(
      ('unweighted_two_params', sum_factory.SumFactory(),
       lambda v, w: {}, True),
      ('weighted_one_param', mean.MeanFactory(), lambda v: {}, True),
      ('server_two_params', mean.MeanFactory(), lambda v, w: {}, False),
  )
  def test_raises_value_error_for_wrong_parameter_count(
      self, inner, fn, client_placed_input):

    with self.assertRaisesRegex(ValueError, 'measurement_fn'):
      measurements.add_measurements(inner, fn, client_placed_input)

  def test_raises_for_non_factory_or_non_callable(self):

    with self.assertRaises(errors.FactoryTypeError):
      measurements.add_measurements('sum', _max_of_values)
    with self.assertRaises(TypeError):
      measurements.add_measurements(sum_factory.SumFactory(), 'fn')


if __name__ == '__main__':
  absltest.main()
