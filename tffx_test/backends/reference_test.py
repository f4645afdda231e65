"""End-to-end tests: traced programs on the reference backend.

Every program also runs after a serialization round trip and must give the
same result (`test_utils.call_with_round_trip`).
"""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import context_stack
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import errors
from tffx.executors import execution_context
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx_test.executors import test_utils

CLIENTS = placements.CLIENTS
SERVER = placements.SERVER
F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)


@tfc.tf_computation(np.float32)
def add_one(x):
  return x + 1.0


@tfc.tf_computation
def five():
  return np.int32(5)


@tfc.tf_computation(np.int32, np.int32)
def add_ints(a, b):
  return a + b


class ReferenceBackendTest(absltest.TestCase):

  def test_create_reference_execution_context_keeps_default_num_clients(self):
    context = reference.create_reference_execution_context(
        default_num_clients=3)

    self.assertIsInstance(context, execution_context.ExecutionContext)
    self.assertEqual(context.default_num_clients, 3)

  def test_create_reference_execution_context_works_as_context_manager(self):

    @fc.federated_computation
    def count_clients():
      return intrinsics.federated_sum(intrinsics.federated_value(1, CLIENTS))

    with reference.create_reference_execution_context(default_num_clients=3):
      result = test_utils.call_with_round_trip(self, count_clients)

    self.assertEqual(result, 3)

  def test_set_reference_execution_context_installs_default(self):
    self.addCleanup(context_stack.set_default_context, None)

    reference.set_reference_execution_context(default_num_clients=2)

    context = context_stack.get_context()
    self.assertIsInstance(context, execution_context.ExecutionContext)
    self.assertEqual(context.default_num_clients, 2)
    self.assertEqual(add_one(1.0), 2.0)

  def test_create_reference_execution_context_refuses_negative_count(self):
    with self.assertRaisesRegex(ValueError, 'non-negative'):
      reference.create_reference_execution_context(default_num_clients=-2)


class IntrinsicsOnReferenceTest(parameterized.TestCase):
  """Each intrinsic, traced by the user-facing functions, on concrete values."""

  def setUp(self):
    super().setUp()
    context = reference.create_reference_execution_context(
        default_num_clients=2)
    self.enter_context(context)

  def call(self, comp, *args, **kwargs):
    return test_utils.call_with_round_trip(self, comp, *args, **kwargs)

  def test_federated_value_places_value(self):

    @fc.federated_computation(F32)
    def place(x):
      return (intrinsics.federated_value(x, CLIENTS),
              intrinsics.federated_value(x, SERVER))

    result = self.call(place, 1.5)

    self.assertEqual(result, (1.5, 1.5))

  def test_federated_broadcast_then_sum_counts_clients(self):

    @fc.federated_computation(ct.type_at_server(I32))
    def broadcast_sum(x):
      return intrinsics.federated_sum(intrinsics.federated_broadcast(x))

    result = self.call(broadcast_sum, 4)

    self.assertEqual(result, 8)

  def test_federated_eval_runs_function_at_placement(self):

    @fc.federated_computation
    def evaluate():
      return (intrinsics.federated_eval(five, CLIENTS),
              intrinsics.federated_eval(five, SERVER))

    result = self.call(evaluate)

    self.assertEqual(result, ([5, 5], 5))

  def test_federated_map_maps_every_placement(self):

    @fc.federated_computation(ct.type_at_clients(F32),
                              ct.type_at_clients(F32, all_equal=True),
                              ct.type_at_server(F32))
    def map_all(clients, all_equal, server):
      return (intrinsics.federated_map(add_one, clients),
              intrinsics.federated_map(add_one, all_equal),
              intrinsics.federated_map(add_one, server))

    result = self.call(map_all, [1.0, 2.0, 3.0], 10.0, 20.0)

    self.assertEqual(result, ([2.0, 3.0, 4.0], 11.0, 21.0))

  def test_federated_zip_zips_nested_structs(self):

    @fc.federated_computation(ct.type_at_clients(F32), ct.type_at_clients(I32))
    def zip_clients(a, b):
      return intrinsics.federated_zip(collections.OrderedDict(a=a, b=[b]))

    result = self.call(zip_clients, [1.0, 2.0], [3, 4])

    self.assertEqual(result, [collections.OrderedDict(a=1.0, b=[3]),
                              collections.OrderedDict(a=2.0, b=[4])])

  def test_federated_zip_at_server(self):

    @fc.federated_computation(ct.type_at_server(F32), ct.type_at_server(I32))
    def zip_server(a, b):
      return intrinsics.federated_zip((a, b))

    result = self.call(zip_server, 1.0, 2)

    self.assertEqual(result, (1.0, 2))

  def test_federated_aggregate_sums_with_functions(self):

    @fc.federated_computation(ct.type_at_clients(I32))
    def aggregate(x):
      return intrinsics.federated_aggregate(x, 0, add_ints, add_ints,
                                            tfc.tf_computation(
                                                lambda a: a * 2, np.int32))

    result = self.call(aggregate, [1, 2, 3])

    self.assertEqual(result, 12)

  @parameterized.named_parameters(
      ('sum', intrinsics.federated_sum, {'a': 9.0, 'b': [-3.0, 9.0]}),
      ('mean', intrinsics.federated_mean, {'a': 3.0, 'b': [-1.0, 3.0]}),
      ('min', intrinsics.federated_min, {'a': 1.0, 'b': [-4.0, 2.0]}),
      ('max', intrinsics.federated_max, {'a': 5.0, 'b': [2.0, 4.0]}),
  )
  def test_aggregation_works_element_wise_on_dicts(self, aggregate, expected):
    member = collections.OrderedDict(a=F32, b=ct.TensorType(np.float32, [2]))

    @fc.federated_computation(ct.type_at_clients(member))
    def comp(x):
      return aggregate(x)

    result = self.call(comp, [
        {'a': 1.0, 'b': [2.0, 3.0]},
        {'a': 3.0, 'b': [-1.0, 4.0]},
        {'a': 5.0, 'b': [-4.0, 2.0]},
    ])

    self.assertIsInstance(result, collections.OrderedDict)
    self.assertAlmostEqual(result['a'], expected['a'], places=6)
    np.testing.assert_allclose(result['b'], expected['b'], rtol=1e-6)

  def test_federated_sum_of_zero_clients_is_zero(self):

    @fc.federated_computation(ct.type_at_clients(F32))
    def total(x):
      return intrinsics.federated_sum(x)

    result = self.call(total, [])

    self.assertEqual(result, 0.0)

  def test_federated_mean_of_zero_clients_raises(self):

    @fc.federated_computation(ct.type_at_clients(F32))
    def mean(x):
      return intrinsics.federated_mean(x)

    with self.assertRaisesRegex(errors.AggregationError, '0 clients'):
      mean([])

  def test_federated_weighted_mean_weights_clients(self):

    @fc.federated_computation(ct.type_at_clients(F32), ct.type_at_clients(I32))
    def mean(x, w):
      return intrinsics.federated_mean(x, weight=w)

    result = self.call(mean, [1.0, 4.0], [3, 1])

    self.assertAlmostEqual(result, (1.0 * 3 + 4.0 * 1) / 4, places=6)

  @parameterized.named_parameters(
      ('secure_sum', intrinsics.federated_secure_sum, 7, 'max_input=7'),
      ('bitwidth', intrinsics.federated_secure_sum_bitwidth, 3, 'bitwidth=3'),
  )
  def test_secure_sum_sums_in_range_and_refuses_outside(self, secure_sum,
                                                        bound, named):

    @fc.federated_computation(ct.type_at_clients(I32))
    def comp(x):
      return secure_sum(x, bound)

    result = self.call(comp, [7, 0, 3])

    self.assertEqual(result, 10)
    with self.assertRaisesRegex(errors.SecureBoundsError,
                                f'value 8.*{named}'):
      comp([1, 8])

  @parameterized.named_parameters(
      ('select', intrinsics.federated_select),
      ('secure_select', intrinsics.federated_secure_select),
  )
  def test_select_sends_each_client_its_rows(self, select):
    table_type = ct.TensorType(np.float32, [3, 2])

    @tfc.tf_computation(table_type, np.int32)
    def row(table, key):
      return tf.gather(table, key)

    @fc.federated_computation(ct.type_at_clients(ct.TensorType(np.int32, [2])),
                              ct.type_at_server(table_type))
    def comp(keys, table):
      max_key = intrinsics.federated_value(3, SERVER)
      return select(keys, max_key, table, row)

    table = np.arange(6, dtype=np.float32).reshape(3, 2)

    result = self.call(comp, [[2, 0], [1, 1]], table)

    np.testing.assert_array_equal(result[0], table[[2, 0]])
    np.testing.assert_array_equal(result[1], table[[1, 1]])

  def test_secure_select_refuses_key_outside_max_key(self):

    @tfc.tf_computation(np.int32, np.int32)
    def key_of(unused_server, key):
      return key

    @fc.federated_computation(ct.type_at_clients(ct.TensorType(np.int32, [1])))
    def comp(keys):
      return intrinsics.federated_secure_select(
          keys, intrinsics.federated_value(2, SERVER),
          intrinsics.federated_value(0, SERVER), key_of)

    with self.assertRaisesRegex(errors.SecureBoundsError, r'key 2.*\[0, 2\)'):
      comp([[0], [2]])

  def test_sequence_intrinsics_on_unplaced_sequence(self):

    @fc.federated_computation(ct.SequenceType(F32))
    def comp(ds):
      return (intrinsics.sequence_sum(intrinsics.sequence_map(add_one, ds)),
              intrinsics.sequence_reduce(
                  ds, 0.0, tfc.tf_computation(lambda a, x: a + x * x,
                                              np.float32, np.float32)))

    result = self.call(comp, [1.0, 2.0, 3.0])

    self.assertEqual(result, (9.0, 14.0))

  def test_sequence_intrinsics_on_client_datasets(self):

    @fc.federated_computation(ct.type_at_clients(ct.SequenceType(F32)))
    def comp(datasets):
      return intrinsics.federated_sum(
          intrinsics.sequence_sum(intrinsics.sequence_map(add_one, datasets)))

    datasets = [
        tf.data.Dataset.from_tensor_slices(np.float32([1, 2])),
        tf.data.Dataset.from_tensor_slices(np.float32([])),
        tf.data.Dataset.from_tensor_slices(np.float32([10])),
    ]

    result = self.call(comp, datasets)

    self.assertEqual(result, (2.0 + 3.0) + 0.0 + 11.0)

  def test_client_sequences_come_back_as_lists(self):

    @fc.federated_computation(ct.type_at_clients(ct.SequenceType(I32)))
    def identity(datasets):
      return datasets

    result = self.call(identity, [[1, 2], [], [3]])

    self.assertEqual(result, [[1, 2], [], [3]])

  def test_conflicting_client_counts_raise_value_error(self):

    @fc.federated_computation(ct.type_at_clients(F32), ct.type_at_clients(F32))
    def comp(a, b):
      return intrinsics.federated_sum(a), intrinsics.federated_sum(b)

    with self.assertRaisesRegex(ValueError, r'\[2, 3\]'):
      comp([1.0, 2.0], [1.0, 2.0, 3.0])

  def test_argument_of_wrong_type_raises_type_error_naming_both(self):

    @fc.federated_computation(ct.type_at_clients(F32))
    def comp(x):
      return intrinsics.federated_sum(x)

    with self.assertRaisesRegex(TypeError,
                                r'\{float32\}@CLIENTS.*\{str\}@CLIENTS'):
      comp(['warm', 'cold'])


class ClassicExamplesTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_average_of_client_temperatures(self):

    @fc.federated_computation(ct.type_at_clients(F32))
    def get_average_temperature(sensor_readings):
      return intrinsics.federated_mean(sensor_readings)

    readings = [68.5, 70.3, 69.8]

    result = test_utils.call_with_round_trip(self, get_average_temperature,
                                             readings)

    self.assertEqual(str(get_average_temperature.type_signature),
                     '({float32}@CLIENTS -> float32@SERVER)')
    self.assertAlmostEqual(result, np.mean(np.float32(readings)), places=4)

  def test_weighted_mean_written_with_federated_aggregate(self):
    accumulator = collections.OrderedDict(total=F32, weight=F32)
    example = collections.OrderedDict(value=F32, weight=F32)

    @tfc.tf_computation(accumulator, example)
    def accumulate(acc, x):
      return collections.OrderedDict(total=acc['total'] + x['value'] *
                                     x['weight'],
                                     weight=acc['weight'] + x['weight'])

    @tfc.tf_computation(accumulator, accumulator)
    def merge(a, b):
      return collections.OrderedDict(total=a['total'] + b['total'],
                                     weight=a['weight'] + b['weight'])

    @tfc.tf_computation(accumulator)
    def report(acc):
      return acc['total'] / acc['weight']

    @fc.federated_computation(ct.type_at_clients(F32), ct.type_at_clients(F32))
    def weighted_mean(values, weights):
      zero = collections.OrderedDict(total=0.0, weight=0.0)
      by_aggregate = intrinsics.federated_aggregate(
          intrinsics.federated_zip(
              collections.OrderedDict(value=values, weight=weights)), zero,
          accumulate, merge, report)
      by_mean = intrinsics.federated_mean(values, weight=weights)
      return by_aggregate, by_mean

    values, weights = [1.0, 2.0, 10.0], [3.0, 1.0, 0.5]

    by_aggregate, by_mean = test_utils.call_with_round_trip(
        self, weighted_mean, values, weights)

    expected = np.average(values, weights=weights)
    self.assertAlmostEqual(by_aggregate, expected, places=5)
    self.assertAlmostEqual(by_mean, expected, places=5)

  def test_federated_averaging_round_matches_numpy(self):
    fed_avg_round = test_utils.fed_avg_round()
    rng = np.random.default_rng(0)
    client_arrays = []
    for num_examples in (5, 3, 8):
      x = rng.normal(size=(num_examples, 2)).astype(np.float32)
      y = (x @ np.float32([2.0, -1.0]) + 0.5).astype(np.float32)
      client_arrays.append((x, y))
    datasets = [
        tf.data.Dataset.from_tensor_slices(
            collections.OrderedDict(x=x, y=y)).batch(3)
        for x, y in client_arrays
    ]
    server_weights = collections.OrderedDict(w=np.float32([0.5, 0.5]),
                                             b=np.float32(0.0))

    result = test_utils.call_with_round_trip(self, fed_avg_round,
                                             server_weights, datasets)

    expected_w, expected_b = _numpy_fed_avg_round(
        server_weights, client_arrays, batch_size=3,
        learning_rate=test_utils.FED_AVG_LEARNING_RATE)
    self.assertIsInstance(result, collections.OrderedDict)
    np.testing.assert_allclose(result['w'], expected_w, rtol=1e-5)
    np.testing.assert_allclose(result['b'], expected_b, rtol=1e-5, atol=1e-6)


def _numpy_fed_avg_round(server_weights, client_arrays, batch_size,
                         learning_rate):
  """The same round as `fed_avg_round`, in NumPy float64."""
  updates, counts = [], []
  for x, y in client_arrays:
    w = server_weights['w'].astype(np.float64)
    b = float(server_weights['b'])
    for start in range(0, len(y), batch_size):
      xb, yb = x[start:start + batch_size], y[start:start + batch_size]
      error = xb @ w + b - yb
      w, b = (w - learning_rate * 2 * xb.T @ error / len(yb),
              b - learning_rate * 2 * error.sum() / len(yb))
    updates.append((w, b))
    counts.append(len(y))
  total = sum(counts)
  mean_w = sum(c * w for c, (w, _) in zip(counts, updates)) / total
  mean_b = sum(c * b for c, (_, b) in zip(counts, updates)) / total
  return mean_w, mean_b


if __name__ == '__main__':
  absltest.main()
