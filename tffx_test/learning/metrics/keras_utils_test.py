import collections

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tffx.computations import tensorflow_computation
from tffx.learning.metrics import errors
from tffx.learning.metrics import keras_utils

_LABELS = np.int32([0, 1, 2, 1, 0, 2])
_PREDICTIONS = np.float32([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.5, 0.3, 0.2],
                           [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.0, 0.1, 0.9]])


def _metrics():
  return [
      keras.metrics.SparseCategoricalAccuracy(name='accuracy'),
      keras.metrics.SparseTopKCategoricalAccuracy(k=2, name='top_2'),
  ]


class CreateFunctionalMetricFnsTest(parameterized.TestCase):

  def test_matches_stateful_keras_metrics_inside_a_graph(self):
    initialize, update, finalize = keras_utils.create_functional_metric_fns(
        _metrics)

    @tensorflow_computation.tf_computation
    def compute():
      state = initialize()
      state = update(state, _LABELS[:4], _PREDICTIONS[:4])
      state = update(state, _LABELS[4:], _PREDICTIONS[4:])
      return finalize(state)

    result = compute()

    expected = {}
    for metric in _metrics():
      metric.update_state(_LABELS, _PREDICTIONS)
      expected[metric.name] = float(metric.result())
    self.assertEqual(list(result), ['accuracy', 'top_2'])
    self.assertAlmostEqual(float(result['accuracy']), expected['accuracy'])
    self.assertAlmostEqual(float(result['top_2']), expected['top_2'])

  def test_summed_states_finalize_to_the_metric_over_all_examples(self):
    initialize, update, finalize = keras_utils.create_functional_metric_fns(
        lambda: keras.metrics.SparseCategoricalAccuracy())
    # Two clients of 1 and 5 examples.
    first = update(initialize(), _LABELS[:1], _PREDICTIONS[:1])
    second = update(initialize(), _LABELS[1:], _PREDICTIONS[1:])

    summed = tf.nest.map_structure(tf.add, first, second)
    result = finalize(summed)

    correct = np.sum(_PREDICTIONS.argmax(axis=1) == _LABELS)
    self.assertAlmostEqual(
        float(result['sparse_categorical_accuracy']), correct / 6, places=6)

  def test_mapping_names_the_metrics(self):
    initialize, _, _ = keras_utils.create_functional_metric_fns(
        lambda: collections.OrderedDict(acc=keras.metrics.Accuracy()))

    state = initialize()

    self.assertEqual(list(state), ['acc'])
    self.assertLen(state['acc'], 2)

  @parameterized.named_parameters(
      ('duplicate_names', lambda: [keras.metrics.Mean(), keras.metrics.Mean()],
       'unique names'),
      ('not_metrics', lambda: [lambda y, p: y], 'keras.metrics.Metric'),
      ('not_a_list', lambda: 3, 'a list of them'),
      ('not_callable', [keras.metrics.Mean()], 'no-argument callable'),
  )
  def test_raises_metrics_constructor_error(self, constructor, message):
    with self.assertRaisesRegex(errors.MetricsConstructorError, message):
      keras_utils.create_functional_metric_fns(constructor)


class CreateKerasMetricFinalizerTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('metric', keras.metrics.Mean()),
      ('constructor', keras.metrics.Mean),
  )
  def test_finalizes_unfinalized_values(self, metric):

    finalizer = keras_utils.create_keras_metric_finalizer(metric)

    self.assertAlmostEqual(float(finalizer([tf.constant(6.0),
                                            tf.constant(4.0)])), 1.5)

  def test_raises_for_non_metric(self):
    with self.assertRaises(errors.MetricsConstructorError):
      keras_utils.create_keras_metric_finalizer(lambda: 'mean')


if __name__ == '__main__':
  absltest.main()
