import collections

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tffx.aggregators import errors as aggregator_errors
from tffx.aggregators import mean
from tffx.computations import serialization
from tffx.learning.templates import client_weight_lib
from tffx.learning.templates import loop_builder
from tffx.learning import model_update_aggregator
from tffx.learning.algorithms import errors
from tffx.learning.algorithms import fed_avg
from tffx.learning.metrics import counters
from tffx.learning.models import keras_utils
from tffx.learning.models import model_weights
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import learning_process
from tffx_test.learning.algorithms import test_models

ClientWeighting = client_weight_lib.ClientWeighting
LoopImplementation = loop_builder.LoopImplementation
ModelWeights = model_weights.ModelWeights


def _weights_as_arrays(process, state):
  weights = process.get_model_weights(state)
  return [np.asarray(w) for w in weights.trainable]


class FedAvgConvergenceTest(absltest.TestCase):

  def test_loss_decreases_and_accuracy_beats_threshold_on_non_iid_clients(self):
    # 10 clients of 20 examples, each 80% from one class (test_models).
    arrays = test_models.client_arrays(10, 20)
    # Three clients skewed to different classes: balanced together.
    held_out = test_models.client_arrays(3, 100, seed=1)
    test_x = np.concatenate([x for x, _ in held_out])
    test_y = np.concatenate([y for _, y in held_out])
    process = fed_avg.build_weighted_fed_avg(
        test_models.build_softmax_regression(),
        client_optimizer_fn=sgdm.build_sgdm(learning_rate=0.1))
    state = process.initialize()
    losses = []

    for _ in range(5):
      state, metrics = process.next(
          state, test_models.client_datasets(arrays, batch_size=5))
      losses.append(float(metrics['client_work']['train']['loss']))

    kernel, bias = _weights_as_arrays(process, state)
    _, accuracy = test_models.numpy_loss_and_accuracy(kernel, bias, test_x,
                                                      test_y)
    self.assertEqual(losses, sorted(losses, reverse=True))
    self.assertLess(losses[-1], 0.5 * losses[0])
    # Chance is 1/3 on the balanced held-out set, and a model that learned
    # only one client's majority class also gets 1/3; the nearest-center
    # rule, which softmax regression can express, gets about 0.96 (see
    # test_models). 0.85 requires learning all three classes from skewed
    # clients, with margin for five rounds of training.
    self.assertGreater(accuracy, 0.85)


class FedAvgTest(parameterized.TestCase):

  def test_type_signature_and_metrics_structure(self):
    arrays = test_models.client_arrays(2, [6, 4])
    process = fed_avg.build_weighted_fed_avg(
        test_models.build_softmax_regression(), sgdm.build_sgdm(0.1))

    _, metrics = process.next(process.initialize(),
                              test_models.client_datasets(arrays, 4))

    self.assertIsInstance(process, learning_process.LearningProcess)
    self.assertEqual(
        str(process.next.type_signature.result.metrics),
        '<distributor=<>,client_work=<train=<accuracy=float32,loss=float32,'
        'num_examples=int64,num_batches=int64>>,aggregator=<mean_value=<>,'
        'mean_weight=<>>,finalizer=<update_non_finite=int32>>@SERVER')
    self.assertEqual(list(metrics),
                     ['distributor', 'client_work', 'aggregator', 'finalizer'])
    self.assertEqual(metrics['client_work']['train']['num_examples'], 10)
    self.assertEqual(metrics['client_work']['train']['num_batches'], 2 + 1)
    self.assertEqual(
        str(process.get_hparams.type_signature.result),
        '<client_work=<learning_rate=float32>,'
        'finalizer=<learning_rate=float32>>')

  @parameterized.named_parameters(
      ('weighted', True, [7, 3]),
      ('unweighted', False, [7, 3]),
      ('weighted_none_is_num_examples', None, [7, 3]),
  )
  def test_one_round_is_mean_of_numpy_client_models(self, weighted, counts):
    arrays = test_models.client_arrays(2, counts)
    initial_kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0
    model = test_models.build_softmax_regression(initial_kernel)
    if weighted is None:
      process = fed_avg.build_weighted_fed_avg(model, sgdm.build_sgdm(0.5),
                                               client_weighting=None)
    elif weighted:
      process = fed_avg.build_weighted_fed_avg(model, sgdm.build_sgdm(0.5))
    else:
      process = fed_avg.build_unweighted_fed_avg(model, sgdm.build_sgdm(0.5))

    state, _ = process.next(process.initialize(),
                            test_models.client_datasets(arrays, 3))

    client_models = [
        test_models.numpy_local_sgd(initial_kernel, np.zeros(3), x, y, 3, 0.5)
        for x, y in arrays
    ]
    client_weights = [1, 1] if weighted is False else counts
    expected = [
        np.average([m[i] for m in client_models], axis=0,
                   weights=client_weights) for i in range(2)
    ]
    for actual, wanted in zip(_weights_as_arrays(process, state), expected):
      np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)

  def test_client_weighting_function_weights_updates(self):
    arrays = test_models.client_arrays(2, [6, 2])
    by_batches = fed_avg.build_weighted_fed_avg(
        test_models.build_softmax_regression(), sgdm.build_sgdm(0.5),
        client_weighting=lambda metrics: metrics['num_batches'])
    uniform = fed_avg.build_weighted_fed_avg(
        test_models.build_softmax_regression(), sgdm.build_sgdm(0.5),
        client_weighting=ClientWeighting.UNIFORM)
    data = test_models.client_datasets(arrays, 2)

    batches_state, _ = by_batches.next(by_batches.initialize(), data)
    uniform_state, _ = uniform.next(uniform.initialize(), data)

    client_models = [
        test_models.numpy_local_sgd(np.zeros([4, 3]), np.zeros(3), x, y, 2, 0.5)
        for x, y in arrays
    ]
    # 3 batches and 1 batch; uniform weighting gives the plain mean.
    for weights, state, process in (([3, 1], batches_state, by_batches),
                                    ([1, 1], uniform_state, uniform)):
      expected = np.average([m[0] for m in client_models], axis=0,
                            weights=weights)
      np.testing.assert_allclose(
          _weights_as_arrays(process, state)[0], expected, rtol=1e-4,
          atol=1e-5)

  def test_client_learning_rate_zero_keeps_weights(self):
    arrays = test_models.client_arrays(3, 8)
    data = test_models.client_datasets(arrays, 4)
    process = fed_avg.build_weighted_fed_avg(
        test_models.build_softmax_regression(), sgdm.build_sgdm(0.1))
    state, _ = process.next(process.initialize(), data)
    before = _weights_as_arrays(process, state)
    hparams = process.get_hparams(state)
    hparams['client_work']['learning_rate'] = 0.0

    frozen, _ = process.next(process.set_hparams(state, hparams), data)
    restored = process.set_hparams(frozen, process.get_hparams(state))
    moved, _ = process.next(restored, data)

    self.assertEqual(
        float(process.get_hparams(frozen)['client_work']['learning_rate']), 0.0)
    for b, f in zip(before, _weights_as_arrays(process, frozen)):
      np.testing.assert_array_equal(f, b)
    self.assertFalse(
        np.allclose(_weights_as_arrays(process, moved)[0], before[0]))

  def test_round_without_finite_update_keeps_weights(self):
    arrays = test_models.client_arrays(2, 8)
    diverged = [(np.full_like(x, np.nan), y) for x, y in arrays]
    process = fed_avg.build_weighted_fed_avg(
        test_models.build_softmax_regression(), sgdm.build_sgdm(0.1))

    state, metrics = process.next(process.initialize(),
                                  test_models.client_datasets(arrays, 4))
    kept, kept_metrics = process.next(state,
                                      test_models.client_datasets(diverged, 4))

    # Every client's delta is dropped (weight 0), so the mean is 0/0.
    self.assertEqual(int(metrics['finalizer']['update_non_finite']), 0)
    self.assertEqual(int(kept_metrics['finalizer']['update_non_finite']), 1)
    for before, after in zip(_weights_as_arrays(process, state),
                             _weights_as_arrays(process, kept)):
      np.testing.assert_array_equal(after, before)
    self.assertTrue(np.all(np.isfinite(_weights_as_arrays(process, kept)[0])))

  def test_server_learning_rate_scales_the_mean_delta(self):
    arrays = test_models.client_arrays(2, 8)
    data = test_models.client_datasets(arrays, 4)
    process = fed_avg.build_weighted_fed_avg(
        test_models.build_softmax_regression(), sgdm.build_sgdm(0.1))
    state = process.initialize()
    half = process.set_hparams(
        state,
        collections.OrderedDict(
            client_work=collections.OrderedDict(learning_rate=0.1),
            finalizer=collections.OrderedDict(learning_rate=0.5)))

    full_state, _ = process.next(state, data)
    half_state, _ = process.next(half, data)

    # From zero weights, w = -lr_server * mean delta.
    np.testing.assert_allclose(
        _weights_as_arrays(process, half_state)[0],
        0.5 * _weights_as_arrays(process, full_state)[0], rtol=1e-5)

  def test_get_and_set_model_weights_round_trip(self):
    process = fed_avg.build_weighted_fed_avg(
        test_models.build_softmax_regression(), sgdm.build_sgdm(0.1))
    weights = ModelWeights(
        (np.full([4, 3], 0.25, np.float32), np.float32([1.0, -1.0, 0.5])), ())

    state = process.set_model_weights(process.initialize(), weights)
    result = process.get_model_weights(state)

    self.assertIsInstance(result, ModelWeights)
    np.testing.assert_array_equal(result.trainable[0], weights.trainable[0])
    np.testing.assert_array_equal(result.trainable[1], weights.trainable[1])
    self.assertEqual(tuple(result.non_trainable), ())

  @parameterized.named_parameters(
      ('weighted', fed_avg.build_weighted_fed_avg),
      ('unweighted', fed_avg.build_unweighted_fed_avg),
  )
  def test_loop_implementations_give_same_weights(self, builder):
    arrays = test_models.client_arrays(2, [7, 5])
    results = []

    for loop in (LoopImplementation.DATASET_REDUCE,
                 LoopImplementation.DATASET_ITERATOR):
      process = builder(test_models.build_softmax_regression(),
                        sgdm.build_sgdm(0.1, momentum=0.9),
                        loop_implementation=loop)
      state = process.initialize()
      for _ in range(2):
        state, metrics = process.next(state,
                                      test_models.client_datasets(arrays, 3))
      results.append((_weights_as_arrays(process, state),
                      float(metrics['client_work']['train']['loss'])))

    (reduce_weights, reduce_loss), (iterator_weights, iterator_loss) = results
    for a, b in zip(reduce_weights, iterator_weights):
      np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    self.assertAlmostEqual(reduce_loss, iterator_loss, places=6)

  def _train_keras_dense(self, client_sizes, make_metrics, rounds):
    """(last round's train metrics, each round's loss) of a Keras model."""
    arrays = test_models.client_arrays(3, client_sizes)

    def model_fn():
      keras.utils.set_random_seed(0)
      return keras_utils.from_keras_model(
          keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]),
          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
          input_spec=test_models.INPUT_SPEC,
          metrics=make_metrics())

    process = fed_avg.build_weighted_fed_avg(
        model_fn, client_optimizer_fn=lambda: sgdm.build_sgdm(0.1))
    state = process.initialize()
    losses = []
    for _ in range(rounds):
      state, metrics = process.next(state,
                                    test_models.client_datasets(arrays, 4))
      losses.append(float(metrics['client_work']['train']['loss']))
    return metrics['client_work']['train'], losses

  def test_keras_model_loss_decreases(self):
    train, losses = self._train_keras_dense(
        12, lambda: [keras.metrics.SparseCategoricalAccuracy()], rounds=3)

    self.assertEqual(list(train),
                     ['sparse_categorical_accuracy', 'loss', 'num_examples',
                      'num_batches'])
    self.assertLess(losses[1], losses[0])
    self.assertLess(losses[2], losses[1])

  def test_keras_model_with_given_counters_reports_each_count_once(self):
    train, losses = self._train_keras_dense(
        [12, 5, 9], lambda: [counters.NumExamplesCounter(),
                             counters.NumBatchesCounter(),
                             keras.metrics.SparseCategoricalAccuracy()],
        rounds=2)

    self.assertEqual(list(train), ['num_examples', 'num_batches',
                                   'sparse_categorical_accuracy', 'loss'])
    self.assertEqual(train['num_examples'], 12 + 5 + 9)
    self.assertEqual(train['num_batches'], 3 + 2 + 3)
    self.assertLess(losses[1], losses[0])

  def test_next_of_keras_model_survives_serialization_round_trip(self):
    arrays = test_models.client_arrays(2, 6)

    def model_fn():
      return keras_utils.from_keras_model(
          keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]),
          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
          input_spec=test_models.INPUT_SPEC)

    process = fed_avg.build_weighted_fed_avg(
        model_fn, sgdm.build_sgdm(0.1),
        loop_implementation=LoopImplementation.DATASET_ITERATOR)
    state = process.initialize()
    data = test_models.client_datasets(arrays, 3)

    original, _ = process.next(state, data)
    copied, _ = serialization.round_trip(process.next)(state, data)

    for a, b in zip(original.global_model_weights.trainable,
                    copied.global_model_weights.trainable):
      np.testing.assert_array_equal(a, b)

  @parameterized.named_parameters(
      ('robust', fed_avg.build_weighted_fed_avg,
       model_update_aggregator.robust_aggregator),
      ('differential_privacy', fed_avg.build_unweighted_fed_avg,
       lambda: model_update_aggregator.dp_aggregator(
           noise_multiplier=0.1, clients_per_round=2)),
  )
  def test_recommended_aggregator_reports_its_measurements(
      self, builder, aggregator_fn):
    arrays = test_models.client_arrays(2, 6)
    process = builder(
        test_models.build_softmax_regression(), sgdm.build_sgdm(0.1),
        model_aggregator=aggregator_fn())

    state, metrics = process.next(process.initialize(),
                                  test_models.client_datasets(arrays, 3))

    self.assertNotEmpty(metrics['aggregator'])
    self.assertTrue(np.all(np.isfinite(_weights_as_arrays(process, state)[0])))

  @parameterized.named_parameters(
      ('model', dict(model_fn=lambda: 'a model'), errors.ModelFnError),
      ('client_optimizer', dict(client_optimizer_fn=tf.keras.optimizers.SGD),
       errors.OptimizerFnError),
      ('server_optimizer', dict(server_optimizer_fn=0.1),
       errors.OptimizerFnError),
      ('client_weighting', dict(client_weighting='num_examples'),
       errors.ClientWeightingError),
      ('unweighted_aggregator', dict(
          model_aggregator=mean.UnweightedMeanFactory()),
       aggregator_errors.FactoryTypeError),
      ('loop', dict(loop_implementation='reduce'), TypeError),
  )
  def test_raises_for_wrong_argument(self, overrides, error):
    arguments = dict(model_fn=test_models.build_softmax_regression(),
                     client_optimizer_fn=sgdm.build_sgdm(0.1))
    arguments.update(overrides)

    with self.assertRaises(error) as cm:
      fed_avg.build_weighted_fed_avg(**arguments)

    self.assertIs(type(cm.exception), error)


if __name__ == '__main__':
  absltest.main()
