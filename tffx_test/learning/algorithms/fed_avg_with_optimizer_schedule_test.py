from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

import tffx
from tffx.learning.algorithms import fed_avg_with_optimizer_schedule
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models

build = fed_avg_with_optimizer_schedule.build_weighted_fed_avg_with_optimizer_schedule


def _halving(round_num):
  return 0.4 * tf.pow(0.5, tf.cast(round_num, tf.float32))


class FedAvgWithOptimizerScheduleTest(parameterized.TestCase):

  def test_loss_decreases_over_rounds(self):
    process = build(test_models.build_softmax_regression(), _halving,
                    sgdm.build_sgdm)

    losses = test_models.training_losses(process, rounds=4)

    self.assertEqual(losses, sorted(losses, reverse=True))
    self.assertLess(losses[-1], 0.6 * losses[0])

  @parameterized.named_parameters(
      ('functional_model', test_models.build_softmax_regression),
      ('variable_model', lambda: test_models.SoftmaxRegressionVariableModel))
  def test_rounds_use_scheduled_learning_rates_as_numpy_local_sgd(
      self, build_model_fn):
    arrays = test_models.client_arrays(2, [6, 4])
    process = build(build_model_fn(), _halving, sgdm.build_sgdm)
    state = process.initialize()
    kernel, bias = np.zeros([4, 3]), np.zeros(3)
    rates = []

    for round_num in range(2):
      state, metrics = process.next(state,
                                    test_models.client_datasets(arrays, 3))
      rates.append(float(metrics['client_work']['client_learning_rate']))
      client_models = [
          test_models.numpy_local_sgd(kernel, bias, x, y, 3,
                                      0.4 * 0.5**round_num) for x, y in arrays
      ]
      kernel, bias = [
          np.average([m[i] for m in client_models], axis=0, weights=[6, 4])
          for i in range(2)
      ]

    weights = process.get_model_weights(state)
    np.testing.assert_allclose(rates, [0.4, 0.2])
    self.assertEqual(int(state.client_work), 2)
    np.testing.assert_allclose(weights.trainable[0], kernel, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(weights.trainable[1], bias, rtol=1e-4,
                               atol=1e-5)

  def test_type_signature_of_state_and_metrics(self):
    process = build(test_models.build_softmax_regression(with_accuracy=False),
                    _halving, sgdm.build_sgdm)

    result = process.next.type_signature.result

    self.assertEqual(str(result.state.member.client_work), 'int32')
    self.assertEqual(
        str(result.metrics),
        '<distributor=<>,client_work=<train=<loss=float32,'
        'num_examples=int64,num_batches=int64>,'
        'client_learning_rate=float32>,aggregator=<mean_value=<>,'
        'mean_weight=<>>,finalizer=<update_non_finite=int32>>@SERVER')

  def test_is_exported_as_tff_learning_algorithms_name(self):
    self.assertIs(
        tffx.learning.algorithms.build_weighted_fed_avg_with_optimizer_schedule,
        build)

  def test_raises_type_error_for_learning_rate_not_callable(self):
    with self.assertRaises(TypeError):
      build(test_models.build_softmax_regression(), 0.1, sgdm.build_sgdm)


if __name__ == '__main__':
  absltest.main()
