"""A Keras model as a `VariableModel`, as TFF's `from_keras_model` wraps one.

TFF code uses what `from_keras_model` returns as a variable-based model
(`model.trainable_variables`, `model.forward_pass(batch)` inside a
`tff.tensorflow.computation`), so tffx returns one too, for Keras 3 models
and for Keras 2 (`tf_keras`, what `tf.keras` is with `TF_USE_LEGACY_KERAS=1`)
models alike. The algorithms call the user's `model_fn` inside each client
graph, so the Keras model and its metrics are built there:

    forward_pass(batch):  predictions = keras_model(x, training)
                          loss = loss_fn(y, predictions) + sum(model.losses)
                          every metric.update_state(y, predictions)
                          loss, num_examples, num_batches sums += ...

It reports the given metrics (by name), then `loss` (the mean over
examples), `num_examples` and `num_batches`, as TFF's Keras models do. As
in TFF, a counter is not added when a given metric already has its name
(research code often passes `tff.learning.metrics.NumExamplesCounter()`
and `NumBatchesCounter()` itself): that metric reports it.
"""

import collections
from typing import Any, Callable, Optional, Sequence

import tensorflow as tf

from tffx.learning.metrics import keras_utils as metrics_keras_utils
from tffx.learning.models import errors
from tffx.learning.models import functional
from tffx.learning.models import variable

_LOSS_NAME, *_COUNTER_NAMES = functional.LOSS_AND_COUNT_NAMES


class _KerasVariableModel(variable.VariableModel):
  """A Keras model with its loss and metrics; see the module docstring."""

  def __init__(self, keras_model: Any, loss: Callable[..., Any],
               input_spec: Any, metrics: Sequence[Any]):
    self._keras_model = keras_model
    self._loss = loss
    self._input_spec = input_spec
    self._metrics = collections.OrderedDict((m.name, m) for m in metrics)
    if _LOSS_NAME in self._metrics or len(self._metrics) != len(metrics):
      raise errors.KerasModelError(
          f'Expected metrics with unique names other than {_LOSS_NAME!r}, '
          f'found {[m.name for m in metrics]}.')
    self._loss_sum = tf.Variable(0.0, trainable=False, name='loss_sum')
    self._loss_count = tf.Variable(0.0, trainable=False, name='loss_count')
    # The counters no given metric reports.
    self._counters = collections.OrderedDict(
        (name, tf.Variable(0, dtype=tf.int64, trainable=False, name=name))
        for name in _COUNTER_NAMES if name not in self._metrics)

  @property
  def trainable_variables(self):
    return list(self._keras_model.trainable_variables)

  @property
  def non_trainable_variables(self):
    return list(self._keras_model.non_trainable_variables)

  @property
  def local_variables(self):
    metric_variables = [v for m in self._metrics.values() for v in m.variables]
    return metric_variables + [self._loss_sum, self._loss_count] + list(
        self._counters.values())

  @property
  def input_spec(self):
    return self._input_spec

  def predict_on_batch(self, x, training=True):
    return self._keras_model(x, training=training)

  def forward_pass(self, batch_input, training=True):
    x, labels = functional.split_batch(batch_input)
    predictions = self.predict_on_batch(x, training=training)
    loss = self._loss(labels, predictions)
    if self._keras_model.losses:
      loss += tf.add_n(self._keras_model.losses)
    num_examples = functional.batch_size(labels)
    for metric in self._metrics.values():
      metric.update_state(labels, predictions)
    count = tf.cast(num_examples, tf.float32)
    self._loss_sum.assign_add(tf.cast(loss, tf.float32) * count)
    self._loss_count.assign_add(count)
    increments = dict(num_examples=num_examples, num_batches=1)
    for name, counter in self._counters.items():
      counter.assign_add(tf.cast(increments[name], tf.int64))
    return variable.BatchOutput(
        loss=loss, predictions=predictions, num_examples=num_examples)

  def report_local_unfinalized_metrics(self):
    # `tf.identity` reads Keras 3 and Keras 2 variables alike.
    unfinalized = collections.OrderedDict(
        (name, [tf.identity(v) for v in metric.variables])
        for name, metric in self._metrics.items())
    unfinalized['loss'] = [tf.identity(self._loss_sum),
                           tf.identity(self._loss_count)]
    for name, counter in self._counters.items():
      unfinalized[name] = tf.identity(counter)
    return unfinalized

  def metric_finalizers(self):
    finalizers = collections.OrderedDict(
        (name, metrics_keras_utils.create_keras_metric_finalizer(metric))
        for name, metric in self._metrics.items())
    finalizers['loss'] = lambda s: tf.math.divide_no_nan(s[0], s[1])
    for name in self._counters:
      finalizers[name] = tf.identity
    return finalizers

  def reset_metrics(self):
    for metric in self._metrics.values():
      metric.reset_state()
    for v in [self._loss_sum, self._loss_count, *self._counters.values()]:
      v.assign(tf.zeros_like(v))


def keras_variable_model(keras_model: Any,
                          loss: Callable[..., Any],
                          input_spec: Any,
                          metrics: Optional[Sequence[Any]] = None
                          ) -> variable.VariableModel:
  """Returns a Keras model, loss and metrics as a `VariableModel`.

  Args:
    keras_model: A Keras 3 or Keras 2 model (built, or buildable from the x
      spec).
    loss: `fn(y_true, y_pred) -> scalar` (a Keras loss).
    input_spec: `(x_spec, y_spec)` or `{'x': ..., 'y': ...}`.
    metrics: Keras metric objects; they are updated in place, so pass new
      ones each time (build them in the `model_fn`, as in TFF).

  Raises:
    KerasModelError: for metrics that are not Keras metrics, share a name
      or are named `loss`.
    InputSpecError: if `input_spec` is malformed.
  """
  x_spec, _ = functional.check_input_spec(input_spec)
  metrics = list(metrics or [])
  not_metrics = [m for m in metrics if not metrics_keras_utils.is_keras_metric(m)]
  if not_metrics:
    raise errors.KerasModelError(
        f'Expected metrics to be Keras metric objects, found {not_metrics}.')
  if not keras_model.built:
    if not isinstance(x_spec, tf.TensorSpec):
      raise errors.KerasModelError(
          f'Expected a built Keras model when x is not one tensor; found an '
          f'unbuilt {type(keras_model).__name__} and x spec {x_spec!r}.')
    keras_model.build(tuple(x_spec.shape))
  return _KerasVariableModel(keras_model, loss, input_spec, metrics)
