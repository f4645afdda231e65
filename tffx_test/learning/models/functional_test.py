import collections

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tffx.computations import tensorflow_computation
from tffx.learning.metrics import errors as metrics_errors
from tffx.learning.models import errors
from tffx.learning.models import functional
from tffx.learning.models import model_weights
from tffx.learning.models import variable
from tffx.types import computation_types as ct

ModelWeights = model_weights.ModelWeights
_SPEC = (tf.TensorSpec([None, 2], tf.float32),
         tf.TensorSpec([None], tf.float32))
_X = np.float32([[1.0, 2.0], [3.0, -1.0]])
_Y = np.float32([1.0, 0.0])


def _predict(weights, x, training):
  kernel, bias = weights.trainable
  (scale,) = weights.non_trainable
  output = tf.linalg.matvec(x, kernel) + bias
  return output * scale if training else output


def _squared_error(output, label, sample_weight=None):
  del sample_weight
  return tf.reduce_mean(tf.square(output - label))


def _linear_model(**overrides):
  arguments = dict(
      initial_weights=([np.float32([0.5, -1.0]), np.float32(0.25)],
                       [np.float32(2.0)]),
      predict_on_batch_fn=_predict,
      loss_fn=_squared_error,
      input_spec=_SPEC)
  arguments.update(overrides)
  return functional.FunctionalModel(**arguments)


class FunctionalModelTest(parameterized.TestCase):

  def test_initial_weights_are_tuples_of_arrays(self):

    model = _linear_model()

    self.assertIsInstance(model.initial_weights, ModelWeights)
    self.assertIsInstance(model.initial_weights.trainable, tuple)
    np.testing.assert_array_equal(model.initial_weights.trainable[0],
                                  [0.5, -1.0])
    self.assertEqual(model.initial_weights.non_trainable[0], 2.0)
    self.assertIs(model.input_spec, _SPEC)

  def test_functions_are_pure_in_weights_inside_a_graph(self):
    model = _linear_model()
    weights_type = ct.to_type(
        ModelWeights((ct.TensorType(np.float32, [2]), np.float32),
                     (np.float32,)))

    @tensorflow_computation.tf_computation(weights_type)
    def loss_and_gradient(weights):
      trainable = tuple(weights.trainable)
      with tf.GradientTape() as tape:
        tape.watch(trainable)
        output = model.predict_on_batch(
            ModelWeights(trainable, weights.non_trainable), _X, training=False)
        loss = model.loss(output, _Y)
      return loss, tape.gradient(loss, trainable)

    loss, (kernel_gradient, bias_gradient) = loss_and_gradient(
        ModelWeights((np.float32([1.0, 0.0]), np.float32(0.0)),
                     (np.float32(2.0),)))

    # Outputs [1, 3]; errors [0, 3]; loss 9/2.
    self.assertAlmostEqual(float(loss), 4.5)
    np.testing.assert_allclose(kernel_gradient, [9.0, -3.0])
    self.assertAlmostEqual(float(bias_gradient), 3.0)

  def test_training_flag_reaches_predict(self):
    model = _linear_model()

    training = model.predict_on_batch(model.initial_weights, _X)
    evaluation = model.predict_on_batch(model.initial_weights, _X,
                                        training=False)

    np.testing.assert_allclose(training, 2.0 * np.asarray(evaluation))

  def test_default_metrics_are_empty(self):
    model = _linear_model()

    state = model.update_metrics_state(model.initialize_metrics_state(), _Y,
                                       _X)

    self.assertEqual(model.finalize_metrics(state), collections.OrderedDict())

  @parameterized.named_parameters(
      ('weights_not_pair', dict(initial_weights=[np.zeros(2)]),
       errors.ModelWeightsError),
      ('weights_not_arrays', dict(initial_weights=(['a'], [])),
       errors.ModelWeightsError),
      ('weights_mapping', dict(initial_weights=({'w': 1.0}, [])),
       errors.ModelWeightsError),
      ('predict', dict(predict_on_batch_fn=None), errors.ModelFunctionError),
      ('loss', dict(loss_fn='mse'), errors.ModelFunctionError),
      ('metrics_fns', dict(metrics_fns=(lambda: {},)),
       errors.ModelFunctionError),
      ('no_input_spec', dict(input_spec=None), errors.InputSpecError),
      ('input_spec_keys', dict(input_spec={'features': _SPEC[0]}),
       errors.InputSpecError),
      ('input_spec_leaves', dict(input_spec=(np.float32, np.float32)),
       errors.InputSpecError),
  )
  def test_raises_for_wrong_argument(self, overrides, error):
    with self.assertRaises(error):
      _linear_model(**overrides)

  @parameterized.named_parameters(
      ('pair', (np.float32(1.0), np.float32(2.0))),
      ('mapping', collections.OrderedDict(x=np.float32(1.0),
                                          y=np.float32(2.0))),
  )
  def test_split_batch(self, batch):

    x, y = functional.split_batch(batch)

    self.assertEqual((x, y), (1.0, 2.0))


class FunctionalModelFromKerasTest(parameterized.TestCase):

  def test_predictions_match_keras_model_which_is_unchanged(self):
    keras.utils.set_random_seed(1)
    keras_model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(3, activation='relu'),
         keras.layers.Dense(1)])
    before = [v.numpy() for v in keras_model.trainable_variables]
    model = functional.functional_model_from_keras(
        keras_model, keras.losses.MeanSquaredError(), _SPEC)
    weights = tf.nest.map_structure(lambda w: w * 2.0, model.initial_weights)

    output = model.predict_on_batch(weights, _X, training=False)

    for variable, value in zip(keras_model.trainable_variables,
                               weights.trainable):
      variable.assign(value)
    np.testing.assert_allclose(output, keras_model(_X), rtol=1e-6)
    np.testing.assert_array_equal(model.initial_weights.trainable[0],
                                  before[0])

  def test_loss_is_keras_loss_of_label_and_output(self):
    model = functional.functional_model_from_keras(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        keras.losses.MeanSquaredError(), _SPEC)

    loss = model.loss(tf.constant([[1.0], [2.0]]), tf.constant([[0.0], [0.0]]))

    self.assertAlmostEqual(float(loss), 2.5)

  def test_unbuilt_model_is_built_from_input_spec(self):
    model = functional.functional_model_from_keras(
        lambda: keras.Sequential([keras.layers.Dense(4)]),
        keras.losses.MeanSquaredError(), _SPEC)

    self.assertEqual(model.initial_weights.trainable[0].shape, (2, 4))

  def test_metrics_constructor_gives_metric_fns(self):
    model = functional.functional_model_from_keras(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        keras.losses.MeanSquaredError(), _SPEC,
        metrics_constructor=lambda: [keras.metrics.MeanAbsoluteError()])

    state = model.update_metrics_state(model.initialize_metrics_state(),
                                       np.float32([[1.0]]), np.float32([[3.0]]))

    self.assertAlmostEqual(
        float(model.finalize_metrics(state)['mean_absolute_error']), 2.0)

  @parameterized.named_parameters(
      ('not_keras', lambda: 'model', _SPEC),
      ('unbuilt_with_structured_x', lambda: keras.Sequential(
          [keras.layers.Dense(1)]), ((_SPEC[0], _SPEC[0]), _SPEC[1])),
  )
  def test_raises_keras_model_error(self, keras_model, input_spec):
    with self.assertRaises(errors.KerasModelError):
      functional.functional_model_from_keras(
          keras_model, keras.losses.MeanSquaredError(), input_spec)

  def test_raises_metrics_constructor_error(self):
    with self.assertRaises(metrics_errors.MetricsConstructorError):
      functional.functional_model_from_keras(
          keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
          keras.losses.MeanSquaredError(), _SPEC,
          metrics_constructor=lambda: ['mae'])

  @parameterized.named_parameters(
      ('ordered_dict_of_classes', lambda: collections.OrderedDict(
          mae=keras.metrics.MeanAbsoluteError,
          mse=keras.metrics.MeanSquaredError)),
      ('ordered_dict_of_lambdas', lambda: collections.OrderedDict(
          mae=lambda: keras.metrics.MeanAbsoluteError(name='a'),
          mse=lambda: keras.metrics.MeanSquaredError(name='b'))),
      ('callable_returning_ordered_dict', lambda: lambda: collections
       .OrderedDict(mae=keras.metrics.MeanAbsoluteError(),
                    mse=keras.metrics.MeanSquaredError())),
  )
  def test_metrics_constructor_in_every_tff_form(self, constructor):
    model = functional.functional_model_from_keras(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        keras.losses.MeanSquaredError(), _SPEC,
        metrics_constructor=constructor())
    batch_output = variable.BatchOutput(
        loss=0.0, predictions=np.float32([[3.0], [0.0]]), num_examples=2)

    state = model.update_metrics_state(model.initialize_metrics_state(),
                                       np.float32([[1.0], [1.0]]),
                                       batch_output)
    finalized = model.finalize_metrics(state)

    self.assertEqual(list(finalized), ['mae', 'mse'])
    self.assertAlmostEqual(float(finalized['mae']), 1.5)
    self.assertAlmostEqual(float(finalized['mse']), 2.5)

  @parameterized.named_parameters(
      ('metric_object', keras.metrics.Mean()),
      ('mapping_of_metric_objects',
       collections.OrderedDict(mean=keras.metrics.Mean())),
      ('mapping_with_non_string_name', {1: keras.metrics.Mean}),
      ('string', 'accuracy'),
  )
  def test_bad_metrics_constructor_error_names_accepted_forms(
      self, constructor):

    with self.assertRaisesRegex(
        metrics_errors.MetricsConstructorError,
        'no-argument callable returning a Keras metric.*OrderedDict from names '
        'to no-argument callables'):
      functional.functional_model_from_keras(
          keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
          keras.losses.MeanSquaredError(), _SPEC,
          metrics_constructor=constructor)

  def test_reports_only_the_constructed_metrics(self):
    model = functional.functional_model_from_keras(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        keras.losses.MeanSquaredError(), _SPEC,
        metrics_constructor=collections.OrderedDict(
            mae=keras.metrics.MeanAbsoluteError))

    self.assertEqual(list(model.initialize_metrics_state()), ['mae'])


class WithLossAndCountsTest(absltest.TestCase):

  def test_sums_loss_times_examples_and_counts_over_batches(self):
    initialize, update, finalize = functional.with_loss_and_counts(
        functional.EMPTY_METRICS_FNS)
    state = initialize()

    state = update(state, np.int32([0, 1, 2]),
                   variable.BatchOutput(loss=2.0, predictions=None,
                                        num_examples=3))
    state = update(state, np.int32([0]),
                   variable.BatchOutput(loss=1.0, predictions=None,
                                        num_examples=1))
    finalized = finalize(state)

    self.assertEqual(list(state), ['loss', 'num_examples', 'num_batches'])
    self.assertAlmostEqual(float(state['loss'][0]), 2.0 * 3 + 1.0)
    self.assertEqual(list(finalized), ['loss', 'num_examples', 'num_batches'])
    self.assertAlmostEqual(float(finalized['loss']), 7.0 / 4.0)
    self.assertEqual(int(finalized['num_examples']), 4)
    self.assertEqual(int(finalized['num_batches']), 2)

  def test_forward_pass_gives_batch_output(self):
    model = _linear_model()

    output = model.forward_pass(model.initial_weights, (_X, _Y),
                                training=False)

    self.assertIsInstance(output, variable.BatchOutput)
    np.testing.assert_allclose(
        output.predictions, _X @ np.float32([0.5, -1.0]) + 0.25, rtol=1e-6)
    self.assertEqual(int(output.num_examples), 2)
    self.assertAlmostEqual(
        float(output.loss),
        float(np.mean((_X @ np.float32([0.5, -1.0]) + 0.25 - _Y)**2)),
        places=5)


if __name__ == '__main__':
  absltest.main()
