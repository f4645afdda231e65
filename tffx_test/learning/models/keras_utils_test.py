import collections

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tffx.learning.models import errors
from tffx.learning.models import functional
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


class FromKerasModelTest(parameterized.TestCase):

  def test_returns_functional_model_with_keras_loss_and_metrics(self):
    keras_model = _dense_model()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    accuracy = keras.metrics.SparseCategoricalAccuracy()

    model = keras_utils.from_keras_model(keras_model, loss, _SPEC,
                                         metrics=[accuracy])
    output = model.predict_on_batch(model.initial_weights, _X, training=False)
    batch_output = model.forward_pass(model.initial_weights, (_X, _Y),
                                      training=False)
    state = model.update_metrics_state(model.initialize_metrics_state(), _Y,
                                       batch_output)

    self.assertIsInstance(model, functional.FunctionalModel)
    self.assertEqual(
        list(model.finalize_metrics(state)),
        ['sparse_categorical_accuracy', 'loss', 'num_examples', 'num_batches'])
    self.assertAlmostEqual(float(model.finalize_metrics(state)['loss']),
                           float(loss(_Y, keras_model(_X))), places=6)
    self.assertEqual(int(model.finalize_metrics(state)['num_examples']), 3)
    np.testing.assert_allclose(output, keras_model(_X), rtol=1e-6)
    self.assertAlmostEqual(float(model.loss(output, _Y)),
                           float(loss(_Y, keras_model(_X))), places=6)
    accuracy.update_state(_Y, keras_model(_X))
    self.assertAlmostEqual(
        float(model.finalize_metrics(state)['sparse_categorical_accuracy']),
        float(accuracy.result()))

  def test_metric_named_loss_raises_model_function_error(self):

    with self.assertRaisesRegex(errors.ModelFunctionError, 'loss'):
      keras_utils.from_keras_model(
          _dense_model(),
          keras.losses.SparseCategoricalCrossentropy(from_logits=True), _SPEC,
          metrics=[keras.metrics.Mean(name='loss')])

  def test_metric_objects_are_copied_not_updated(self):
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    model = keras_utils.from_keras_model(
        _dense_model(),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        _SPEC, metrics=[accuracy])

    model.update_metrics_state(
        model.initialize_metrics_state(), _Y,
        variable.BatchOutput(loss=0.0, predictions=np.eye(3, dtype=np.float32)[_Y],
                             num_examples=3))

    self.assertEqual(float(accuracy.count), 0.0)

  def test_multi_output_losses_are_weighted(self):
    inputs = keras.Input((4,))
    keras_model = keras.Model(
        inputs, [keras.layers.Dense(1)(inputs), keras.layers.Dense(1)(inputs)])
    spec = (tf.TensorSpec([None, 4], tf.float32),
            (tf.TensorSpec([None, 1], tf.float32),
             tf.TensorSpec([None, 1], tf.float32)))
    mse = keras.losses.MeanSquaredError()

    model = keras_utils.from_keras_model(
        keras_model, [mse, mse], spec, loss_weights=[1.0, 0.5])
    loss = model.loss((tf.ones([2, 1]), tf.ones([2, 1])),
                      (tf.zeros([2, 1]), 3.0 * tf.ones([2, 1])))

    self.assertAlmostEqual(float(loss), 1.0 + 0.5 * 4.0)

  @parameterized.named_parameters(
      ('loss_weights_without_list', dict(loss_weights=[1.0])),
      ('loss_not_callable', dict(loss='mse')),
      ('loss_weights_length', dict(
          loss=[keras.losses.MeanSquaredError()], loss_weights=[1.0, 2.0])),
      ('metrics_not_metrics', dict(metrics=['accuracy'])),
      ('metrics_not_list', dict(metrics=3)),
  )
  def test_raises_keras_model_error(self, overrides):
    arguments = dict(keras_model=_dense_model(),
                     loss=keras.losses.MeanSquaredError(), input_spec=_SPEC)
    arguments.update(overrides)

    with self.assertRaises(errors.KerasModelError):
      keras_utils.from_keras_model(**arguments)


if __name__ == '__main__':
  absltest.main()
