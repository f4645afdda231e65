from absl.testing import absltest
import keras
import numpy as np

import tffx
from tffx.aggregators import sum_factory
from tffx.learning.algorithms import fed_recon
from tffx.learning.models import reconstruction_model
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models

ClientWeighting = tffx.learning.ClientWeighting


def _loss_fn():
  return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _numpy_fed_recon_round(kernel, arrays, batch_size, recon_lr, client_lr):
  """One FedRecon round (alternate batches split), in NumPy.

  Returns the new kernel and the mean query loss before each step.
  """
  deltas, weights, loss_sum, count = [], [], 0.0, 0
  for x, y in arrays:
    batches = [(x[s:s + batch_size], y[s:s + batch_size])
               for s in range(0, len(y), batch_size)]
    bias = np.zeros(3)
    for xb, yb in batches[0::2]:
      bias = bias - recon_lr * test_models.numpy_gradient(kernel, bias, xb,
                                                          yb)[1]
    local_kernel = kernel
    for xb, yb in batches[1::2]:
      loss, _ = test_models.numpy_loss_and_accuracy(local_kernel, bias, xb, yb)
      loss_sum += loss * len(yb)
      count += len(yb)
      local_kernel = local_kernel - client_lr * test_models.numpy_gradient(
          local_kernel, bias, xb, yb)[0]
    deltas.append(kernel - local_kernel)
    weights.append(sum(len(yb) for _, yb in batches[1::2]))
  return kernel - np.average(deltas, axis=0, weights=weights), loss_sum / count


class FedReconTest(absltest.TestCase):

  def test_two_rounds_match_numpy_reconstruction_then_update(self):
    arrays = test_models.client_arrays(2, [6, 4])
    initial_kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0
    process = fed_recon.build_fed_recon(
        lambda: test_models.build_reconstruction_model(initial_kernel),
        loss_fn=_loss_fn,
        client_optimizer_fn=sgdm.build_sgdm(0.5),
        reconstruction_optimizer_fn=sgdm.build_sgdm(0.3))
    state = process.initialize()
    kernel = initial_kernel.astype(np.float64)

    for _ in range(2):
      state, metrics = process.next(state,
                                    test_models.client_datasets(arrays, 2))
      kernel, loss = _numpy_fed_recon_round(kernel, arrays, 2, 0.3, 0.5)
      self.assertAlmostEqual(float(metrics['client_work']['train']['loss']),
                             loss, places=5)

    np.testing.assert_allclose(
        process.get_model_weights(state).trainable[0], kernel, rtol=1e-4,
        atol=1e-5)

  def test_loss_decreases_over_rounds(self):
    process = fed_recon.build_fed_recon(
        test_models.build_reconstruction_model, loss_fn=_loss_fn,
        metrics_fn=lambda: [keras.metrics.SparseCategoricalAccuracy()])

    losses = test_models.training_losses(process, rounds=4)

    self.assertEqual(losses, sorted(losses, reverse=True))
    self.assertLess(losses[-1], 0.6 * losses[0])

  def test_type_signature_has_only_global_weights_and_tff_metrics(self):
    process = fed_recon.build_fed_recon(
        test_models.build_reconstruction_model(), loss_fn=_loss_fn,
        metrics_fn=lambda: [keras.metrics.SparseCategoricalAccuracy()])

    result = process.next.type_signature.result

    self.assertEqual(
        str(result.state.member.global_model_weights),
        '<trainable=<float32[4,3]>,non_trainable=<>>')
    self.assertEqual(
        str(result.metrics),
        '<distributor=<>,client_work=<train=<sparse_categorical_accuracy='
        'float32,loss=float32>>,aggregator=<mean_value=<>,mean_weight=<>>,'
        'finalizer=<update_non_finite=int32>>@SERVER')

  def test_unweighted_aggregator_requires_uniform_weighting(self):
    with self.assertRaisesRegex(ValueError, 'ClientWeighting.UNIFORM'):
      fed_recon.build_fed_recon(
          test_models.build_reconstruction_model, loss_fn=_loss_fn,
          model_aggregator_factory=sum_factory.SumFactory())

  def test_unweighted_aggregator_with_uniform_weighting_sums_deltas(self):
    arrays = test_models.client_arrays(2, [4, 4])
    process = fed_recon.build_fed_recon(
        test_models.build_reconstruction_model, loss_fn=_loss_fn,
        client_weighting=ClientWeighting.UNIFORM,
        model_aggregator_factory=sum_factory.SumFactory(),
        dataset_split_fn=reconstruction_model.ReconstructionModel
        .build_dataset_split_fn(recon_steps_max=1, post_recon_steps_max=1))

    state, _ = process.next(process.initialize(),
                            test_models.client_datasets(arrays, 4))

    deltas = [0.1 * test_models.numpy_gradient(
        np.zeros([4, 3]),
        -0.1 * test_models.numpy_gradient(np.zeros([4, 3]), np.zeros(3), x,
                                          y)[1], x, y)[0] for x, y in arrays]
    np.testing.assert_allclose(process.get_model_weights(state).trainable[0],
                               -np.sum(deltas, axis=0), rtol=1e-4, atol=1e-6)

  def test_is_exported_as_tff_learning_algorithms_name(self):
    self.assertIs(tffx.learning.algorithms.build_fed_recon,
                  fed_recon.build_fed_recon)

  def test_raises_type_error_for_model_fn_of_functional_model(self):
    with self.assertRaisesRegex(TypeError, 'ReconstructionModel'):
      fed_recon.build_fed_recon(test_models.build_softmax_regression,
                                loss_fn=_loss_fn)


if __name__ == '__main__':
  absltest.main()
