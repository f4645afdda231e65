"""Compiling rounds into MapReduce/broadcast forms, running them, and back."""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx.backends import mapreduce
from tffx.types import structure

_LR = 0.1


def _leaves(value) -> list:
  """The arrays of a result, in order, whatever its containers."""
  if isinstance(value, structure.Struct):
    return [leaf for element in value for leaf in _leaves(element)]
  if isinstance(value, dict):
    return [leaf for element in value.values() for leaf in _leaves(element)]
  if isinstance(value, (list, tuple)):
    return [leaf for element in value for leaf in _leaves(element)]
  return [np.asarray(value)]


def _sum_over_clients(values):
  return structure.map_structure(
      lambda *xs: np.sum(xs, axis=0).astype(np.asarray(xs[0]).dtype),
      *(structure.from_container(v, recursive=True) for v in values))


def run_map_reduce_form(mrf, state, client_data):
  """Runs one round of `mrf` the way a MapReduce platform would.

  Clients are split into two groups, each accumulated from `zero` on its own
  and merged, so that every component runs.
  """
  client_input = mrf.prepare(state)
  outputs = [mrf.work(data, client_input) for data in client_data]
  half = len(outputs) // 2
  accumulators = []
  for group in (outputs[:half], outputs[half:]):
    accumulator = mrf.zero()
    for output in group:
      accumulator = mrf.accumulate(accumulator, output[0])
    accumulators.append(accumulator)
  aggregate = mrf.report(mrf.merge(accumulators[0], accumulators[1]))
  secure = [_sum_over_clients([o[i] for o in outputs]) for i in (1, 2, 3)]
  return mrf.update(state, structure.Struct([(None, aggregate)] +
                                            [(None, s) for s in secure]))


def run_distribute_aggregate_form(daf, state, client_data):
  """Runs one round of `daf` phase by phase, as a platform would."""
  broadcast_args, intermediate = daf.server_prepare(state)
  # The broadcast phase has no client input to count the clients from.
  with tff.backends.native.create_local_execution_context(
      default_num_clients=len(client_data)):
    context = daf.server_to_client_broadcast(broadcast_args)
  client_updates = daf.client_work(client_data, context)
  aggregates = daf.client_to_server_aggregation(intermediate, client_updates)
  return daf.server_result(intermediate, aggregates)


# --- (a) a FedAvg-like round ------------------------------------------------

_WEIGHTS = tff.TensorType(np.float32, [2])
_BATCH = collections.OrderedDict(
    x=tff.TensorType(np.float32, [None, 2]),
    y=tff.TensorType(np.float32, [None]))
_DATA = tff.SequenceType(_BATCH)


@tff.tf_computation(_WEIGHTS, _DATA)
def _client_update(weights, dataset):
  """Local SGD on a linear model; returns the weights' change and counts."""

  def step(state, batch):
    w, loss_sum, count = state
    with tf.GradientTape() as tape:
      tape.watch(w)
      residual = tf.linalg.matvec(batch['x'], w) - batch['y']
      loss = tf.reduce_mean(residual**2)
    w = w - _LR * tape.gradient(loss, w)
    n = tf.cast(tf.shape(batch['y'])[0], tf.float32)
    return w, loss_sum + loss * n, count + n

  w, loss_sum, count = dataset.reduce(
      (weights, tf.constant(0.0), tf.constant(0.0)), step)
  return collections.OrderedDict(
      delta=w - weights, num_examples=count, loss_sum=loss_sum)


@tff.tf_computation(_WEIGHTS, _WEIGHTS)
def _apply_delta(weights, delta):
  return weights + delta


@tff.federated_computation(
    tff.FederatedType(_WEIGHTS, tff.SERVER), tff.FederatedType(_DATA,
                                                               tff.CLIENTS))
def _fed_avg_next(server_weights, client_data):
  broadcast = tff.federated_broadcast(server_weights)
  outputs = tff.federated_map(_client_update, (broadcast, client_data))
  mean_delta = tff.federated_mean(outputs.delta, weight=outputs.num_examples)
  new_weights = tff.federated_map(_apply_delta, (server_weights, mean_delta))
  metrics = collections.OrderedDict(
      loss_sum=tff.federated_sum(outputs.loss_sum),
      num_examples=tff.federated_sum(outputs.num_examples))
  return new_weights, tff.federated_zip(metrics)


def _client_datasets():
  rng = np.random.default_rng(0)
  datasets = []
  for size in (3, 5, 2, 4):
    x = rng.normal(size=(size, 2)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0], np.float32) + 0.5).astype(np.float32)
    datasets.append(
        tf.data.Dataset.from_tensor_slices(
            collections.OrderedDict(x=x, y=y)).batch(2))
  return datasets


# --- (b) a federated_aggregate round ----------------------------------------


@tff.tf_computation(np.float32, np.float32)
def _scale(x, factor):
  return x * factor


@tff.tf_computation(
    collections.OrderedDict(total=np.float32, count=np.int32), np.float32)
def _accumulate(accumulator, value):
  return collections.OrderedDict(
      total=accumulator['total'] + value, count=accumulator['count'] + 1)


@tff.tf_computation(
    collections.OrderedDict(total=np.float32, count=np.int32),
    collections.OrderedDict(total=np.float32, count=np.int32))
def _merge(a, b):
  return collections.OrderedDict(
      total=a['total'] + b['total'], count=a['count'] + b['count'])


@tff.tf_computation(collections.OrderedDict(total=np.float32, count=np.int32))
def _report(accumulator):
  return accumulator['total'] / tf.cast(accumulator['count'], tf.float32)


@tff.tf_computation(np.float32, np.float32)
def _add(a, b):
  return a + b


@tff.federated_computation(
    tff.FederatedType(np.float32, tff.SERVER),
    tff.FederatedType(np.float32, tff.CLIENTS))
def _aggregate_round(factor, values):
  scaled = tff.federated_map(_scale,
                             (values, tff.federated_broadcast(factor)))
  zero = collections.OrderedDict(total=np.float32(0.0), count=np.int32(0))
  mean = tff.federated_aggregate(scaled, zero, _accumulate, _merge, _report)
  largest = tff.federated_max(scaled)
  return (tff.federated_map(_add, (factor, mean)),
          tff.federated_zip((mean, largest)))


@tff.federated_computation(
    tff.FederatedType(np.float32, tff.SERVER),
    tff.FederatedType(np.float32, tff.CLIENTS))
def _two_rounds(state, values):
  """Broadcasts an aggregate: two round trips, which no form expresses."""
  total = tff.federated_sum(values)
  again = tff.federated_map(_add, (values, tff.federated_broadcast(total)))
  return state, tff.federated_sum(again)


class MapReduceFormTest(parameterized.TestCase):

  def test_compiled_fed_avg_computes_the_round_through_a_form_runner(self):
    mrf = mapreduce.get_map_reduce_form_for_computation(_fed_avg_next)
    weights = np.array([0.5, 0.5], np.float32)

    expected = _fed_avg_next(weights, _client_datasets())
    found = run_map_reduce_form(mrf, weights, _client_datasets())

    for e, f in zip(_leaves(expected), _leaves(found), strict=True):
      np.testing.assert_allclose(f, e, rtol=1e-5)
    self.assertNotAlmostEqual(float(_leaves(expected)[0][0]), 0.5)

  def test_compiled_aggregate_round_computes_the_round_through_a_form_runner(
      self):
    mrf = mapreduce.get_map_reduce_form_for_computation(_aggregate_round)
    values = [1.0, 4.0, -2.0, 7.0, 3.0]

    expected = _aggregate_round(2.0, values)
    found = run_map_reduce_form(mrf, 2.0, values)

    np.testing.assert_allclose(_leaves(found), _leaves(expected), rtol=1e-6)
    np.testing.assert_allclose(_leaves(expected), [7.2, 5.2, 14.0], rtol=1e-6)

  @parameterized.named_parameters(
      ('weighted_fed_avg', lambda model_fn: tff.learning.algorithms.
       build_weighted_fed_avg(
           model_fn,
           client_optimizer_fn=tff.learning.optimizers.build_sgdm(0.1))),
      ('secure_aggregator', lambda model_fn: tff.learning.algorithms.
       build_weighted_fed_avg(
           model_fn,
           client_optimizer_fn=tff.learning.optimizers.build_sgdm(0.1),
           model_aggregator=tff.learning.secure_aggregator(
               zeroing=False, clipping=False))),
      ('fed_eval', tff.learning.algorithms.build_fed_eval),
  )
  def test_compiled_learning_process_next_computes_the_round(self, build):

    def model_fn():
      model = keras.Sequential(
          [keras.layers.Input((2,)), keras.layers.Dense(1)])
      return tff.learning.models.from_keras_model(
          model,
          input_spec=collections.OrderedDict(
              x=tf.TensorSpec([None, 2], tf.float32),
              y=tf.TensorSpec([None, 1], tf.float32)),
          loss=keras.losses.MeanSquaredError())

    process = build(model_fn)
    mrf = mapreduce.get_map_reduce_form_for_computation(process.next)
    state = process.initialize()
    datasets = [
        tf.data.Dataset.from_tensor_slices(
            collections.OrderedDict(x=d['x'], y=d['y'][:, None])).batch(2)
        for d in (dict(x=x, y=x @ np.array([1.0, -2.0], np.float32))
                  for x in (np.arange(6, dtype=np.float32).reshape(3, 2) / 5,
                            np.ones((4, 2), np.float32)))
    ]

    expected = process.next(state, datasets)
    found = run_map_reduce_form(mrf, state, datasets)

    for e, f in zip(_leaves(expected), _leaves(found), strict=True):
      np.testing.assert_allclose(f, e, rtol=1e-5)
    counts = [
        int(v) for v in _leaves(expected.metrics)
        if v.shape == () and v.dtype.kind == 'i'
    ]
    self.assertIn(7, counts)  # the examples of both clients

  def test_round_trip_computes_the_same_fed_avg(self):
    mrf = mapreduce.get_map_reduce_form_for_computation(_fed_avg_next)
    round_trip = mapreduce.get_computation_for_map_reduce_form(mrf)
    weights = np.array([0.5, -1.0], np.float32)

    expected = _fed_avg_next(weights, _client_datasets())
    found = round_trip(weights, _client_datasets())

    tff.test.assert_types_equivalent(round_trip.type_signature,
                                     _fed_avg_next.type_signature)
    for e, f in zip(_leaves(expected), _leaves(found), strict=True):
      np.testing.assert_allclose(f, e, rtol=1e-5)

  def test_round_trip_computes_the_same_aggregate_round(self):
    mrf = mapreduce.get_map_reduce_form_for_computation(_aggregate_round)
    round_trip = mapreduce.get_computation_for_map_reduce_form(mrf)

    found = round_trip(3.0, [1.0, 2.0])

    np.testing.assert_allclose(_leaves(found), [7.5, 4.5, 6.0], rtol=1e-6)

  def test_components_have_tff_type_signatures_for_fed_avg(self):
    mrf = mapreduce.get_map_reduce_form_for_computation(_fed_avg_next)

    state_type = _fed_avg_next.type_signature.parameter[0].member
    data_type = _fed_avg_next.type_signature.parameter[1].member
    prepare, work = mrf.prepare.type_signature, mrf.work.type_signature
    tff.test.assert_types_identical(prepare.parameter, state_type)
    tff.test.assert_types_equivalent(work.parameter,
                                     tff.StructType([data_type,
                                                     prepare.result]))
    self.assertLen(work.result, 4)
    u = mrf.zero.type_signature.result
    self.assertIsNone(mrf.zero.type_signature.parameter)
    tff.test.assert_types_equivalent(mrf.accumulate.type_signature,
                                     tff.FunctionType([u, work.result[0]], u))
    tff.test.assert_types_equivalent(mrf.merge.type_signature,
                                     tff.FunctionType([u, u], u))
    tff.test.assert_types_equivalent(mrf.report.type_signature.parameter, u)
    for secure in (mrf.secure_sum_bitwidth, mrf.secure_sum_max_input,
                   mrf.secure_modular_sum_modulus):
      self.assertEqual(str(secure.type_signature), '( -> <>)')
    r = mrf.report.type_signature.result
    tff.test.assert_types_equivalent(
        mrf.update.type_signature.parameter,
        tff.StructType([
            state_type,
            tff.StructType([r, work.result[1], work.result[2],
                            work.result[3]])
        ]))
    tff.test.assert_types_equivalent(
        mrf.update.type_signature.result,
        tff.StructType([
            m.member for m in _fed_avg_next.type_signature.result
        ]))
    self.assertEqual(mrf.type_signature, _fed_avg_next.type_signature)
    self.assertFalse(mrf.securely_aggregates_tensors)

  def test_secure_sums_take_the_secure_paths(self):

    @tff.federated_computation(
        tff.FederatedType(np.int32, tff.SERVER),
        tff.FederatedType(np.int32, tff.CLIENTS))
    def secure_round(state, values):
      bitwidth_sum = tff.federated_secure_sum_bitwidth(values, 8)
      bounded_sum = tff.federated_secure_sum(values, 100)
      return state, tff.federated_zip((bitwidth_sum, bounded_sum))

    mrf = mapreduce.get_map_reduce_form_for_computation(secure_round)
    round_trip = mapreduce.get_computation_for_map_reduce_form(mrf)

    self.assertTrue(mrf.securely_aggregates_tensors)
    self.assertEqual(str(mrf.secure_sum_bitwidth.type_signature),
                     '( -> <int32>)')
    self.assertEqual(str(mrf.secure_sum_max_input.type_signature),
                     '( -> <int32>)')
    self.assertEqual(_leaves(mrf.secure_sum_bitwidth()), [8])
    self.assertEqual(_leaves(run_map_reduce_form(mrf, 5, [1, 2, 3])),
                     [5, 6, 6])
    self.assertEqual(_leaves(round_trip(5, [1, 2, 3])), [5, 6, 6])
    self.assertEqual(
        _leaves(secure_round(5, [1, 2, 3])), [5, 6, 6])

  def test_check_compatible_returns_the_building_block(self):
    block = mapreduce.check_computation_compatible_with_map_reduce_form(
        _aggregate_round)

    self.assertIs(block, _aggregate_round.to_building_block())

  def test_preprocessing_is_applied_first(self):
    seen = []

    def preprocessing(block):
      seen.append(block)
      return block

    mapreduce.get_map_reduce_form_for_computation(
        _aggregate_round, tff_internal_preprocessing=preprocessing)

    self.assertEqual(seen, [_aggregate_round.to_building_block()])


class DistributeAggregateFormTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('fed_avg', _fed_avg_next,
       lambda: (np.array([0.5, 0.5], np.float32), _client_datasets())),
      ('federated_aggregate', _aggregate_round,
       lambda: (2.0, [1.0, 4.0, -2.0, 7.0])),
  )
  def test_compiled_round_computes_the_same_phase_by_phase_and_back(
      self, comp, make_args):
    daf = mapreduce.get_distribute_aggregate_form_for_computation(comp)
    round_trip = mapreduce.get_computation_for_distribute_aggregate_form(daf)

    expected = _leaves(comp(*make_args()))
    by_phase = _leaves(run_distribute_aggregate_form(daf, *make_args()))
    back = _leaves(round_trip(*make_args()))

    for e, p, b in zip(expected, by_phase, back, strict=True):
      np.testing.assert_allclose(p, e, rtol=1e-5)
      np.testing.assert_allclose(b, e, rtol=1e-5)
    self.assertEqual(daf.type_signature, comp.type_signature)

  def test_phases_have_tff_type_signatures(self):
    daf = mapreduce.get_distribute_aggregate_form_for_computation(
        _fed_avg_next)

    self.assertEqual(str(daf.server_prepare.type_signature),
                     '(float32[2]@SERVER -> <<float32[2]@SERVER>,'
                     '<float32[2]@SERVER>>)')
    self.assertEqual(str(daf.server_to_client_broadcast.type_signature),
                     '(<float32[2]@SERVER> -> <float32[2]@CLIENTS>)')
    work = daf.client_work.type_signature
    self.assertEqual(work.parameter[0],
                     _fed_avg_next.type_signature.parameter[1])
    tff.test.assert_types_equivalent(
        daf.client_to_server_aggregation.type_signature.parameter,
        tff.StructType([daf.server_prepare.type_signature.result[1],
                        work.result]))
    tff.test.assert_types_equivalent(
        daf.server_result.type_signature.result,
        _fed_avg_next.type_signature.result)

  def test_broadcast_of_an_aggregate_raises_compilation_error(self):

    with self.assertRaises(mapreduce.MapReduceFormCompilationError):
      mapreduce.get_distribute_aggregate_form_for_computation(_two_rounds)


class MapReduceFormErrorsTest(absltest.TestCase):

  def test_wrong_parameter_type_raises_type_error(self):

    @tff.federated_computation(tff.FederatedType(np.float32, tff.CLIENTS))
    def not_a_round(values):
      return tff.federated_sum(values)

    with self.assertRaisesRegex(TypeError, 'two arguments'):
      mapreduce.get_map_reduce_form_for_computation(not_a_round)

  def test_wrong_result_type_raises_type_error(self):

    @tff.federated_computation(
        tff.FederatedType(np.float32, tff.SERVER),
        tff.FederatedType(np.float32, tff.CLIENTS))
    def client_result(state, values):
      return state, values

    with self.assertRaisesRegex(TypeError, 'return two values'):
      mapreduce.check_computation_compatible_with_map_reduce_form(
          client_result)

  def test_not_a_computation_raises_type_error(self):
    with self.assertRaises(TypeError):
      mapreduce.get_map_reduce_form_for_computation(lambda x: x)

  def test_broadcast_of_an_aggregate_raises_compilation_error(self):

    with self.assertRaisesRegex(mapreduce.MapReduceFormCompilationError,
                                'computed from an aggregate'):
      mapreduce.get_map_reduce_form_for_computation(_two_rounds)

  def test_federated_select_raises_compilation_error(self):

    @tff.tf_computation(tff.TensorType(np.float32, [3]), np.int32)
    def slice_fn(values, key):
      return values[key]

    @tff.federated_computation(
        tff.FederatedType(tff.TensorType(np.float32, [3]), tff.SERVER),
        tff.FederatedType(tff.TensorType(np.int32, [2]), tff.CLIENTS))
    def select_round(state, keys):
      selected = tff.federated_select(
          keys, tff.federated_value(3, tff.SERVER), state, slice_fn)
      sums = tff.federated_map(
          tff.tf_computation(lambda ds: ds.reduce(0.0, lambda a, b: a + b),
                             tff.SequenceType(np.float32)), selected)
      return state, tff.federated_sum(sums)

    with self.assertRaisesRegex(mapreduce.MapReduceFormCompilationError,
                                'federated_select'):
      mapreduce.get_map_reduce_form_for_computation(select_round)

  def test_compilation_error_is_a_value_error(self):
    self.assertTrue(
        issubclass(mapreduce.MapReduceFormCompilationError, ValueError))


class BroadcastFormTest(absltest.TestCase):

  def test_compiled_broadcast_round_computes_the_same(self):

    @tff.federated_computation(
        tff.FederatedType(np.float32, tff.SERVER),
        tff.FederatedType(np.float32, tff.CLIENTS))
    def broadcast_round(factor, values):
      doubled = tff.federated_map(_scale, (factor, factor))
      return tff.federated_map(
          _scale, (values, tff.federated_broadcast(doubled)))

    bf = mapreduce.get_broadcast_form_for_computation(broadcast_round)
    round_trip = mapreduce.get_computation_for_broadcast_form(bf)
    context = bf.compute_server_context(3.0)

    self.assertEqual(
        [float(bf.client_processing(context, v)) for v in (1.0, 2.0)],
        [9.0, 18.0])
    self.assertEqual([float(v) for v in round_trip(3.0, [1.0, 2.0])],
                     [9.0, 18.0])
    self.assertEqual([float(v) for v in broadcast_round(3.0, [1.0, 2.0])],
                     [9.0, 18.0])
    self.assertEqual((bf.server_data_label, bf.client_data_label),
                     ('factor', 'values'))

  def test_aggregation_raises_compilation_error(self):

    @tff.federated_computation(
        tff.FederatedType(np.float32, tff.SERVER),
        tff.FederatedType(np.float32, tff.CLIENTS))
    def aggregating(state, values):
      total = tff.federated_broadcast(tff.federated_sum(values))
      return tff.federated_map(_add, (values, total))

    with self.assertRaises(mapreduce.MapReduceFormCompilationError):
      mapreduce.get_broadcast_form_for_computation(aggregating)

  def test_wrong_type_raises_type_error(self):
    with self.assertRaisesRegex(TypeError, 'CLIENTS'):
      mapreduce.get_broadcast_form_for_computation(_aggregate_round)


class StateInitializationTest(absltest.TestCase):

  def test_initialization_runs_on_the_server_only(self):

    @tff.federated_computation
    def initialize():
      return tff.federated_value(np.array([1.0, 2.0], np.float32), tff.SERVER)

    init = mapreduce.get_state_initialization_computation(initialize)

    self.assertEqual(str(init.type_signature), '( -> float32[2])')
    np.testing.assert_array_equal(init(), [1.0, 2.0])

  def test_client_placed_result_raises_type_error(self):

    @tff.federated_computation
    def at_clients():
      return tff.federated_value(1.0, tff.CLIENTS)

    with self.assertRaises(TypeError):
      mapreduce.get_state_initialization_computation(at_clients)


if __name__ == '__main__':
  absltest.main()
