"""Keras 2 (`tf-keras` under `TF_USE_LEGACY_KERAS=1`) through tffx.learning.

TFF code builds its models, losses, metrics and optimizers with `tf.keras`,
which is Keras 2 when `TF_USE_LEGACY_KERAS=1` and `tf-keras` is installed.
Run without that variable, this file runs itself and the other Keras model
tests again in subprocesses with it set (so CI needs no extra target); run
with it, it checks the Keras 2 paths against NumPy and Keras 2 itself.
"""

import collections
import os

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.algorithms import fed_avg
from tffx.learning.algorithms import fed_eval
from tffx.learning.metrics import keras_utils as metrics_keras_utils
from tffx.learning.models import functional
from tffx.learning.models import keras_utils
from tffx.learning.models import variable
from tffx.learning.optimizers import sgdm
from tffx.types import computation_types
from tffx_test import keras2_rerun
from tffx_test.learning.algorithms import test_models

_LEGACY = os.environ.get('TF_USE_LEGACY_KERAS') == '1'
_HERE = os.path.dirname(os.path.abspath(__file__))
# The Keras model tests, run again with Keras 2 as tf.keras.
_RERUN = (
    os.path.join(_HERE, 'keras2_test.py'),
    os.path.join(_HERE, 'functional_test.py'),
    os.path.join(_HERE, 'keras_utils_test.py'),
    os.path.join(_HERE, '..', 'metrics', 'keras_utils_test.py'),
)


def _keras2_softmax_regression():
  """Softmax regression as a Keras 2 model, with zero initial weights."""
  return tf.keras.Sequential([
      tf.keras.layers.InputLayer(input_shape=(test_models.NUM_FEATURES,)),
      tf.keras.layers.Dense(test_models.NUM_CLASSES, kernel_initializer='zeros')
  ])


def _loss():
  return tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _variable_model_fn():
  return keras_utils.from_keras_model(
      _keras2_softmax_regression(), _loss(), test_models.INPUT_SPEC,
      metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])


def _mean_of_numpy_client_models(arrays, batch_size, learning_rate):
  models = [
      test_models.numpy_local_sgd(
          np.zeros([4, 3]), np.zeros(3), x, y, batch_size, learning_rate)
      for x, y in arrays
  ]
  counts = [len(y) for _, y in arrays]
  return [
      np.average([m[i] for m in models], axis=0, weights=counts)
      for i in range(2)
  ]


@absltest.skipUnless(_LEGACY, 'needs TF_USE_LEGACY_KERAS=1 (run by the rerun)')
class Keras2ModelsTest(parameterized.TestCase):

  def test_tf_keras_is_keras_2(self):

    self.assertTrue(tf.keras.__name__.startswith('tf_keras'))

  def test_from_keras_model_fed_avg_round_matches_numpy(self):
    arrays = test_models.client_arrays(2, [6, 4])
    process = fed_avg.build_weighted_fed_avg(_variable_model_fn,
                                             sgdm.build_sgdm(0.5))

    state, metrics = process.next(process.initialize(),
                                  test_models.client_datasets(arrays, 3))

    self.assertIsInstance(_variable_model_fn(), variable.VariableModel)
    expected = _mean_of_numpy_client_models(arrays, 3, 0.5)
    for actual, wanted in zip(process.get_model_weights(state).trainable,
                              expected):
      np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)
    train = metrics['client_work']['train']
    self.assertEqual(
        list(train),
        ['sparse_categorical_accuracy', 'loss', 'num_examples', 'num_batches'])
    self.assertEqual(int(train['num_examples']), 10)
    self.assertEqual(int(train['num_batches']), 4)

  def test_from_keras_model_fed_eval_matches_numpy(self):
    arrays = test_models.client_arrays(3, [4, 6, 5])
    evaluation = fed_eval.build_fed_eval(_variable_model_fn)
    kernel = np.float32(np.arange(12).reshape(4, 3)) / 10.0
    state = evaluation.initialize()
    state = evaluation.set_model_weights(
        state,
        evaluation.get_model_weights(state)._replace(
            trainable=(kernel, np.zeros(3, np.float32))))

    _, metrics = evaluation.next(state, test_models.client_datasets(arrays, 4))

    current = metrics['client_work']['eval']['current_round_metrics']
    x = np.concatenate([a[0] for a in arrays])
    y = np.concatenate([a[1] for a in arrays])
    loss, accuracy = test_models.numpy_loss_and_accuracy(kernel, np.zeros(3),
                                                         x, y)
    self.assertAlmostEqual(float(current['loss']), loss, places=5)
    self.assertAlmostEqual(float(current['sparse_categorical_accuracy']),
                           accuracy, places=5)

  def test_functional_model_from_keras_matches_keras_and_numpy(self):
    arrays = test_models.client_arrays(2, [6, 4])
    tf.keras.utils.set_random_seed(3)
    mlp = tf.keras.Sequential([
        tf.keras.layers.InputLayer(input_shape=(4,)),
        tf.keras.layers.Dense(5, activation='relu'),
        tf.keras.layers.Dense(3)
    ])
    model = functional.functional_model_from_keras(
        mlp, _loss(), test_models.INPUT_SPEC,
        metrics_constructor=collections.OrderedDict(
            accuracy=tf.keras.metrics.SparseCategoricalAccuracy))
    x = arrays[0][0]
    # Keras 2 models built in a graph (as tracing does) invalidate eager
    # ones, so the expected output comes first.
    expected = np.asarray(mlp(x, training=False))

    @tensorflow_computation.tf_computation
    def predict():
      return model.predict_on_batch(model.initial_weights, x, training=False)

    with reference.create_reference_execution_context():
      predictions = predict()
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-6)

  def test_functional_model_from_keras_fed_avg_reports_only_its_metrics(self):
    arrays = test_models.client_arrays(2, [6, 4])
    model = functional.functional_model_from_keras(
        _keras2_softmax_regression(), _loss(), test_models.INPUT_SPEC,
        metrics_constructor=collections.OrderedDict(
            accuracy=tf.keras.metrics.SparseCategoricalAccuracy))
    process = fed_avg.build_weighted_fed_avg(model, sgdm.build_sgdm(0.5))

    state, metrics = process.next(process.initialize(),
                                  test_models.client_datasets(arrays, 3))

    self.assertEqual(list(metrics['client_work']['train']), ['accuracy'])
    expected = _mean_of_numpy_client_models(arrays, 3, 0.5)
    for actual, wanted in zip(process.get_model_weights(state).trainable,
                              expected):
      np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)

  def test_functional_metric_fns_match_keras_2_metrics(self):
    labels = np.int32([0, 1, 2, 1])
    predictions = np.float32([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1],
                              [0.5, 0.4, 0.1], [0.1, 0.2, 0.7]])
    initialize, update, finalize = (
        metrics_keras_utils.create_functional_metric_fns(
            collections.OrderedDict(
                acc=tf.keras.metrics.SparseCategoricalAccuracy,
                top2=lambda: tf.keras.metrics.SparseTopKCategoricalAccuracy(
                    k=2))))

    @tensorflow_computation.tf_computation
    def run():
      state = update(initialize(), labels[:2],
                     variable.BatchOutput(predictions=predictions[:2]))
      state = update(state, labels[2:],
                     variable.BatchOutput(predictions=predictions[2:]))
      return finalize(state)

    with reference.create_reference_execution_context():
      result = run()
    acc = tf.keras.metrics.SparseCategoricalAccuracy()
    acc.update_state(labels, predictions)
    top2 = tf.keras.metrics.SparseTopKCategoricalAccuracy(k=2)
    top2.update_state(labels, predictions)
    self.assertAlmostEqual(float(result['acc']), float(acc.result()))
    self.assertAlmostEqual(float(result['top2']), float(top2.result()))

  def test_keras_2_metric_finalizer(self):
    finalizer = metrics_keras_utils.create_keras_metric_finalizer(
        tf.keras.metrics.SparseCategoricalAccuracy)

    @tensorflow_computation.tf_computation
    def finalize():
      return finalizer([tf.constant(3.0), tf.constant(4.0)])

    with reference.create_reference_execution_context():
      self.assertAlmostEqual(float(finalize()), 0.75)

  def test_keras_2_optimizer_with_graph_learning_rate_in_tf_computation(self):

    @tensorflow_computation.tf_computation(np.float32)
    def step(learning_rate):
      optimizer = tf.keras.optimizers.SGD(learning_rate)
      weights = tf.Variable([1.0, 2.0])
      with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weights * weights)
      optimizer.apply_gradients(
          zip(tape.gradient(loss, [weights]), [weights]))
      return weights.read_value()

    with reference.create_reference_execution_context():
      np.testing.assert_allclose(step(0.25), [0.5, 1.0])


@absltest.skipUnless(_LEGACY, 'needs TF_USE_LEGACY_KERAS=1 (run by the rerun)')
class Keras2CustomAlgorithmTest(absltest.TestCase):
  """TFF's "building your own FL algorithm" code, on a Keras 2 model."""

  def test_variable_based_fed_avg_round_matches_numpy(self):
    arrays = test_models.client_arrays(2, [6, 4])
    data = test_models.client_datasets(arrays, 3)

    @tf.function
    def client_update(model, dataset, server_weights, client_optimizer):
      client_weights = model.trainable_variables
      tf.nest.map_structure(lambda x, y: x.assign(y), client_weights,
                            server_weights)
      for batch in dataset:
        with tf.GradientTape() as tape:
          outputs = model.forward_pass(batch)
        grads = tape.gradient(outputs.loss, client_weights)
        client_optimizer.apply_gradients(zip(grads, client_weights))
      return client_weights

    @tensorflow_computation.tf_computation
    def server_init():
      return _variable_model_fn().trainable_variables

    weights_type = server_init.type_signature.result
    dataset_type = computation_types.SequenceType(
        computation_types.to_type(test_models.INPUT_SPEC))

    @tensorflow_computation.tf_computation(dataset_type, weights_type)
    def client_update_fn(dataset, server_weights):
      return client_update(_variable_model_fn(), dataset, server_weights,
                           tf.keras.optimizers.SGD(learning_rate=0.5))

    @federated_computation.federated_computation(
        computation_types.type_at_server(weights_type),
        computation_types.type_at_clients(dataset_type))
    def next_fn(server_weights, client_data):
      client_weights = intrinsics.federated_map(
          client_update_fn,
          (client_data, intrinsics.federated_broadcast(server_weights)))
      return intrinsics.federated_mean(client_weights)

    with reference.create_reference_execution_context():
      weights = next_fn(server_init(), data)

    models = [
        test_models.numpy_local_sgd(np.zeros([4, 3]), np.zeros(3), x, y, 3,
                                    0.5) for x, y in arrays
    ]
    for i in range(2):
      np.testing.assert_allclose(
          weights[i], np.mean([m[i] for m in models], axis=0), rtol=1e-4,
          atol=1e-5)


@absltest.skipIf(_LEGACY, 'this is the rerun')
class RerunUnderLegacyKerasTest(parameterized.TestCase):

  @parameterized.parameters(*_RERUN)
  def test_keras_tests_pass_with_tf_use_legacy_keras(self, path):
    keras2_rerun.assert_passes_with_keras2(self, path)


if __name__ == '__main__':
  absltest.main()
