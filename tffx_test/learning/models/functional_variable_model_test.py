import collections

from absl.testing import absltest
import keras
import numpy as np
import tensorflow as tf

from tffx.learning.algorithms import fed_avg
from tffx.learning.models import errors
from tffx.learning.models import functional
from tffx.learning.models import functional_variable_model
from tffx.learning.models import variable
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models

_KERNEL = np.arange(12, dtype=np.float32).reshape([4, 3]) / 10.0 - 0.5


def _batch(seed: int, size: int = 6):
  x, y = test_models.client_arrays(1, size, seed=seed)[0]
  return collections.OrderedDict(x=x, y=y)


def _accuracy():
  return keras.metrics.SparseCategoricalAccuracy(name='accuracy')


class ModelFromFunctionalTest(absltest.TestCase):

  def test_forward_pass_equals_the_functional_forward_pass(self):
    functional_model = test_models.build_softmax_regression(_KERNEL)
    model = functional_variable_model.model_from_functional(functional_model)
    batch = _batch(1)

    for training in (True, False):
      actual = model.forward_pass(batch, training=training)
      expected = functional_model.forward_pass(
          functional_model.initial_weights, batch, training=training)
      self.assertIsInstance(model, variable.VariableModel)
      np.testing.assert_allclose(actual.predictions, expected.predictions,
                                 rtol=1e-6)
      np.testing.assert_allclose(actual.loss, expected.loss, rtol=1e-6)
      self.assertEqual(actual.num_examples, 6)
    np.testing.assert_allclose(
        model.predict_on_batch(batch['x']),
        functional_model.predict_on_batch(functional_model.initial_weights,
                                          batch['x']), rtol=1e-6)

  def test_weights_are_variables_initialized_from_the_functional_model(self):
    functional_model = test_models.build_softmax_regression(_KERNEL)

    model = functional_variable_model.model_from_functional(functional_model)

    self.assertLen(model.trainable_variables, 2)
    self.assertEmpty(model.non_trainable_variables)
    np.testing.assert_array_equal(model.trainable_variables[0], _KERNEL)
    self.assertEqual(model.input_spec, test_models.INPUT_SPEC)

  def test_assigned_weights_are_used_by_the_forward_pass(self):
    functional_model = test_models.build_softmax_regression()
    model = functional_variable_model.model_from_functional(functional_model)
    batch = _batch(2)

    model.trainable_variables[0].assign(_KERNEL)
    output = model.forward_pass(batch)

    expected_loss, _ = test_models.numpy_loss_and_accuracy(
        _KERNEL, np.zeros(3), batch['x'], batch['y'])
    np.testing.assert_allclose(output.loss, expected_loss, rtol=1e-5)

  def test_metrics_are_loss_then_the_constructed_metrics(self):
    model = functional_variable_model.model_from_functional(
        test_models.build_softmax_regression(_KERNEL),
        metric_constructors=[_accuracy])
    first, second = _batch(3, size=4), _batch(4, size=2)

    model.forward_pass(first)
    model.forward_pass(second)
    unfinalized = model.report_local_unfinalized_metrics()
    finalized = {name: fn(unfinalized[name])
                 for name, fn in model.metric_finalizers().items()}

    x = np.concatenate([first['x'], second['x']])
    y = np.concatenate([first['y'], second['y']])
    loss_first, _ = test_models.numpy_loss_and_accuracy(
        _KERNEL, np.zeros(3), first['x'], first['y'])
    loss_second, _ = test_models.numpy_loss_and_accuracy(
        _KERNEL, np.zeros(3), second['x'], second['y'])
    _, accuracy = test_models.numpy_loss_and_accuracy(_KERNEL, np.zeros(3), x,
                                                      y)
    self.assertEqual(list(finalized), ['loss', 'accuracy'])
    np.testing.assert_allclose(finalized['loss'],
                               (4 * loss_first + 2 * loss_second) / 6,
                               rtol=1e-5)
    np.testing.assert_allclose(finalized['accuracy'], accuracy, rtol=1e-6)
    model.reset_metrics()
    self.assertEqual(
        float(model.report_local_unfinalized_metrics()['loss'][1]), 0.0)

  def test_loss_is_nan_without_examples(self):
    model = functional_variable_model.model_from_functional(
        test_models.build_softmax_regression(_KERNEL))

    unfinalized = model.report_local_unfinalized_metrics()
    loss = model.metric_finalizers()['loss'](unfinalized['loss'])

    self.assertTrue(np.isnan(float(loss)))

  def test_trains_in_fed_avg_as_the_functional_model(self):
    functional_model = test_models.build_softmax_regression()
    process = fed_avg.build_weighted_fed_avg(
        lambda: functional_variable_model.model_from_functional(
            functional_model),
        client_optimizer_fn=sgdm.build_sgdm(0.5))
    reference = fed_avg.build_weighted_fed_avg(
        functional_model, client_optimizer_fn=sgdm.build_sgdm(0.5))

    losses = test_models.training_losses(process, rounds=4)
    reference_losses = test_models.training_losses(reference, rounds=4)

    np.testing.assert_allclose(losses, reference_losses, rtol=1e-5)
    self.assertLess(losses[-1], 0.5 * losses[0])

  def test_raises_type_error_for_a_variable_model(self):
    with self.assertRaises(TypeError):
      functional_variable_model.model_from_functional(
          test_models.SoftmaxRegressionVariableModel())

  def test_raises_model_function_error_for_a_metric_named_loss(self):
    with self.assertRaises(errors.ModelFunctionError):
      functional_variable_model.model_from_functional(
          test_models.build_softmax_regression(),
          metric_constructors=[lambda: keras.metrics.Mean(name='loss')])

  def test_raises_model_function_error_for_a_non_callable_constructor(self):
    with self.assertRaises(errors.ModelFunctionError):
      functional_variable_model.model_from_functional(
          test_models.build_softmax_regression(),
          metric_constructors=[_accuracy()])


if __name__ == '__main__':
  absltest.main()
