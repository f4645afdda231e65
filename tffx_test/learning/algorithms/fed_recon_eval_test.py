import collections

from absl.testing import absltest
import keras
import numpy as np

import tffx
from tffx.learning.algorithms import fed_recon
from tffx.learning.algorithms import fed_recon_eval
from tffx.learning.metrics import sampling
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models


def _loss_fn():
  return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


class FedReconEvalTest(absltest.TestCase):

  def test_metrics_match_numpy_reconstruction_then_evaluation(self):
    arrays = test_models.client_arrays(2, [6, 4])
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0 - 0.5
    evaluation = fed_recon_eval.build_fed_recon_eval(
        test_models.build_reconstruction_model(kernel), loss_fn=_loss_fn,
        metrics_fn=lambda: [keras.metrics.SparseCategoricalAccuracy()],
        reconstruction_optimizer_fn=sgdm.build_sgdm(0.5))
    loss_sum, correct, count = 0.0, 0.0, 0

    state, metrics = evaluation.next(evaluation.initialize(),
                                     test_models.client_datasets(arrays, 2))

    for x, y in arrays:
      batches = [(x[s:s + 2], y[s:s + 2]) for s in range(0, len(y), 2)]
      bias = np.zeros(3)
      for xb, yb in batches[0::2]:
        bias = bias - 0.5 * test_models.numpy_gradient(kernel, bias, xb, yb)[1]
      for xb, yb in batches[1::2]:
        loss, accuracy = test_models.numpy_loss_and_accuracy(
            kernel, bias, xb, yb)
        loss_sum, correct, count = (loss_sum + loss * len(yb),
                                    correct + accuracy * len(yb),
                                    count + len(yb))
    current = metrics['client_work']['eval']['current_round_metrics']
    self.assertAlmostEqual(float(current['loss']), loss_sum / count, places=5)
    self.assertAlmostEqual(float(current['sparse_categorical_accuracy']),
                           correct / count, places=6)
    np.testing.assert_array_equal(
        evaluation.get_model_weights(state).trainable[0], kernel)

  def test_evaluation_loss_falls_as_fed_recon_trains(self):
    arrays = test_models.client_arrays(6, 20)
    training = fed_recon.build_fed_recon(
        test_models.build_reconstruction_model, loss_fn=_loss_fn)
    evaluation = fed_recon_eval.build_fed_recon_eval(
        test_models.build_reconstruction_model, loss_fn=_loss_fn)
    data = test_models.client_datasets(arrays, 5)
    state = training.initialize()
    eval_state = evaluation.initialize()
    losses = []

    for _ in range(3):
      eval_state = evaluation.set_model_weights(
          eval_state, training.get_model_weights(state))
      eval_state, metrics = evaluation.next(eval_state, data)
      losses.append(float(
          metrics['client_work']['eval']['current_round_metrics']['loss']))
      state, _ = training.next(state, data)

    self.assertEqual(losses, sorted(losses, reverse=True))
    self.assertLess(losses[-1], 0.8 * losses[0])

  def test_sampled_losses_per_client_with_sampling_process(self):
    arrays = test_models.client_arrays(3, [6, 4, 8])
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0 - 0.5
    build = lambda process: fed_recon_eval.build_fed_recon_eval(
        test_models.build_reconstruction_model(kernel), loss_fn=_loss_fn,
        metrics_aggregation_process=process)
    # The unfinalized loss is <sum, count>, as the default process sums it.
    unfinalized_type = build(None).state_type.member.client_work
    process = sampling.FinalizeThenSampleFactory(2).create(
        collections.OrderedDict(loss=lambda loss: loss[0] / loss[1]),
        unfinalized_type)
    evaluation = build(process)
    data = test_models.client_datasets(arrays, 2)
    losses_per_client = [
        float(build(None).next(build(None).initialize(), [client])[1]
              ['client_work']['eval']['current_round_metrics']['loss'])
        for client in data
    ]

    state, _ = evaluation.next(evaluation.initialize(), data)
    _, metrics = evaluation.next(state, data)

    eval_metrics = metrics['client_work']['eval']
    for sampled in (eval_metrics['current_round_metrics']['loss'],
                    eval_metrics['total_rounds_metrics']['loss']):
      self.assertLen(sampled, 2)
      for loss in sampled:
        self.assertTrue(np.isclose(loss, losses_per_client).any())

  def test_metrics_type(self):
    evaluation = fed_recon_eval.build_fed_recon_eval(
        test_models.build_reconstruction_model, loss_fn=_loss_fn)

    self.assertEqual(
        str(evaluation.next.type_signature.result.metrics),
        '<distributor=<>,client_work=<eval=<current_round_metrics=<loss='
        'float32>,total_rounds_metrics=<loss=float32>>>,aggregator=<>,'
        'finalizer=<>>@SERVER')

  def test_is_exported_as_tff_learning_algorithms_name(self):
    self.assertIs(tffx.learning.algorithms.build_fed_recon_eval,
                  fed_recon_eval.build_fed_recon_eval)


if __name__ == '__main__':
  absltest.main()
