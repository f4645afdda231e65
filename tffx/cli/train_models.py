"""The models `tffx-train` trains, as `tffx.learning.models.FunctionalModel`s.

    build_model('softmax', num_features=60, num_classes=10)
        logits = x @ W + b                        W, b start at zero
    build_model('mlp', 60, 10, hidden_units=(64,), seed=3)
        relu(x @ W1 + b1) ... @ Wk + bk           W: Glorot-uniform from seed

Batches are pairs `(x: float32[batch, num_features], y: int32[batch])`; the
loss is the mean sparse softmax cross-entropy and the one model metric is
`accuracy` (summed as `<correct, count>` on clients, divided on the
server). The models are plain TensorFlow functions of the weights, without
Keras, so they trace quickly. This module builds models; it does not train
them or read data.
"""

import collections
from typing import Sequence, Tuple

import numpy as np
import tensorflow as tf

from tffx.learning.models import functional

MODELS = ('softmax', 'mlp')


def batch_spec(num_features: int) -> Tuple[tf.TensorSpec, tf.TensorSpec]:
  """The `(x, y)` spec of one batch of `num_features` features."""
  return (tf.TensorSpec([None, num_features], tf.float32),
          tf.TensorSpec([None], tf.int32))


def _glorot_uniform(rng: np.random.Generator, fan_in: int,
                    fan_out: int) -> np.ndarray:
  limit = np.sqrt(6.0 / (fan_in + fan_out))
  return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def _predict(weights, x, training):
  del training  # No dropout or batch normalization.
  trainable = weights[0]
  layers = [(trainable[i], trainable[i + 1])
            for i in range(0, len(trainable), 2)]
  for kernel, bias in layers[:-1]:
    x = tf.nn.relu(tf.matmul(x, kernel) + bias)
  kernel, bias = layers[-1]
  return tf.matmul(x, kernel) + bias


def _loss(output, label, sample_weight=None):
  losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=label, logits=output)
  if sample_weight is None:
    return tf.reduce_mean(losses)
  sample_weight = tf.cast(sample_weight, losses.dtype)
  return tf.math.divide_no_nan(
      tf.reduce_sum(losses * sample_weight), tf.reduce_sum(sample_weight))


def _initialize_metrics():
  return collections.OrderedDict(
      accuracy=(tf.constant(0.0), tf.constant(0.0)))


def _update_metrics(state, labels, batch_output, sample_weight=None):
  correct, count = state['accuracy']
  hits = tf.cast(
      tf.equal(tf.argmax(batch_output.predictions, axis=-1,
                         output_type=tf.int32),
               tf.cast(labels, tf.int32)), tf.float32)
  weights = (tf.ones_like(hits) if sample_weight is None else
             tf.cast(sample_weight, tf.float32))
  return collections.OrderedDict(
      accuracy=(correct + tf.reduce_sum(hits * weights),
                count + tf.reduce_sum(weights)))


def _finalize_metrics(state):
  correct, count = state['accuracy']
  return collections.OrderedDict(accuracy=tf.math.divide_no_nan(correct, count))


def initial_weights(name: str, num_features: int, num_classes: int,
                    hidden_units: Sequence[int] = (64,),
                    seed: int = 0) -> Tuple[np.ndarray, ...]:
  """The initial trainable weights `(W1, b1, ..., Wk, bk)` of a model.

  Raises:
    ValueError: for an unknown model name, or sizes that are not positive.
  """
  if name not in MODELS:
    raise ValueError(f'Expected a model in {list(MODELS)}, found {name!r}.')
  sizes = [num_features, num_classes]
  if name == 'mlp':
    sizes = [num_features, *hidden_units, num_classes]
  if not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
    raise ValueError(f'Expected positive layer sizes, found {sizes} (inputs, '
                     f'hidden layers, classes).')
  if name == 'softmax':
    # Zeros: the loss is convex, and every run starts from the same point.
    return (np.zeros(sizes, np.float32), np.zeros([num_classes], np.float32))
  rng = np.random.default_rng(seed)
  weights = []
  for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
    weights.append(_glorot_uniform(rng, fan_in, fan_out))
    weights.append(np.zeros([fan_out], np.float32))
  return tuple(weights)


def build_model(name: str, num_features: int, num_classes: int,
                hidden_units: Sequence[int] = (64,),
                seed: int = 0) -> functional.FunctionalModel:
  """Returns the model `name` for `num_features` inputs and `num_classes`.

  Args:
    name: One of `MODELS`: 'softmax' (multinomial logistic regression) or
      'mlp' (fully connected, ReLU hidden layers).
    num_features: The length of an input vector.
    num_classes: The number of labels, `0 .. num_classes - 1`.
    hidden_units: The widths of the MLP's hidden layers (ignored for
      'softmax').
    seed: Seeds the MLP's initial weights.

  Raises:
    ValueError: for an unknown model name, or sizes that are not positive.
  """
  weights = initial_weights(name, num_features, num_classes, hidden_units,
                            seed)
  return functional.FunctionalModel(
      initial_weights=(weights, ()),
      predict_on_batch_fn=_predict,
      loss_fn=_loss,
      # The loss and counts that TFF's Keras models report, which the
      # progress lines and metric files show.
      metrics_fns=functional.with_loss_and_counts(
          (_initialize_metrics, _update_metrics, _finalize_metrics)),
      input_spec=batch_spec(num_features))
