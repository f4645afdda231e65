import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx
from tffx.learning.algorithms import errors
from tffx.learning.templates import model_training
from tffx.learning.algorithms import personalization_eval
from tffx.learning.models import functional
from tffx_test.learning.algorithms import test_models

build = personalization_eval.build_personalization_eval_computation
ModelWeights = model_training.ModelWeights


def _mean_loss(model, weights, dataset):
  """OrderedDict(loss=mean loss over the examples of a batched dataset)."""

  def step(state, batch):
    x, y = functional.split_batch(batch)
    loss = model.loss(model.predict_on_batch(weights, x, training=False), y)
    size = tf.cast(tf.shape(y)[0], tf.float32)
    return state[0] + loss * size, state[1] + size

  total, count = dataset.reduce((0.0, 0.0), step)
  return collections.OrderedDict(loss=total / count,
                                 num_test_examples=tf.cast(count, tf.int32))


def _baseline(model, weights, test_data):
  return _mean_loss(model, weights, test_data.batch(100))


def _build_sgd(epochs, learning_rate=0.5, batch_size=3):
  """A strategy: `epochs` of SGD over batches of the train data."""

  def build():

    def personalize(model, weights, train_data, test_data):

      session = model_training.start_client(model, weights)

      def step(trainable, batch):
        _, gradients = session.forward(trainable, batch, training=True,
                                       with_gradients=True)
        return tuple(w - learning_rate * g
                     for w, g in zip(trainable, gradients))

      trainable = train_data.batch(batch_size).repeat(epochs).reduce(
          tuple(weights.trainable), step)
      return _mean_loss(model,
                        ModelWeights(trainable, weights.non_trainable),
                        test_data.batch(100))

    return personalize

  return build


def _client_inputs(arrays):
  return [
      collections.OrderedDict(
          train_data=tf.data.Dataset.from_tensor_slices(
              collections.OrderedDict(x=x[:6], y=y[:6])),
          test_data=tf.data.Dataset.from_tensor_slices(
              collections.OrderedDict(x=x[6:], y=y[6:]))) for x, y in arrays
  ]


class PersonalizationEvalTest(absltest.TestCase):

  def test_metrics_match_numpy_fine_tuning_per_client(self):
    arrays = test_models.client_arrays(2, [9, 10])
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0 - 0.5
    model = test_models.build_softmax_regression(kernel, with_accuracy=False)
    evaluate = build(model, collections.OrderedDict(sgd=_build_sgd(1)),
                     _baseline)

    metrics = evaluate(model.initial_weights, _client_inputs(arrays))

    order = np.argsort(metrics['baseline_metrics']['num_test_examples'])
    for row, (x, y) in zip(order, arrays):
      baseline, _ = test_models.numpy_loss_and_accuracy(kernel, np.zeros(3),
                                                        x[6:], y[6:])
      tuned = test_models.numpy_local_sgd(kernel, np.zeros(3), x[:6], y[:6],
                                          3, 0.5)
      personalized, _ = test_models.numpy_loss_and_accuracy(*tuned, x[6:],
                                                            y[6:])
      self.assertAlmostEqual(metrics['baseline_metrics']['loss'][row],
                             baseline, places=5)
      self.assertAlmostEqual(metrics['sgd']['loss'][row], personalized,
                             places=5)
      self.assertEqual(metrics['sgd']['num_test_examples'][row], len(y) - 6)

  def test_loss_falls_with_more_personalization_epochs(self):
    arrays = test_models.client_arrays(4, 20)
    model = test_models.build_softmax_regression(with_accuracy=False)
    evaluate = build(
        model,
        collections.OrderedDict(
            (f'epochs_{n}', _build_sgd(n, learning_rate=0.1))
            for n in (1, 2, 4)), _baseline)

    metrics = evaluate(model.initial_weights, _client_inputs(arrays))

    losses = [float(np.mean(metrics[name]['loss']))
              for name in ('baseline_metrics', 'epochs_1', 'epochs_2',
                           'epochs_4')]
    self.assertEqual(losses, sorted(losses, reverse=True))
    self.assertLess(losses[-1], 0.7 * losses[0])

  def test_collects_at_most_max_num_clients(self):
    arrays = test_models.client_arrays(3, 8)
    model = test_models.build_softmax_regression(with_accuracy=False)
    evaluate = build(model, collections.OrderedDict(sgd=_build_sgd(1)),
                     _baseline, max_num_clients=2)

    metrics = evaluate(model.initial_weights, _client_inputs(arrays))

    self.assertEqual(np.shape(metrics['baseline_metrics']['loss']), (2,))
    self.assertEqual(np.shape(metrics['sgd']['loss']), (2,))

  def test_type_signature(self):
    model = test_models.build_softmax_regression(with_accuracy=False)

    evaluate = build(model, collections.OrderedDict(sgd=_build_sgd(1)),
                     _baseline)

    self.assertEqual(
        str(evaluate.type_signature),
        '(<server_model_weights=<trainable=<float32[4,3],float32[3]>,'
        'non_trainable=<>>@SERVER,federated_client_input={<train_data=<x='
        'float32[4],y=int32>*,test_data=<x=float32[4],y=int32>*>}@CLIENTS> '
        '-> '
        '<baseline_metrics=<loss=float32[?],num_test_examples=int32[?]>,'
        'sgd=<loss=float32[?],num_test_examples=int32[?]>>@SERVER)')

  def test_raises_value_error_for_baseline_metrics_strategy_name(self):
    with self.assertRaisesRegex(ValueError, 'baseline_metrics should not'):
      build(test_models.build_softmax_regression(),
            collections.OrderedDict(baseline_metrics=_build_sgd(1)),
            _baseline)

  def test_raises_value_error_for_non_positive_max_num_clients(self):
    with self.assertRaisesRegex(ValueError, 'max_num_clients must be'):
      build(test_models.build_softmax_regression(),
            collections.OrderedDict(sgd=_build_sgd(1)), _baseline,
            max_num_clients=0)

  def test_raises_type_error_for_plain_dict_of_strategies(self):
    with self.assertRaises(TypeError):
      build(test_models.build_softmax_regression(), {'sgd': _build_sgd(1)},
            _baseline)

  def test_raises_model_fn_error_for_variable_model(self):
    with self.assertRaises(errors.ModelFnError):
      build(test_models.SoftmaxRegressionVariableModel,
            collections.OrderedDict(sgd=_build_sgd(1)), _baseline)

  def test_is_exported_as_tff_learning_algorithms_name(self):
    self.assertIs(
        tffx.learning.algorithms.build_personalization_eval_computation,
        build)


if __name__ == '__main__':
  absltest.main()
