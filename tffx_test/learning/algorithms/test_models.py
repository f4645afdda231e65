"""A small softmax-regression model and synthetic non-IID client data for tests.

Data: 3 classes in 4 dimensions, class `c` centered at `3 * e_c` with unit
Gaussian noise. Client `k` draws 80% of its labels from class `k % 3` and
10% from each other class, so no client sees a balanced sample. The classes
are linearly separable up to noise: the nearest-center rule (a linear
classifier) gets about 96% of the examples right (the centers are
3*sqrt(2) = 4.2 apart, so each wrong neighbour wins with probability
Phi(-2.1) = 1.7%).
"""

import collections

import keras
import numpy as np
import tensorflow as tf

from tffx.learning.metrics import keras_utils
from tffx.learning.models import functional
from tffx.learning.models import reconstruction_model
from tffx.learning.models import variable

NUM_FEATURES = 4
NUM_CLASSES = 3
INPUT_SPEC = collections.OrderedDict(
    x=tf.TensorSpec([None, NUM_FEATURES], tf.float32),
    y=tf.TensorSpec([None], tf.int32))


def _predict(weights, x, training):
  del training  # Same computation in training and evaluation.
  kernel, bias = weights.trainable
  return tf.matmul(x, kernel) + bias


def _loss(output, label, sample_weight=None):
  del sample_weight  # Unweighted examples.
  return tf.reduce_mean(
      tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label,
                                                     logits=output))


def _accuracy():
  return [keras.metrics.SparseCategoricalAccuracy(name='accuracy')]


def build_softmax_regression(initial_kernel=None,
                             with_accuracy: bool = True
                            ) -> functional.FunctionalModel:
  """Softmax regression `softmax(x @ kernel + bias)`; zero initial weights."""
  kernel = (np.zeros([NUM_FEATURES, NUM_CLASSES], np.float32)
            if initial_kernel is None else np.float32(initial_kernel))
  bias = np.zeros([NUM_CLASSES], np.float32)
  metrics_fns = functional.EMPTY_METRICS_FNS
  if with_accuracy:
    metrics_fns = keras_utils.create_functional_metric_fns(_accuracy)
  # The metrics TFF's Keras models report, which the tests read.
  metrics_fns = functional.with_loss_and_counts(metrics_fns)
  return functional.FunctionalModel(((kernel, bias), ()),
                                    _predict,
                                    _loss,
                                    metrics_fns=metrics_fns,
                                    input_spec=INPUT_SPEC)


def client_arrays(num_clients: int, examples_per_client, seed: int = 0):
  """`[(x, y)]` per client, skewed towards class `k % 3` for client `k`.

  `examples_per_client` is an int or a list with one count per client.
  """
  if isinstance(examples_per_client, int):
    examples_per_client = [examples_per_client] * num_clients
  rng = np.random.default_rng(seed)
  centers = 3.0 * np.eye(NUM_CLASSES, NUM_FEATURES)
  arrays = []
  for k, count in enumerate(examples_per_client):
    probabilities = np.full(NUM_CLASSES, 0.1)
    probabilities[k % NUM_CLASSES] = 0.8
    y = rng.choice(NUM_CLASSES, size=count, p=probabilities)
    x = centers[y] + rng.normal(size=(count, NUM_FEATURES))
    arrays.append((x.astype(np.float32), y.astype(np.int32)))
  return arrays


def to_dataset(x, y, batch_size: int) -> tf.data.Dataset:
  return tf.data.Dataset.from_tensor_slices(
      collections.OrderedDict(x=x, y=y)).batch(batch_size)


def client_datasets(arrays, batch_size: int):
  return [to_dataset(x, y, batch_size) for x, y in arrays]


def numpy_loss_and_accuracy(kernel, bias, x, y):
  """The mean cross-entropy and accuracy of softmax regression, in NumPy."""
  logits = x.astype(np.float64) @ kernel + bias
  logits -= logits.max(axis=1, keepdims=True)
  log_probabilities = logits - np.log(np.exp(logits).sum(axis=1,
                                                         keepdims=True))
  loss = -log_probabilities[np.arange(len(y)), y].mean()
  return loss, (logits.argmax(axis=1) == y).mean()


def numpy_local_sgd(kernel, bias, x, y, batch_size: int, learning_rate: float):
  """Local SGD of softmax regression in NumPy, one step per batch."""
  kernel, bias = kernel.astype(np.float64), bias.astype(np.float64)
  for start in range(0, len(y), batch_size):
    xb, yb = x[start:start + batch_size], y[start:start + batch_size]
    logits = xb @ kernel + bias
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    probabilities[np.arange(len(yb)), yb] -= 1.0
    kernel = kernel - learning_rate * xb.T @ probabilities / len(yb)
    bias = bias - learning_rate * probabilities.sum(axis=0) / len(yb)
  return kernel, bias


class SoftmaxRegressionVariableModel(variable.VariableModel):
  """The softmax regression above as a TFF-style `VariableModel`.

  Written the way TFF's custom-model tutorial writes models: variables for
  the weights and for the metric sums, updated in `forward_pass`. Its
  non-trainable variable counts the training batches this model has seen,
  so tests can tell where non-trainable weights come from.
  """

  def __init__(self, initial_kernel=None):
    kernel = (np.zeros([NUM_FEATURES, NUM_CLASSES], np.float32)
              if initial_kernel is None else np.float32(initial_kernel))
    self._kernel = tf.Variable(kernel, name='kernel')
    self._bias = tf.Variable(tf.zeros([NUM_CLASSES]), name='bias')
    self._batches_seen = tf.Variable(0, trainable=False, name='batches_seen')
    self._loss_sum = tf.Variable(0.0, trainable=False)
    self._correct = tf.Variable(0.0, trainable=False)
    self._num_examples = tf.Variable(0, dtype=tf.int64, trainable=False)

  @property
  def trainable_variables(self):
    return [self._kernel, self._bias]

  @property
  def non_trainable_variables(self):
    return [self._batches_seen]

  @property
  def local_variables(self):
    return [self._loss_sum, self._correct, self._num_examples]

  @property
  def input_spec(self):
    return INPUT_SPEC

  def predict_on_batch(self, x, training=True):
    del training  # Same computation in training and evaluation.
    return tf.matmul(x, self._kernel) + self._bias

  def forward_pass(self, batch_input, training=True):
    logits = self.predict_on_batch(batch_input['x'], training)
    labels = batch_input['y']
    loss = _loss(logits, labels)
    num_examples = tf.shape(labels, out_type=tf.int64)[0]
    hits = tf.cast(
        tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels),
        tf.float32)
    self._loss_sum.assign_add(loss * tf.cast(num_examples, tf.float32))
    self._correct.assign_add(tf.reduce_sum(hits))
    self._num_examples.assign_add(num_examples)
    if training:
      self._batches_seen.assign_add(1)
    return variable.BatchOutput(
        loss=loss, predictions=logits, num_examples=num_examples)

  def report_local_unfinalized_metrics(self):
    count = tf.cast(self._num_examples, tf.float32)
    return collections.OrderedDict(
        accuracy=[self._correct, count],
        loss=[self._loss_sum, count],
        num_examples=self._num_examples)

  def metric_finalizers(self):
    return collections.OrderedDict(
        accuracy=lambda s: tf.math.divide_no_nan(s[0], s[1]),
        loss=lambda s: tf.math.divide_no_nan(s[0], s[1]),
        num_examples=tf.identity)

  def reset_metrics(self):
    for v in self.local_variables:
      v.assign(tf.zeros_like(v))


def numpy_gradient(kernel, bias, x, y):
  """The gradient of the mean softmax cross-entropy, in NumPy."""
  logits = x.astype(np.float64) @ kernel + bias
  probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
  probabilities /= probabilities.sum(axis=1, keepdims=True)
  probabilities[np.arange(len(y)), y] -= 1.0
  return x.T @ probabilities / len(y), probabilities.sum(axis=0) / len(y)


class Bias(keras.layers.Layer):
  """Adds a trainable bias (zeros at first) to its input."""

  def build(self, input_shape):
    self.bias = self.add_weight(shape=(input_shape[-1],), initializer='zeros',
                                name='bias')

  def call(self, x):
    return x + self.bias


def build_reconstruction_model(initial_kernel=None):
  """Softmax regression with a global kernel and a local bias (FedRecon).

  The kernel starts at `initial_kernel` (zeros by default), the bias at 0.
  """
  kernel = (np.zeros([NUM_FEATURES, NUM_CLASSES], np.float32)
            if initial_kernel is None else np.float32(initial_kernel))
  dense = keras.layers.Dense(
      NUM_CLASSES, use_bias=False,
      kernel_initializer=keras.initializers.Constant(kernel))
  bias = Bias()
  keras_model = keras.Sequential(
      [keras.Input((NUM_FEATURES,)), dense, bias])
  return reconstruction_model.ReconstructionModel.from_keras_model_and_layers(
      keras_model, global_layers=[dense], local_layers=[bias],
      input_spec=INPUT_SPEC)


def training_losses(process, rounds: int, num_clients: int = 6,
                    batch_size: int = 5):
  """The `client_work/train/loss` of `rounds` rounds of `process`.

  On `num_clients` skewed clients of 20 examples each (`client_arrays`).
  """
  datasets = client_datasets(client_arrays(num_clients, 20), batch_size)
  state = process.initialize()
  losses = []
  for _ in range(rounds):
    state, metrics = process.next(state, datasets)
    losses.append(float(metrics['client_work']['train']['loss']))
  return losses
