import collections
import os

from absl.testing import absltest
import keras
import numpy as np
import tensorflow as tf

from tffx.learning.algorithms import fed_avg
from tffx.learning.models import functional
from tffx.learning.models import keras_utils
from tffx.learning.models import serialization
from tffx.learning.models import variable
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models

_KERNEL = np.arange(12, dtype=np.float32).reshape([4, 3]) / 10.0 - 0.5


def _batch(seed: int, size: int = 5):
  x, y = test_models.client_arrays(1, size, seed=seed)[0]
  return collections.OrderedDict(x=x, y=y)


def _finalized(model):
  unfinalized = model.report_local_unfinalized_metrics()
  return {name: np.asarray(fn(unfinalized[name]))
          for name, fn in model.metric_finalizers().items()}


def _fed_avg_metrics(model_fn, rounds=3):
  process = fed_avg.build_weighted_fed_avg(
      model_fn, client_optimizer_fn=sgdm.build_sgdm(0.5))
  datasets = test_models.client_datasets(test_models.client_arrays(3, 10), 5)
  state = process.initialize()
  metrics = []
  for _ in range(rounds):
    state, round_metrics = process.next(state, datasets)
    metrics.append(round_metrics['client_work']['train'])
  return metrics


class SaveLoadTest(absltest.TestCase):

  def _saved(self, model, **kwargs):
    path = self.create_tempdir().full_path
    serialization.save(model, path, **kwargs)
    return path

  def test_loaded_model_computes_what_the_original_computes(self):
    original = test_models.SoftmaxRegressionVariableModel(_KERNEL)
    loaded = serialization.load(self._saved(original))

    for seed, training in ((1, True), (2, False)):
      expected = original.forward_pass(_batch(seed), training=training)
      actual = loaded.forward_pass(_batch(seed), training=training)
      self.assertIsInstance(actual, variable.BatchOutput)
      np.testing.assert_allclose(actual.loss, expected.loss, rtol=1e-6)
      np.testing.assert_allclose(actual.predictions, expected.predictions,
                                 rtol=1e-6)
      self.assertEqual(actual.num_examples, expected.num_examples)

    np.testing.assert_allclose(
        loaded.predict_on_batch(_batch(3)['x'], training=False),
        original.predict_on_batch(_batch(3)['x'], training=False), rtol=1e-6)
    self.assertNotIsInstance(loaded,
                             test_models.SoftmaxRegressionVariableModel)
    self.assertIsInstance(loaded, variable.VariableModel)

  def test_loaded_metrics_accumulate_finalize_and_reset_as_the_original(self):
    original = test_models.SoftmaxRegressionVariableModel(_KERNEL)
    loaded = serialization.load(self._saved(original))

    for model in (original, loaded):
      model.forward_pass(_batch(1))
      model.forward_pass(_batch(2, size=3))
    unfinalized = loaded.report_local_unfinalized_metrics()

    self.assertEqual(list(unfinalized), ['accuracy', 'loss', 'num_examples'])
    self.assertEqual(int(unfinalized['num_examples']), 8)
    for name, value in original.report_local_unfinalized_metrics().items():
      np.testing.assert_allclose(unfinalized[name], value, rtol=1e-6)
    expected = _finalized(original)
    for name, value in _finalized(loaded).items():
      np.testing.assert_allclose(value, expected[name], rtol=1e-6)
    loaded.reset_metrics()
    self.assertEqual(
        int(loaded.report_local_unfinalized_metrics()['num_examples']), 0)

  def test_loaded_weights_are_variables_with_the_saved_values(self):
    original = test_models.SoftmaxRegressionVariableModel(_KERNEL)
    original.forward_pass(_batch(1))  # batches_seen becomes 1.

    loaded = serialization.load(self._saved(original))

    self.assertLen(loaded.trainable_variables, 2)
    np.testing.assert_array_equal(loaded.trainable_variables[0], _KERNEL)
    self.assertTrue(all(v.trainable for v in loaded.trainable_variables))
    self.assertEqual(int(loaded.non_trainable_variables[0]), 1)
    self.assertLen(loaded.local_variables, 3)
    self.assertEqual(loaded.input_spec, test_models.INPUT_SPEC)

  def test_assigned_weights_change_the_loaded_forward_pass(self):
    loaded = serialization.load(
        self._saved(test_models.SoftmaxRegressionVariableModel()))
    batch = _batch(4)

    loaded.trainable_variables[0].assign(_KERNEL)
    output = loaded.forward_pass(batch)

    expected_loss, _ = test_models.numpy_loss_and_accuracy(
        _KERNEL, np.zeros(3), batch['x'], batch['y'])
    np.testing.assert_allclose(output.loss, expected_loss, rtol=1e-5)

  def test_keras_model_round_trip(self):
    keras.utils.set_random_seed(3)

    def model_fn():
      return keras_utils.from_keras_model(
          keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]),
          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
          input_spec=test_models.INPUT_SPEC,
          metrics=[keras.metrics.SparseCategoricalAccuracy()])

    original = model_fn()
    loaded = serialization.load(self._saved(original))
    for model in (original, loaded):
      model.forward_pass(_batch(5))

    expected = _finalized(original)
    actual = _finalized(loaded)
    self.assertEqual(list(actual), list(expected))
    for name in expected:
      np.testing.assert_allclose(actual[name], expected[name], rtol=1e-6)

  def test_serving_signature_predicts_for_inference(self):
    original = test_models.SoftmaxRegressionVariableModel(_KERNEL)
    path = self._saved(original, input_type=tf.TensorSpec([None, 4],
                                                          tf.float32))
    x = _batch(6)['x']

    serving = tf.saved_model.load(path).signatures['serving_default']
    (output,) = serving(tf.constant(x)).values()

    np.testing.assert_allclose(output, original.predict_on_batch(x),
                               rtol=1e-6)

  def test_loaded_model_trains_in_fed_avg_as_the_original(self):
    path = self._saved(test_models.SoftmaxRegressionVariableModel())

    expected = _fed_avg_metrics(test_models.SoftmaxRegressionVariableModel)
    actual = _fed_avg_metrics(lambda: serialization.load(path))

    for actual_round, expected_round in zip(actual, expected):
      for name in expected_round:
        np.testing.assert_allclose(actual_round[name], expected_round[name],
                                   rtol=1e-5)
    self.assertLess(actual[-1]['loss'], actual[0]['loss'])

  def test_save_raises_type_error_for_a_functional_model(self):
    with self.assertRaises(TypeError):
      serialization.save(test_models.build_softmax_regression(),
                         self.create_tempdir().full_path)

  def test_load_raises_value_error_for_a_savedmodel_not_from_tffx(self):
    path = self.create_tempdir().full_path
    tf.saved_model.save(tf.Module(), path)

    with self.assertRaises(ValueError):
      serialization.load(path)


class FunctionalSaveLoadTest(absltest.TestCase):

  def _round_trip(self, model):
    path = self.create_tempdir().full_path
    serialization.save_functional_model(model, path)
    self.assertTrue(os.path.isdir(path))
    return serialization.load_functional_model(path)

  def test_loaded_functional_model_computes_what_the_original_computes(self):
    original = test_models.build_softmax_regression(_KERNEL)
    loaded = self._round_trip(original)
    weights = functional.ModelWeights((_KERNEL * 2, np.float32([1, 0, -1])),
                                      ())
    batch = _batch(7)

    self.assertIsInstance(loaded, functional.FunctionalModel)
    np.testing.assert_array_equal(loaded.initial_weights.trainable[0],
                                  _KERNEL)
    self.assertEqual(loaded.input_spec, test_models.INPUT_SPEC)
    for training in (True, False):
      expected = original.forward_pass(weights, batch, training=training)
      actual = loaded.forward_pass(weights, batch, training=training)
      np.testing.assert_allclose(actual.predictions, expected.predictions,
                                 rtol=1e-6)
      np.testing.assert_allclose(actual.loss, expected.loss, rtol=1e-6)

  def test_loaded_metric_functions_match_the_original(self):
    original = test_models.build_softmax_regression(_KERNEL)
    loaded = self._round_trip(original)
    batch = _batch(8)

    finalized = []
    for model in (original, loaded):
      output = model.forward_pass(model.initial_weights, batch)
      state = model.update_metrics_state(model.initialize_metrics_state(),
                                         labels=batch['y'],
                                         batch_output=output)
      finalized.append(model.finalize_metrics(state))

    expected, actual = finalized
    self.assertEqual(list(actual), ['accuracy', 'loss', 'num_examples',
                                    'num_batches'])
    for name in expected:
      np.testing.assert_allclose(actual[name], expected[name], rtol=1e-6)

  def test_loaded_functional_model_trains_in_fed_avg_as_the_original(self):
    original = test_models.build_softmax_regression()

    expected = _fed_avg_metrics(original)
    actual = _fed_avg_metrics(self._round_trip(original))

    for actual_round, expected_round in zip(actual, expected):
      for name in expected_round:
        np.testing.assert_allclose(actual_round[name], expected_round[name],
                                   rtol=1e-5)
    self.assertLess(actual[-1]['loss'], actual[0]['loss'])

  def test_save_functional_model_raises_type_error_for_a_variable_model(self):
    with self.assertRaises(TypeError):
      serialization.save_functional_model(
          test_models.SoftmaxRegressionVariableModel(),
          self.create_tempdir().full_path)


if __name__ == '__main__':
  absltest.main()
