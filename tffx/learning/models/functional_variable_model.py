"""`model_from_functional`: a `FunctionalModel` as a `VariableModel`.

    model = model_from_functional(functional_model,
                                  metric_constructors=[lambda: keras.metrics.X()])

The weights become `tf.Variable`s (trainable and not), initialized to the
functional model's initial weights; the forward pass calls its pure
`predict_on_batch` with the variables' values and its loss, so the two
compute the same numbers. As in TFF, the metrics are `loss` (the mean over
examples, kept as `[loss sum, example count]`; NaN without examples) and
one Keras metric per
constructor, updated with `(labels, predictions)`; the functional model's
own metric functions are replaced, not used. Build it inside the `model_fn`
given to the algorithms (it creates variables).
"""

import collections
from typing import Any, Callable, Sequence

import tensorflow as tf

from tffx.learning.metrics import keras_utils as metrics_keras_utils
from tffx.learning.models import errors
from tffx.learning.models import functional
from tffx.learning.models import model_weights as model_weights_lib
from tffx.learning.models import variable


class _ModelFromFunctional(variable.VariableModel):
  """A `FunctionalModel` with its weights in variables; see module docstring."""

  def __init__(self, model: functional.FunctionalModel,
               metric_constructors: Sequence[Callable[[], Any]]):
    self._model = model
    initial = model.initial_weights
    self._trainable = [tf.Variable(w, trainable=True)
                       for w in initial.trainable]
    self._non_trainable = [tf.Variable(w, trainable=False)
                           for w in initial.non_trainable]
    self._constructors = tuple(metric_constructors)
    self._metrics = [constructor() for constructor in self._constructors]
    not_metrics = [m for m in self._metrics
                   if not metrics_keras_utils.is_keras_metric(m)]
    if not_metrics:
      raise errors.ModelFunctionError(
          f'Expected metric_constructors to return Keras metrics, found '
          f'{not_metrics!r}.')
    names = ['loss'] + [m.name for m in self._metrics]
    if len(set(names)) != len(names):
      raise errors.ModelFunctionError(
          f'Expected metrics with unique names other than "loss", found '
          f'{names[1:]}.')
    self._loss_sum = tf.Variable(0.0, trainable=False, name='loss_sum')
    self._num_examples = tf.Variable(0, dtype=tf.int64, trainable=False,
                                     name='num_examples')

  @property
  def trainable_variables(self):
    return list(self._trainable)

  @property
  def non_trainable_variables(self):
    return list(self._non_trainable)

  @property
  def local_variables(self):
    return [self._loss_sum, self._num_examples] + [
        v for m in self._metrics for v in m.variables]

  @property
  def input_spec(self):
    return self._model.input_spec

  def _weights(self) -> model_weights_lib.ModelWeights:
    return model_weights_lib.ModelWeights(
        tuple(tf.identity(v) for v in self._trainable),
        tuple(tf.identity(v) for v in self._non_trainable))

  def predict_on_batch(self, x, training=True):
    return self._model.predict_on_batch(self._weights(), x, training)

  def forward_pass(self, batch_input, training=True):
    output = self._model.forward_pass(self._weights(), batch_input, training)
    _, labels = functional.split_batch(batch_input)
    num_examples = tf.cast(output.num_examples, tf.int64)
    self._loss_sum.assign_add(
        tf.cast(output.loss, tf.float32) * tf.cast(num_examples, tf.float32))
    self._num_examples.assign_add(num_examples)
    for metric in self._metrics:
      metric.update_state(labels, output.predictions)
    return output

  def report_local_unfinalized_metrics(self):
    unfinalized = collections.OrderedDict(loss=[
        tf.identity(self._loss_sum),
        tf.cast(self._num_examples, tf.float32)])
    for metric in self._metrics:
      unfinalized[metric.name] = [tf.identity(v) for v in metric.variables]
    return unfinalized

  def metric_finalizers(self):
    # As TFF's: a plain division, so no examples give a NaN loss.
    finalizers = collections.OrderedDict(loss=lambda s: s[0] / s[1])
    for metric, constructor in zip(self._metrics, self._constructors):
      finalizers[metric.name] = (
          metrics_keras_utils.create_keras_metric_finalizer(constructor))
    return finalizers

  def reset_metrics(self):
    for metric in self._metrics:
      metric.reset_state()
    self._loss_sum.assign(0.0)
    self._num_examples.assign(0)


def model_from_functional(
    functional_model: functional.FunctionalModel,
    metric_constructors: Sequence[Callable[[], Any]] = ()
) -> variable.VariableModel:
  """Returns `functional_model` as a `VariableModel` (see module docstring).

  Args:
    functional_model: A `tffx.learning.models.FunctionalModel`.
    metric_constructors: No-argument callables each returning a new Keras
      metric; they replace the functional model's metrics.

  Raises:
    TypeError: if `functional_model` is not a `FunctionalModel`.
    ModelFunctionError: if a constructor is not a no-argument callable
      returning a Keras metric, or metric names repeat or are "loss".
  """
  if not isinstance(functional_model, functional.FunctionalModel):
    raise TypeError(
        f'Expected a tffx.learning.models.FunctionalModel, found '
        f'{type(functional_model).__name__}.')
  metric_constructors = tuple(metric_constructors or ())
  for constructor in metric_constructors:
    if (metrics_keras_utils.is_keras_metric(constructor) or
        not callable(constructor)):
      raise errors.ModelFunctionError(
          f'Expected metric_constructors to be no-argument callables '
          f'returning Keras metrics, found {constructor!r}.')
  return _ModelFromFunctional(functional_model, metric_constructors)
