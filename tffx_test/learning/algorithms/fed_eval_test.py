from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.learning.templates import loop_builder
from tffx.learning.algorithms import fed_eval
from tffx.learning.metrics import sampling
from tffx.learning.models import model_weights
from tffx.learning.templates import distributors
from tffx.learning.templates import model_training
from tffx.types import type_conversions
from tffx_test.learning.algorithms import test_models

LoopImplementation = loop_builder.LoopImplementation
ModelWeights = model_weights.ModelWeights
_KERNEL = np.float32([[1.0, -0.5, 0.0], [0.0, 1.5, -0.5], [-1.0, 0.0, 2.0],
                      [0.3, 0.3, 0.3]])
_BIAS = np.float32([0.0, 0.2, -0.2])


def _evaluate_twice(evaluation, arrays):
  """(state, metrics) after two rounds of `evaluation` at _KERNEL, _BIAS."""
  state = evaluation.set_model_weights(evaluation.initialize(),
                                       ModelWeights((_KERNEL, _BIAS), ()))
  data = test_models.client_datasets(arrays, 4)
  state, _ = evaluation.next(state, data)
  return evaluation.next(state, data)


class FedEvalTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('reduce', LoopImplementation.DATASET_REDUCE),
      ('iterator', LoopImplementation.DATASET_ITERATOR),
  )
  def test_metrics_match_centralized_evaluation(self, loop):
    # Clients of very different sizes: a mean of client means would differ.
    arrays = test_models.client_arrays(num_clients=3,
                                       examples_per_client=[30, 4, 11])
    evaluation = fed_eval.build_fed_eval(
        test_models.build_softmax_regression(), loop_implementation=loop)
    state = evaluation.set_model_weights(evaluation.initialize(),
                                         ModelWeights((_KERNEL, _BIAS), ()))

    _, metrics = evaluation.next(state, test_models.client_datasets(arrays, 5))

    x = np.concatenate([x for x, _ in arrays])
    y = np.concatenate([y for _, y in arrays])
    loss, accuracy = test_models.numpy_loss_and_accuracy(_KERNEL, _BIAS, x, y)
    current = metrics['client_work']['eval']['current_round_metrics']
    self.assertAlmostEqual(float(current['loss']), loss, places=5)
    self.assertAlmostEqual(float(current['accuracy']), accuracy, places=6)
    self.assertEqual(current['num_examples'], 45)
    self.assertEqual(current['num_batches'], 6 + 1 + 3)

  def test_weights_unchanged_and_total_rounds_metrics_accumulate(self):
    arrays = test_models.client_arrays(2, [6, 3])
    evaluation = fed_eval.build_fed_eval(test_models.build_softmax_regression)

    state, metrics = _evaluate_twice(evaluation, arrays)

    eval_metrics = metrics['client_work']['eval']
    self.assertEqual(eval_metrics['current_round_metrics']['num_examples'], 9)
    self.assertEqual(eval_metrics['total_rounds_metrics']['num_examples'], 18)
    self.assertAlmostEqual(float(eval_metrics['total_rounds_metrics']['loss']),
                           float(eval_metrics['current_round_metrics']['loss']),
                           places=5)
    np.testing.assert_array_equal(
        evaluation.get_model_weights(state).trainable[0], _KERNEL)
    self.assertEqual(list(metrics),
                     ['distributor', 'client_work', 'aggregator', 'finalizer'])

  def test_sampled_metrics_accumulate_over_rounds_with_sampling_process(self):
    arrays = test_models.client_arrays(3, [6, 3, 5])
    model = test_models.build_softmax_regression()
    unfinalized_type = type_conversions.infer_type(
        model.initialize_metrics_state())
    process = sampling.FinalizeThenSampleFactory(2).create(
        model_training.metric_finalizers(model), unfinalized_type)
    evaluation = fed_eval.build_fed_eval(model,
                                         metrics_aggregation_process=process)

    _, metrics = _evaluate_twice(evaluation, arrays)

    eval_metrics = metrics['client_work']['eval']
    current = eval_metrics['current_round_metrics']
    total = eval_metrics['total_rounds_metrics']
    self.assertLen(current['num_examples'], 2)
    self.assertLen(total['num_examples'], 2)
    self.assertContainsSubset(current['num_examples'], [6, 3, 5])
    self.assertContainsSubset(total['num_examples'], [6, 3, 5])
    for i, count in enumerate(current['num_examples']):
      x, y = arrays[[6, 3, 5].index(count)]
      loss, _ = test_models.numpy_loss_and_accuracy(_KERNEL, _BIAS, x, y)
      self.assertAlmostEqual(float(current['loss'][i]), loss, places=5)

  @parameterized.named_parameters(
      ('not_a_process', dict(metrics_aggregation_process=len)),
      ('distributor', dict(model_distributor='broadcast')),
      ('wrong_signature', dict(
          metrics_aggregation_process=distributors.build_broadcast_process(
              np.float32))),
  )
  def test_raises_type_error_for_wrong_component(self, overrides):
    with self.assertRaises(TypeError) as cm:
      fed_eval.build_fed_eval(test_models.build_softmax_regression(),
                              **overrides)

    self.assertIs(type(cm.exception), TypeError)


if __name__ == '__main__':
  absltest.main()
