from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

import tffx
from tffx.aggregators import errors as aggregator_errors
from tffx.aggregators import mean
from tffx.learning.algorithms import mime
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models

ClientWeighting = tffx.learning.ClientWeighting


def _numpy_mime_lite_round(weights, accumulator, arrays, client_weights,
                           batch_size, learning_rate, momentum):
  """One round of Mime Lite with SGD-momentum as base optimizer, in NumPy."""
  deltas, full_gradients = [], []
  for x, y in arrays:
    full_gradients.append(test_models.numpy_gradient(*weights, x, y))
    local = list(weights)
    for start in range(0, len(y), batch_size):
      gradient = test_models.numpy_gradient(*local, x[start:start + batch_size],
                                 y[start:start + batch_size])
      local = [w - learning_rate * (momentum * a + g)
               for w, a, g in zip(local, accumulator, gradient)]
    deltas.append([w0 - w for w0, w in zip(weights, local)])
  mean_delta = [np.average([d[i] for d in deltas], axis=0,
                           weights=client_weights) for i in range(2)]
  mean_gradient = [np.average([g[i] for g in full_gradients], axis=0,
                              weights=client_weights) for i in range(2)]
  new_weights = [w - d for w, d in zip(weights, mean_delta)]
  new_accumulator = [momentum * a + g
                     for a, g in zip(accumulator, mean_gradient)]
  return new_weights, new_accumulator


class MimeLiteTest(parameterized.TestCase):

  @parameterized.named_parameters(('weighted', True), ('unweighted', False))
  def test_two_rounds_match_numpy_mime_lite(self, weighted):
    arrays = test_models.client_arrays(2, [6, 4])
    initial_kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0
    model = test_models.build_softmax_regression(initial_kernel)
    base = sgdm.build_sgdm(learning_rate=0.3, momentum=0.5)
    if weighted:
      process = mime.build_weighted_mime_lite(model, base)
    else:
      process = mime.build_unweighted_mime_lite(model, base)
    state = process.initialize()
    weights = [initial_kernel.astype(np.float64), np.zeros(3)]
    accumulator = [np.zeros([4, 3]), np.zeros(3)]

    for _ in range(2):
      state, _ = process.next(state, test_models.client_datasets(arrays, 3))
      weights, accumulator = _numpy_mime_lite_round(
          weights, accumulator, arrays, [6, 4] if weighted else [1, 1], 3,
          0.3, 0.5)

    optimizer_state = state.client_work[0]
    for actual, wanted in zip(
        process.get_model_weights(state).trainable, weights):
      np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)
    for actual, wanted in zip(optimizer_state['accumulator'], accumulator):
      np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)

  def test_variable_model_round_matches_numpy_and_counts_examples_once(self):
    arrays = test_models.client_arrays(2, [6, 4])
    initial_kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0
    process = mime.build_weighted_mime_lite(
        lambda: test_models.SoftmaxRegressionVariableModel(initial_kernel),
        sgdm.build_sgdm(learning_rate=0.3, momentum=0.5))
    weights = [initial_kernel.astype(np.float64), np.zeros(3)]
    accumulator = [np.zeros([4, 3]), np.zeros(3)]

    state, metrics = process.next(process.initialize(),
                                  test_models.client_datasets(arrays, 3))
    weights, accumulator = _numpy_mime_lite_round(
        weights, accumulator, arrays, [6, 4], 3, 0.3, 0.5)

    for actual, wanted in zip(
        process.get_model_weights(state).trainable, weights):
      np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)
    for actual, wanted in zip(state.client_work[0]['accumulator'],
                              accumulator):
      np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)
    # The model's own metrics, from the local training pass only.
    self.assertEqual(list(metrics['client_work']['train']),
                     ['accuracy', 'loss', 'num_examples'])
    self.assertEqual(int(metrics['client_work']['train']['num_examples']), 10)

  @parameterized.named_parameters(
      ('weighted', mime.build_weighted_mime_lite),
      ('unweighted', mime.build_unweighted_mime_lite),
      ('schedule', lambda model, base: mime.
       build_mime_lite_with_optimizer_schedule(model, lambda r: 0.1, base)))
  def test_loss_decreases_over_rounds(self, build):
    process = build(test_models.build_softmax_regression(),
                    sgdm.build_sgdm(learning_rate=0.1, momentum=0.9))

    losses = test_models.training_losses(process, rounds=4)

    self.assertEqual(losses, sorted(losses, reverse=True))
    self.assertLess(losses[-1], 0.5 * losses[0])

  def test_schedule_sets_learning_rate_of_each_round(self):
    arrays = test_models.client_arrays(2, [6, 4])
    process = mime.build_mime_lite_with_optimizer_schedule(
        test_models.build_softmax_regression(),
        lambda r: 0.2 / tf.cast(r + 1, tf.float32),
        sgdm.build_sgdm(learning_rate=0.7))
    state = process.initialize()
    rates = [float(state.client_work[1][0]['learning_rate'])]

    for _ in range(2):
      state, _ = process.next(state, test_models.client_datasets(arrays, 3))
      rates.append(float(state.client_work[1][0]['learning_rate']))

    self.assertEqual(int(state.client_work[0]), 2)
    np.testing.assert_allclose(rates, [0.2, 0.1, 0.2 / 3], rtol=1e-6)

  def test_schedule_first_round_equals_weighted_mime_lite_at_same_rate(self):
    arrays = test_models.client_arrays(2, [6, 4])
    base = sgdm.build_sgdm(learning_rate=0.3, momentum=0.5)
    scheduled = mime.build_mime_lite_with_optimizer_schedule(
        test_models.build_softmax_regression(), lambda r: 0.3, base)
    plain = mime.build_weighted_mime_lite(
        test_models.build_softmax_regression(), base)
    data = test_models.client_datasets(arrays, 3)

    scheduled_state, _ = scheduled.next(scheduled.initialize(), data)
    plain_state, _ = plain.next(plain.initialize(), data)

    for a, b in zip(scheduled.get_model_weights(scheduled_state).trainable,
                    plain.get_model_weights(plain_state).trainable):
      np.testing.assert_allclose(a, b, rtol=1e-6)

  def test_simulation_loop_gives_same_weights_as_dataset_reduce(self):
    arrays = test_models.client_arrays(2, [6, 4])
    data = test_models.client_datasets(arrays, 3)
    results = []

    for simulation_loop in (False, True):
      process = mime.build_weighted_mime_lite(
          test_models.build_softmax_regression(),
          sgdm.build_sgdm(learning_rate=0.3, momentum=0.5),
          use_experimental_simulation_loop=simulation_loop)
      state, _ = process.next(process.initialize(), data)
      results.append(process.get_model_weights(state).trainable)

    for a, b in zip(*results):
      np.testing.assert_allclose(a, b, rtol=1e-6)

  def test_type_signature_of_state_and_metrics(self):
    process = mime.build_weighted_mime_lite(
        test_models.build_softmax_regression(with_accuracy=False),
        sgdm.build_sgdm(learning_rate=0.1, momentum=0.9))

    result = process.next.type_signature.result

    self.assertEqual(
        str(result.state.member.client_work),
        '<<learning_rate=float32,momentum=float32,accumulator=<float32[4,3],'
        'float32[3]>>,<value_sum_process=<>,weight_sum_process=<>>>')
    self.assertEqual(
        str(result.metrics),
        '<distributor=<>,client_work=<train=<loss=float32,'
        'num_examples=int64,num_batches=int64>>,aggregator=<mean_value=<>,'
        'mean_weight=<>>,finalizer=<update_non_finite=int32>>@SERVER')

  def test_names_are_exported_in_tff_learning_algorithms(self):
    algorithms = tffx.learning.algorithms

    self.assertIs(algorithms.build_weighted_mime_lite,
                  mime.build_weighted_mime_lite)
    self.assertIs(algorithms.build_unweighted_mime_lite,
                  mime.build_unweighted_mime_lite)
    self.assertIs(algorithms.build_mime_lite_with_optimizer_schedule,
                  mime.build_mime_lite_with_optimizer_schedule)

  def test_raises_type_error_for_optimizer_callable(self):
    with self.assertRaises(TypeError):
      mime.build_weighted_mime_lite(test_models.build_softmax_regression(),
                                    lambda: sgdm.build_sgdm(0.1))

  def test_raises_type_error_for_client_weighting_function(self):
    with self.assertRaises(TypeError):
      mime.build_weighted_mime_lite(
          test_models.build_softmax_regression(), sgdm.build_sgdm(0.1),
          client_weighting=lambda metrics: metrics['num_batches'])

  def test_raises_factory_type_error_for_weighted_aggregator_in_unweighted(
      self):
    with self.assertRaises(aggregator_errors.FactoryTypeError):
      mime.build_unweighted_mime_lite(
          test_models.build_softmax_regression(), sgdm.build_sgdm(0.1),
          full_gradient_aggregator=mean.MeanFactory())


if __name__ == '__main__':
  absltest.main()
