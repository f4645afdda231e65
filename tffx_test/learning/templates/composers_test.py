import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.models import model_weights
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import client_works
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import learning_process
from tffx.templates import aggregation_process
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import errors as type_errors
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation
MeasuredProcessOutput = measured_process.MeasuredProcessOutput
ModelWeights = model_weights.ModelWeights
SERVER = placements.SERVER

# A linear model y = x . kernel + bias, trained with a mean squared error.
_WEIGHTS = ct.to_type(
    ModelWeights([ct.TensorType(np.float32, [2]), np.float32], []))
_TRAINABLE = _WEIGHTS.trainable
_BATCH = ct.to_type(
    collections.OrderedDict(
        x=ct.TensorType(np.float32, [None, 2]),
        y=ct.TensorType(np.float32, [None])))
_DATA = ct.SequenceType(_BATCH)
_CLIENT_HPARAMS = ct.to_type(collections.OrderedDict(learning_rate=np.float32))


@tf_computation
def _initial_weights():
  return ModelWeights([tf.zeros([2]), tf.constant(0.0)], [])


@tf_computation(_WEIGHTS, _DATA, np.float32)
def _client_update(weights, data, learning_rate):
  """Local SGD; returns the model delta, the batch count and the mean loss."""

  def step(carry, batch):
    kernel, bias, loss_sum, count = carry
    with tf.GradientTape() as tape:
      tape.watch([kernel, bias])
      predictions = tf.linalg.matvec(batch['x'], kernel) + bias
      loss = tf.reduce_mean(tf.square(predictions - batch['y']))
    kernel_grad, bias_grad = tape.gradient(loss, [kernel, bias])
    return (kernel - learning_rate * kernel_grad,
            bias - learning_rate * bias_grad, loss_sum + loss, count + 1.0)

  kernel, bias = weights.trainable
  new_kernel, new_bias, loss_sum, count = data.reduce(
      (kernel, bias, np.float32(0), np.float32(0)), step)
  update = [kernel - new_kernel, bias - new_bias]
  return client_works.ClientResult(update, count), loss_sum / count


def _client_work(learning_rate=0.1):
  """Client work whose state is the client learning rate (a hyperparameter)."""
  init = fc(lambda: intrinsics.federated_value(learning_rate, SERVER))

  @fc(ct.type_at_server(np.float32), ct.type_at_clients(_WEIGHTS),
      ct.type_at_clients(_DATA))
  def next_fn(rate, weights, data):
    result_and_loss = intrinsics.federated_map(
        _client_update,
        (weights, data, intrinsics.federated_broadcast(rate)))
    loss = intrinsics.federated_mean(result_and_loss[1])
    return MeasuredProcessOutput(
        rate, result_and_loss[0],
        intrinsics.federated_zip(collections.OrderedDict(loss=loss)))

  get_hparams = fc(lambda rate: collections.OrderedDict(learning_rate=rate),
                   np.float32)
  set_hparams = fc(lambda rate, hparams: hparams['learning_rate'], np.float32,
                   _CLIENT_HPARAMS)
  return client_works.ClientWorkProcess(
      init, next_fn, get_hparams_fn=get_hparams, set_hparams_fn=set_hparams)


def _empty_server():
  return intrinsics.federated_value((), SERVER)


def _mean_aggregator(weighted=False, value_type=_TRAINABLE):
  """A weighted AggregationProcess of the mean of client updates.

  With `weighted=False` the mean ignores the weights (the process still
  takes them: learning processes need weighted aggregators, as in TFF).
  """
  init = fc(_empty_server)

  def next_fn(state, value, weight):
    mean = (intrinsics.federated_mean(value, weight) if weighted else
            intrinsics.federated_mean(value))
    return MeasuredProcessOutput(state, mean, _empty_server())

  return aggregation_process.AggregationProcess(
      init,
      fc(next_fn, init.type_signature.result, ct.type_at_clients(value_type),
         ct.type_at_clients(np.float32)))


def _unweighted_mean_aggregator():
  init = fc(_empty_server)
  return aggregation_process.AggregationProcess(
      init,
      fc(lambda state, value: MeasuredProcessOutput(
          state, intrinsics.federated_mean(value), _empty_server()),
         init.type_signature.result, ct.type_at_clients(_TRAINABLE)))


def _components(**overrides):
  components = dict(
      initial_model_weights_fn=_initial_weights,
      model_weights_distributor=distributors.build_broadcast_process(_WEIGHTS),
      client_work=_client_work(),
      model_update_aggregator=_mean_aggregator(),
      model_finalizer=finalizers.build_apply_optimizer_finalizer(
          sgdm.build_sgdm(learning_rate=1.0), _WEIGHTS))
  components.update(overrides)
  return components


def _client_dataset(seed):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(8, 2)).astype(np.float32)
  y = (x @ np.array([1.0, -2.0], np.float32) + 0.5).astype(np.float32)
  return tf.data.Dataset.from_tensor_slices(
      collections.OrderedDict(x=x, y=y)).batch(4)


class ComposeLearningProcessTest(parameterized.TestCase):

  def test_type_signature(self):

    process = composers.compose_learning_process(**_components())

    self.assertIsInstance(process, learning_process.LearningProcess)
    state_type = process.state_type
    self.assertIs(state_type.member.python_container,
                  composers.LearningAlgorithmState)
    self.assertEqual(
        str(state_type),
        '<global_model_weights=<trainable=<float32[2],float32>,'
        'non_trainable=<>>,distributor=<>,client_work=float32,aggregator=<>,'
        'finalizer=<learning_rate=float32>>@SERVER')
    self.assertEqual(str(process.next.type_signature.parameter[1]),
                     '{<x=float32[?,2],y=float32[?]>*}@CLIENTS')
    self.assertEqual(
        str(process.next.type_signature.result.metrics),
        '<distributor=<>,client_work=<loss=float32>,aggregator=<>,'
        'finalizer=<update_non_finite=int32>>@SERVER')
    self.assertEqual(
        str(process.get_hparams.type_signature.result),
        '<client_work=<learning_rate=float32>,'
        'finalizer=<learning_rate=float32>>')

  def test_weighted_aggregator_is_accepted(self):

    process = composers.compose_learning_process(
        **_components(model_update_aggregator=_mean_aggregator(weighted=True)))

    self.assertIsInstance(process, learning_process.LearningProcess)

  def test_raises_type_error_for_unweighted_aggregator(self):
    # As TFF's test_unweighted_aggregator_raises.

    with self.assertRaisesRegex(TypeError, 'weighted') as cm:
      composers.compose_learning_process(**_components(
          model_update_aggregator=_unweighted_mean_aggregator()))

    self.assertIs(type(cm.exception), TypeError)

  @parameterized.named_parameters(
      ('initial_model_weights_fn', 'initial_model_weights_fn', lambda: 0),
      ('distributor', 'model_weights_distributor', _mean_aggregator()),
      ('client_work', 'client_work',
       distributors.build_broadcast_process(_WEIGHTS)),
      ('aggregator', 'model_update_aggregator',
       finalizers.build_identity_finalizer(_WEIGHTS)),
      ('finalizer', 'model_finalizer', _mean_aggregator()),
  )
  def test_raises_type_error_for_wrong_component(self, name, value):

    with self.assertRaisesRegex(TypeError, name) as cm:
      composers.compose_learning_process(**_components(**{name: value}))

    self.assertIs(type(cm.exception), TypeError)

  @parameterized.named_parameters(
      ('with_argument', fc(lambda x: x, _WEIGHTS)),
      ('placed_result', fc(lambda: intrinsics.federated_value(0.0, SERVER))),
  )
  def test_raises_type_error_for_bad_initial_weights_fn(self, init):

    with self.assertRaises(TypeError) as cm:
      composers.compose_learning_process(
          **_components(initial_model_weights_fn=init))

    self.assertIs(type(cm.exception), TypeError)

  @parameterized.named_parameters(
      ('distributor', dict(model_weights_distributor=(
          distributors.build_broadcast_process(_TRAINABLE))),
       'distributor to accept the initial model weights'),
      ('aggregator', dict(model_update_aggregator=_mean_aggregator(
          value_type=ct.TensorType(np.float32, [2]))),
       'aggregator to accept the client update'),
      ('finalizer', dict(model_finalizer=finalizers.build_identity_finalizer(
          _WEIGHTS, update_type=np.float32)),
       'finalizer to accept the aggregated update'),
  )
  def test_raises_type_not_assignable_error_between_components(
      self, overrides, message):

    with self.assertRaisesRegex(type_errors.TypeNotAssignableError, message):
      composers.compose_learning_process(**_components(**overrides))


class ComposedExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_linear_model_loss_decreases_over_three_rounds(self):
    process = composers.compose_learning_process(**_components())
    data = [_client_dataset(seed) for seed in range(3)]
    state = process.initialize()
    losses = []

    for _ in range(3):
      state, metrics = process.next(state, data)
      losses.append(float(metrics['client_work']['loss']))

    self.assertIsInstance(state, composers.LearningAlgorithmState)
    self.assertEqual(list(metrics),
                     ['distributor', 'client_work', 'aggregator', 'finalizer'])
    self.assertLess(losses[1], losses[0])
    self.assertLess(losses[2], losses[1])
    weights = process.get_model_weights(state)
    self.assertIsInstance(weights, ModelWeights)
    self.assertFalse(np.allclose(weights.trainable[0], 0.0))

  def test_hparams_reach_components(self):
    process = composers.compose_learning_process(**_components())
    data = [_client_dataset(seed) for seed in range(2)]
    state = process.initialize()

    hparams = process.get_hparams(state)
    frozen = process.set_hparams(
        state,
        collections.OrderedDict(
            client_work=collections.OrderedDict(learning_rate=0.0),
            finalizer=collections.OrderedDict(learning_rate=0.5)))
    after, _ = process.next(frozen, data)

    self.assertAlmostEqual(float(hparams['client_work']['learning_rate']), 0.1,
                           places=6)
    self.assertAlmostEqual(float(hparams['finalizer']['learning_rate']), 1.0)
    self.assertEqual(float(frozen.client_work), 0.0)
    self.assertEqual(float(frozen.finalizer['learning_rate']), 0.5)
    # With a client learning rate of 0 the clients do not move the model.
    np.testing.assert_array_equal(after.global_model_weights.trainable[0],
                                  [0.0, 0.0])

  def test_set_model_weights_replaces_global_weights(self):
    process = composers.compose_learning_process(**_components())
    weights = ModelWeights([np.array([1.0, -2.0], np.float32),
                            np.float32(0.5)], [])

    state = process.set_model_weights(process.initialize(), weights)

    np.testing.assert_array_equal(
        process.get_model_weights(state).trainable[0], [1.0, -2.0])

  def test_weighted_aggregation_runs(self):
    process = composers.compose_learning_process(
        **_components(model_update_aggregator=_mean_aggregator(weighted=True)))
    data = [_client_dataset(0), _client_dataset(1).take(1)]

    state, metrics = process.next(process.initialize(), data)

    self.assertGreater(float(metrics['client_work']['loss']), 0.0)
    self.assertFalse(np.allclose(state.global_model_weights.trainable[0], 0.0))


if __name__ == '__main__':
  absltest.main()
