import collections

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tffx.learning.metrics import counters
from tffx.learning.models import errors
from tffx.learning.models import keras_utils
from tffx.learning.models import variable

_SPEC = collections.OrderedDict(x=tf.TensorSpec([None, 4], tf.float32),
                                y=tf.TensorSpec([None], tf.int32))
_X = np.float32([[1.0, 0.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5],
                 [-2.0, 1.0, 0.0, 0.0]])
_Y = np.int32([2, 0, 1])


def _dense_model():
  keras.utils.set_random_seed(2)
  return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])


def _report(model):
  """The model's metrics, finalized from its unfinalized values."""
  finalizers = model.metric_finalizers()
  return collections.OrderedDict(
      (name, finalizers[name](value))
      for name, value in model.report_local_unfinalized_metrics().items())


class FromKerasModelTest(parameterized.TestCase):

  def test_returns_variable_model_reporting_tff_metrics(self):
    keras_model = _dense_model()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    expected_output = np.asarray(keras_model(_X))

    model = keras_utils.from_keras_model(keras_model, loss, _SPEC,
                                         metrics=[accuracy])
    output = model.forward_pass(collections.OrderedDict(x=_X, y=_Y),
                                training=False)
    metrics = _report(model)

    self.assertIsInstance(model, variable.VariableModel)
    np.testing.assert_allclose(output.predictions, expected_output, rtol=1e-6)
    self.assertAlmostEqual(float(output.loss),
                           float(loss(_Y, expected_output)), places=6)
    self.assertEqual(int(output.num_examples), 3)
    self.assertEqual(
        list(metrics),
        ['sparse_categorical_accuracy', 'loss', 'num_examples', 'num_batches'])
    self.assertAlmostEqual(float(metrics['loss']), float(output.loss),
                           places=6)
    self.assertEqual(int(metrics['num_examples']), 3)
    self.assertEqual(int(metrics['num_batches']), 1)
    reference = keras.metrics.SparseCategoricalAccuracy()
    reference.update_state(_Y, expected_output)
    self.assertAlmostEqual(float(metrics['sparse_categorical_accuracy']),
                           float(reference.result()))
    self.assertEqual(
        [v.shape for v in model.trainable_variables], [(4, 3), (3,)])

  def test_metrics_sum_over_batches_and_reset(self):
    model = keras_utils.from_keras_model(
        _dense_model(),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True), _SPEC)

    first = model.forward_pass(collections.OrderedDict(x=_X[:2], y=_Y[:2]))
    second = model.forward_pass(collections.OrderedDict(x=_X[2:], y=_Y[2:]))
    metrics = _report(model)
    model.reset_metrics()

    self.assertAlmostEqual(
        float(metrics['loss']),
        (2 * float(first.loss) + float(second.loss)) / 3, places=5)
    self.assertEqual(int(metrics['num_batches']), 2)
    self.assertEqual(int(_report(model)['num_examples']), 0)

  def test_given_counter_replaces_the_added_one(self):
    model = keras_utils.from_keras_model(
        _dense_model(),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True), _SPEC,
        metrics=[counters.NumExamplesCounter()])

    model.forward_pass(collections.OrderedDict(x=_X[:2], y=_Y[:2]))
    model.forward_pass(collections.OrderedDict(x=_X[2:], y=_Y[2:]))
    metrics = _report(model)

    self.assertEqual(list(metrics), ['num_examples', 'loss', 'num_batches'])
    self.assertEqual(int(metrics['num_examples']), 3)
    self.assertEqual(int(metrics['num_batches']), 2)
    self.assertLen(model.local_variables, 4)

  def test_metric_named_loss_raises_keras_model_error(self):

    with self.assertRaisesRegex(errors.KerasModelError, 'loss'):
      keras_utils.from_keras_model(
          _dense_model(),
          keras.losses.SparseCategoricalCrossentropy(from_logits=True), _SPEC,
          metrics=[keras.metrics.Mean(name='loss')])

  def test_multi_output_losses_are_weighted(self):
    inputs = keras.Input((4,))
    ones = dict(kernel_initializer='zeros', bias_initializer='ones')
    keras_model = keras.Model(
        inputs, [keras.layers.Dense(1, **ones)(inputs),
                 keras.layers.Dense(1, **ones)(inputs)])
    spec = (tf.TensorSpec([None, 4], tf.float32),
            (tf.TensorSpec([None, 1], tf.float32),
             tf.TensorSpec([None, 1], tf.float32)))
    mse = keras.losses.MeanSquaredError()

    model = keras_utils.from_keras_model(
        keras_model, [mse, mse], spec, loss_weights=[1.0, 0.5])
    output = model.forward_pass(
        (np.ones([2, 4], np.float32),
         (np.zeros([2, 1], np.float32), 3.0 * np.ones([2, 1], np.float32))))

    self.assertAlmostEqual(float(output.loss), 1.0 + 0.5 * 4.0)

  @parameterized.named_parameters(
      ('loss_weights_without_list', dict(loss_weights=[1.0])),
      ('loss_not_callable', dict(loss='mse')),
      ('loss_weights_length', dict(
          loss=[keras.losses.MeanSquaredError()], loss_weights=[1.0, 2.0])),
      ('metrics_not_metrics', dict(metrics=['accuracy'])),
      ('metrics_not_list', dict(metrics=3)),
      ('not_a_model', dict(keras_model='model')),
  )
  def test_raises_keras_model_error(self, overrides):
    arguments = dict(keras_model=_dense_model(),
                     loss=keras.losses.MeanSquaredError(), input_spec=_SPEC)
    arguments.update(overrides)

    with self.assertRaises(errors.KerasModelError):
      keras_utils.from_keras_model(**arguments)


if __name__ == '__main__':
  absltest.main()
