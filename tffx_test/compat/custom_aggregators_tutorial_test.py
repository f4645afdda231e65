"""TFF's tutorial "Implementing Custom Aggregations", run on tffx.

`ExampleTaskFactory` grows as in the tutorial: the minimal version (scale by
2, sum, unscale), state (the iteration index) and measurements (the scaled
sum), structured values (`tf.nest` in the TensorFlow computations), and
delegation to an inner aggregation factory, composed with itself. Each step
prints what the tutorial prints; the checks compare those lines with the
tutorial's output.
"""

import collections
import contextlib
import io

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff


def _printed(fn):
  output = io.StringIO()
  with contextlib.redirect_stdout(output):
    fn()
  return output.getvalue().splitlines()


class MinimalExampleTaskFactory(tff.aggregators.UnweightedAggregationFactory):

  def create(self, value_type):
    @tff.federated_computation()
    def initialize_fn():
      return tff.federated_value((), tff.SERVER)

    @tff.federated_computation(initialize_fn.type_signature.result,
                               tff.FederatedType(value_type, tff.CLIENTS))
    def next_fn(state, value):
      scaled_value = tff.federated_map(
          tff.tensorflow.computation(lambda x: x * 2.0), value)
      summed_value = tff.federated_sum(scaled_value)
      unscaled_value = tff.federated_map(
          tff.tensorflow.computation(lambda x: x / 2.0), summed_value)
      measurements = tff.federated_value((), tff.SERVER)
      return tff.templates.MeasuredProcessOutput(
          state=state, result=unscaled_value, measurements=measurements)

    return tff.templates.AggregationProcess(initialize_fn, next_fn)


class StatefulExampleTaskFactory(tff.aggregators.UnweightedAggregationFactory):

  def create(self, value_type):
    @tff.federated_computation()
    def initialize_fn():
      return tff.federated_value(0.0, tff.SERVER)

    @tff.federated_computation(initialize_fn.type_signature.result,
                               tff.FederatedType(value_type, tff.CLIENTS))
    def next_fn(state, value):
      new_state = tff.federated_map(
          tff.tensorflow.computation(lambda x: x + 1.0), state)
      state_at_clients = tff.federated_broadcast(new_state)
      scaled_value = tff.federated_map(
          tff.tensorflow.computation(lambda x, y: x * y),
          (value, state_at_clients))
      summed_value = tff.federated_sum(scaled_value)
      unscaled_value = tff.federated_map(
          tff.tensorflow.computation(lambda x, y: x / y),
          (summed_value, new_state))
      return tff.templates.MeasuredProcessOutput(
          state=new_state, result=unscaled_value, measurements=summed_value)

    return tff.templates.AggregationProcess(initialize_fn, next_fn)


@tff.tensorflow.computation()
def scale(value, factor):
  return tf.nest.map_structure(lambda x: x * factor, value)


@tff.tensorflow.computation()
def unscale(value, factor):
  return tf.nest.map_structure(lambda x: x / factor, value)


@tff.tensorflow.computation()
def add_one(value):
  return value + 1.0


class StructuredExampleTaskFactory(
    tff.aggregators.UnweightedAggregationFactory):

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


class ExampleTaskFactory(tff.aggregators.UnweightedAggregationFactory):

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

      unscaled_value = tff.federated_map(
          unscale, (inner_output.result, my_new_state))

      new_state = tff.federated_zip((my_new_state, inner_output.state))
      measurements = tff.federated_zip(
          collections.OrderedDict(
              scaled_value=inner_output.result,
              example_task=inner_output.measurements))

      return tff.templates.MeasuredProcessOutput(
          state=new_state, result=unscaled_value, measurements=measurements)

    return tff.templates.AggregationProcess(initialize_fn, next_fn)


class CustomAggregatorsTest(absltest.TestCase):

  def test_minimal_implementation(self):

    def program():
      client_data = [1.0, 2.0, 5.0]
      factory = MinimalExampleTaskFactory()
      aggregation_process = factory.create(tff.TensorType(np.float32))
      print(f'Type signatures of the created aggregation process:\n'
            f'  - initialize: {aggregation_process.initialize.type_signature}\n'
            f'  - next: {aggregation_process.next.type_signature}\n')

      state = aggregation_process.initialize()
      output = aggregation_process.next(state, client_data)
      print(f'Aggregation result: {output.result}  (expected 8.0)')

    self.assertEqual(_printed(program), [
        'Type signatures of the created aggregation process:',
        '  - initialize: ( -> <>@SERVER)',
        '  - next: (<state=<>@SERVER,value={float32}@CLIENTS> -> '
        '<state=<>@SERVER,result=float32@SERVER,measurements=<>@SERVER>)',
        '',
        'Aggregation result: 8.0  (expected 8.0)',
    ])

  def test_statefulness_and_measurements(self):

    def program():
      client_data = [1.0, 2.0, 5.0]
      factory = StatefulExampleTaskFactory()
      aggregation_process = factory.create(tff.TensorType(np.float32))
      print(f'Type signatures of the created aggregation process:\n'
            f'  - initialize: {aggregation_process.initialize.type_signature}\n'
            f'  - next: {aggregation_process.next.type_signature}\n')

      state = aggregation_process.initialize()

      output = aggregation_process.next(state, client_data)
      print('| Round #1')
      print(f'|       Aggregation result: {output.result}   (expected 8.0)')
      print(f'| Aggregation measurements: {output.measurements}   '
            '(expected 8.0 * 1)')

      output = aggregation_process.next(output.state, client_data)
      print('\n| Round #2')
      print(f'|       Aggregation result: {output.result}   (expected 8.0)')
      print(f'| Aggregation measurements: {output.measurements}  '
            '(expected 8.0 * 2)')

      output = aggregation_process.next(output.state, client_data)
      print('\n| Round #3')
      print(f'|       Aggregation result: {output.result}   (expected 8.0)')
      print(f'| Aggregation measurements: {output.measurements}  '
            '(expected 8.0 * 3)')

    self.assertEqual(_printed(program), [
        'Type signatures of the created aggregation process:',
        '  - initialize: ( -> float32@SERVER)',
        '  - next: (<state=float32@SERVER,value={float32}@CLIENTS> -> '
        '<state=float32@SERVER,result=float32@SERVER,'
        'measurements=float32@SERVER>)',
        '',
        '| Round #1',
        '|       Aggregation result: 8.0   (expected 8.0)',
        '| Aggregation measurements: 8.0   (expected 8.0 * 1)',
        '',
        '| Round #2',
        '|       Aggregation result: 8.0   (expected 8.0)',
        '| Aggregation measurements: 16.0  (expected 8.0 * 2)',
        '',
        '| Round #3',
        '|       Aggregation result: 8.0   (expected 8.0)',
        '| Aggregation measurements: 24.0  (expected 8.0 * 3)',
    ])

  def test_structured_types(self):

    def program():
      client_data = [[[1.0, 2.0], [3.0, 4.0, 5.0]],
                     [[1.0, 1.0], [3.0, 0.0, -5.0]]]
      factory = StructuredExampleTaskFactory()
      aggregation_process = factory.create(
          tff.to_type([(np.float32, (2,)), (np.float32, (3,))]))
      print(f'Type signatures of the created aggregation process:\n'
            f'  - initialize: {aggregation_process.initialize.type_signature}\n'
            f'  - next: {aggregation_process.next.type_signature}\n')

      state = aggregation_process.initialize()
      output = aggregation_process.next(state, client_data)
      print(f'Aggregation result: [{output.result[0]}, {output.result[1]}]\n'
            f'          Expected: [[2. 3.], [6. 4. 0.]]')

    self.assertEqual(_printed(program), [
        'Type signatures of the created aggregation process:',
        '  - initialize: ( -> float32@SERVER)',
        '  - next: (<state=float32@SERVER,value={<float32[2],float32[3]>}'
        '@CLIENTS> -> <state=float32@SERVER,result=<float32[2],float32[3]>'
        '@SERVER,measurements=<float32[2],float32[3]>@SERVER>)',
        '',
        'Aggregation result: [[2. 3.], [6. 4. 0.]]',
        '          Expected: [[2. 3.], [6. 4. 0.]]',
    ])

  def test_inner_aggregations(self):
    client_data = [1.0, 2.0, 5.0]
    factory = ExampleTaskFactory()
    aggregation_process = factory.create(tff.TensorType(np.float32))
    state = aggregation_process.initialize()

    first = aggregation_process.next(state, client_data)
    second = aggregation_process.next(first.state, client_data)

    self.assertEqual(
        str(aggregation_process.next.type_signature),
        '(<state=<float32,<>>@SERVER,value={float32}@CLIENTS> -> '
        '<state=<float32,<>>@SERVER,result=float32@SERVER,'
        'measurements=<scaled_value=float32,example_task=<>>@SERVER>)')
    self.assertEqual((first.result, second.result), (8.0, 8.0))
    self.assertEqual(first.measurements['scaled_value'], 8.0)
    self.assertEqual(second.measurements['scaled_value'], 16.0)
    self.assertEqual(first.measurements['example_task'], ())

  def test_inner_aggregation_by_another_example_task(self):
    client_data = [1.0, 2.0, 5.0]
    # Note the inner delegation can be to any UnweightedAggregaionFactory.
    # In this case, each factory creates process that multiplies by the
    # iteration index (1, 2, 3, ...), thus their combination multiplies by
    # (1, 4, 9, ...).
    factory = ExampleTaskFactory(ExampleTaskFactory())
    aggregation_process = factory.create(tff.TensorType(np.float32))
    state = aggregation_process.initialize()

    first = aggregation_process.next(state, client_data)
    second = aggregation_process.next(first.state, client_data)

    self.assertEqual((first.result, second.result), (8.0, 8.0))
    self.assertEqual(first.measurements['scaled_value'], 8.0)
    self.assertEqual(
        first.measurements['example_task'],
        collections.OrderedDict([('scaled_value', 8.0), ('example_task', ())]))
    self.assertEqual(second.measurements['scaled_value'], 16.0)
    self.assertEqual(
        second.measurements['example_task'],
        collections.OrderedDict([('scaled_value', 32.0),
                                 ('example_task', ())]))


if __name__ == '__main__':
  absltest.main()
