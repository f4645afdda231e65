"""TFF's tutorial "Implementing Custom Aggregations", run on tffx.

`ExampleTaskFactory` grows as in the tutorial: a stateless scaled sum, then
state (a round counter that sets the scaling factor), measurements, structured
values, and delegation to an inner aggregation factory. The checks compare the
printed type signatures with the tutorial's and the results with the sums
computed by hand (the tutorial's "expected 8.0").
"""

import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff


@tff.tensorflow.computation()
def scale(value, factor):
  return tf.nest.map_structure(lambda x: x * factor, value)


@tff.tensorflow.computation()
def unscale(value, factor):
  return tf.nest.map_structure(lambda x: x / factor, value)


@tff.tensorflow.computation()
def add_one(value):
  return value + 1.0


class ExampleTaskFactory(tff.aggregators.UnweightedAggregationFactory):
  """The tutorial's first, stateless version."""

  def create(self, value_type):

    @tff.federated_computation()
    def initialize_fn():
      return tff.federated_value((), tff.SERVER)

    @tff.federated_computation(initialize_fn.type_signature.result,
                               tff.FederatedType(value_type, tff.CLIENTS))
    def next_fn(state, value):
      scaling_factor = tff.federated_value(1000.0, tff.SERVER)
      scaled_value = tff.federated_map(
          scale, (value, tff.federated_broadcast(scaling_factor)))
      summed_value = tff.federated_sum(scaled_value)
      unscaled_value = tff.federated_map(unscale,
                                         (summed_value, scaling_factor))
      measurements = tff.federated_value((), tff.SERVER)
      return tff.templates.MeasuredProcessOutput(
          state=state, result=unscaled_value, measurements=measurements)

    return tff.templates.AggregationProcess(initialize_fn, next_fn)


class StatefulExampleTaskFactory(tff.aggregators.UnweightedAggregationFactory):
  """With state (the round count) and measurements (the scaled sum)."""

  def create(self, value_type):

    @tff.federated_computation()
    def initialize_fn():
      return tff.federated_value(0.0, tff.SERVER)

    @tff.federated_computation(initialize_fn.type_signature.result,
                               tff.FederatedType(value_type, tff.CLIENTS))
    def next_fn(state, value):
      new_state = tff.federated_map(add_one, state)
      state_at_clients = tff.federated_broadcast(new_state)
      scaled_value = tff.federated_map(scale, (value, state_at_clients))
      summed_value = tff.federated_sum(scaled_value)
      unscaled_value = tff.federated_map(unscale, (summed_value, new_state))
      return tff.templates.MeasuredProcessOutput(
          state=new_state, result=unscaled_value, measurements=summed_value)

    return tff.templates.AggregationProcess(initialize_fn, next_fn)


class InnerExampleTaskFactory(tff.aggregators.UnweightedAggregationFactory):
  """Delegates the aggregation of the scaled values to an inner factory."""

  def __init__(self, inner_factory=None):
    if inner_factory is None:
      inner_factory = tff.aggregators.SumFactory()
    self._inner_factory = inner_factory

  def create(self, value_type):
    inner_process = self._inner_factory.create(value_type)

    @tff.federated_computation()
    def initialize_fn():
      my_state = tff.federated_value(0.0, tff.SERVER)
      inner_state = inner_process.initialize()
      return tff.federated_zip((my_state, inner_state))

    @tff.federated_computation(initialize_fn.type_signature.result,
                               tff.FederatedType(value_type, tff.CLIENTS))
    def next_fn(state, value):
      my_state, inner_state = state
      my_new_state = tff.federated_map(add_one, my_state)
      my_state_at_clients = tff.federated_broadcast(my_new_state)
      scaled_value = tff.federated_map(scale, (value, my_state_at_clients))

      # Delegation to an inner factory, returning values placed at SERVER.
      inner_output = inner_process.next(inner_state, scaled_value)

      unscaled_value = tff.federated_map(unscale,
                                         (inner_output.result, my_new_state))

      new_state = tff.federated_zip((my_new_state, inner_output.state))
      measurements = tff.federated_zip(
          collections.OrderedDict(
              scaled_value=inner_output.result,
              example_task=inner_output.measurements))

      return tff.templates.MeasuredProcessOutput(
          state=new_state, result=unscaled_value, measurements=measurements)

    return tff.templates.AggregationProcess(initialize_fn, next_fn)


class CustomAggregatorsTest(absltest.TestCase):

  def test_stateless_scaled_sum(self):
    client_data = [1.0, 2.0, 5.0]
    factory = ExampleTaskFactory()
    aggregation_process = factory.create(tff.TensorType(np.float32))

    state = aggregation_process.initialize()
    output = aggregation_process.next(state, client_data)

    self.assertEqual(
        str(aggregation_process.initialize.type_signature), '( -> <>@SERVER)')
    self.assertEqual(
        str(aggregation_process.next.type_signature),
        '(<state=<>@SERVER,value={float32}@CLIENTS> -> <state=<>@SERVER,'
        'result=float32@SERVER,measurements=<>@SERVER>)')
    self.assertFalse(aggregation_process.is_weighted)
    self.assertAlmostEqual(output.result, 8.0, places=5)
    self.assertEqual(output.state, ())
    self.assertEqual(output.measurements, ())

  def test_state_counts_rounds_and_measurements_are_scaled_sums(self):
    client_data = [1.0, 2.0, 5.0]
    factory = StatefulExampleTaskFactory()
    aggregation_process = factory.create(tff.TensorType(np.float32))

    state = aggregation_process.initialize()
    output = aggregation_process.next(state, client_data)
    second = aggregation_process.next(output.state, client_data)

    self.assertEqual(
        str(aggregation_process.next.type_signature),
        '(<state=float32@SERVER,value={float32}@CLIENTS> -> '
        '<state=float32@SERVER,result=float32@SERVER,'
        'measurements=float32@SERVER>)')
    self.assertEqual(state, 0.0)
    self.assertEqual((output.state, second.state), (1.0, 2.0))
    self.assertAlmostEqual(output.result, 8.0, places=5)
    self.assertAlmostEqual(second.result, 8.0, places=5)
    self.assertAlmostEqual(output.measurements, 8.0, places=5)
    self.assertAlmostEqual(second.measurements, 16.0, places=5)

  def test_structured_values_are_aggregated_per_tensor(self):
    client_data = [[[1.0, 2.0], [3.0, 4.0, 5.0]],
                   [[1.0, 1.0], [3.0, 0.0, -5.0]]]
    factory = StatefulExampleTaskFactory()
    aggregation_process = factory.create(
        tff.to_type([(np.float32, (2,)), (np.float32, (3,))]))

    output = aggregation_process.next(aggregation_process.initialize(),
                                      client_data)

    self.assertEqual(
        str(aggregation_process.next.type_signature),
        '(<state=float32@SERVER,value={<float32[2],float32[3]>}@CLIENTS> -> '
        '<state=float32@SERVER,result=<float32[2],float32[3]>@SERVER,'
        'measurements=<float32[2],float32[3]>@SERVER>)')
    np.testing.assert_allclose(output.result[0], [2.0, 3.0])
    np.testing.assert_allclose(output.result[1], [6.0, 4.0, 0.0])

  def test_inner_sum_factory(self):
    client_data = [1.0, 2.0, 5.0]
    factory = InnerExampleTaskFactory()
    aggregation_process = factory.create(tff.TensorType(np.float32))

    state = aggregation_process.initialize()
    output = aggregation_process.next(state, client_data)
    second = aggregation_process.next(output.state, client_data)

    self.assertEqual(
        str(aggregation_process.next.type_signature),
        '(<state=<float32,<>>@SERVER,value={float32}@CLIENTS> -> '
        '<state=<float32,<>>@SERVER,result=float32@SERVER,'
        'measurements=<scaled_value=float32,example_task=<>>@SERVER>)')
    self.assertAlmostEqual(output.result, 8.0, places=5)
    self.assertAlmostEqual(output.measurements['scaled_value'], 8.0, places=5)
    self.assertEqual(output.measurements['example_task'], ())
    self.assertAlmostEqual(second.result, 8.0, places=5)
    self.assertAlmostEqual(second.measurements['scaled_value'], 16.0, places=5)

  def test_inner_unweighted_mean_factory(self):
    client_data = [1.0, 2.0, 5.0]
    factory = InnerExampleTaskFactory(tff.aggregators.UnweightedMeanFactory())
    aggregation_process = factory.create(tff.TensorType(np.float32))

    output = aggregation_process.next(aggregation_process.initialize(),
                                      client_data)

    self.assertAlmostEqual(output.result, 8.0 / 3.0, places=5)
    self.assertAlmostEqual(output.measurements['scaled_value'], 8.0 / 3.0,
                           places=5)
    self.assertEqual(output.measurements['example_task'],
                     collections.OrderedDict(mean_value=(), mean_count=()))

  def test_weighted_mean_with_custom_inner_factory(self):
    factory = tff.aggregators.MeanFactory(
        value_sum_factory=InnerExampleTaskFactory())
    aggregation_process = factory.create(
        tff.TensorType(np.float32), tff.TensorType(np.float32))

    output = aggregation_process.next(aggregation_process.initialize(),
                                      [1.0, 2.0, 5.0], [1.0, 1.0, 2.0])

    self.assertTrue(aggregation_process.is_weighted)
    self.assertAlmostEqual(output.result, (1.0 + 2.0 + 10.0) / 4.0, places=5)


if __name__ == '__main__':
  absltest.main()
