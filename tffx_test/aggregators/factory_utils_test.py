from absl.testing import absltest
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import factory_utils
from tffx.aggregators import mean
from tffx.aggregators import sum_factory
from tffx.backends import reference
from tffx.types import computation_types as ct


class AsWeightedAggregatorTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_weights_are_ignored(self):
    aggregator = factory_utils.as_weighted_aggregator(
        mean.UnweightedMeanFactory())

    process = aggregator.create(ct.TensorType(np.float32),
                                ct.TensorType(np.float32))
    output = process.next(process.initialize(), [1.0, 3.0], [100.0, 1.0])

    self.assertIsInstance(aggregator, factory.WeightedAggregationFactory)
    self.assertTrue(process.is_weighted)
    self.assertEqual(float(output.result), 2.0)
    self.assertEqual(process.state_type,
                     mean.UnweightedMeanFactory().create(
                         ct.TensorType(np.float32)).state_type)

  def test_raises_for_weighted_factory(self):

    with self.assertRaises(errors.FactoryTypeError):
      factory_utils.as_weighted_aggregator(mean.MeanFactory())

  def test_raises_for_non_scalar_weight_type(self):
    aggregator = factory_utils.as_weighted_aggregator(sum_factory.SumFactory())

    with self.assertRaises(errors.UnsupportedValueTypeError):
      aggregator.create(ct.TensorType(np.float32),
                        ct.TensorType(np.float32, [2]))


if __name__ == '__main__':
  absltest.main()
