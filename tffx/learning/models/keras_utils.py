"""`from_keras_model`: a Keras 3 model, loss and metrics as a `FunctionalModel`.

    model = tffx.learning.models.from_keras_model(
        keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        input_spec=dataset.element_spec,
        metrics=[keras.metrics.SparseCategoricalAccuracy()])

TFF's `from_keras_model` returns a variable-based model; tffx has only
functional models, so this returns a `FunctionalModel` whose forward pass is
`keras_model.stateless_call` (see `functional`). The Keras model, loss and
metric objects are used as templates and never changed. As in TFF, the
model reports `loss` (the mean over examples), `num_examples` and
`num_batches` after the given metrics (`functional_model_from_keras`
reports only the metrics it is given).
"""

from typing import Any, Callable, Optional, Sequence, Union

import keras
import tensorflow as tf

from tffx.learning.metrics import keras_versions
from tffx.learning.models import errors
from tffx.learning.models import functional
from tffx.learning.models import keras2_model

LossType = Union[Callable[..., Any], Sequence[Callable[..., Any]]]


def _clone_metric(metric: Any) -> Any:
  if not isinstance(metric, keras.metrics.Metric):
    raise errors.KerasModelError(
        f'Expected metrics to be keras.metrics.Metric objects, found '
        f'{type(metric).__name__}.')
  try:
    return type(metric).from_config(metric.get_config())
  except (TypeError, ValueError, NotImplementedError) as e:
    raise errors.KerasModelError(
        f'Cannot rebuild the metric {metric.name!r} from its config ({e}). '
        f'Tip: pass metrics as a no-argument callable returning new metrics.'
    ) from None


def _metrics_constructor(metrics: Any) -> Optional[Callable[[], Any]]:
  """A no-argument callable returning fresh metrics, or None for none."""
  if metrics is None:
    return None
  if callable(metrics) and not isinstance(metrics, keras.metrics.Metric):
    return metrics
  if isinstance(metrics, keras.metrics.Metric):
    metrics = [metrics]
  if not isinstance(metrics, Sequence):
    raise errors.KerasModelError(
        f'Expected metrics to be a list of Keras metrics or a no-argument '
        f'callable returning one, found {type(metrics).__name__}.')
  templates = list(metrics)
  for metric in templates:
    _clone_metric(metric)  # Fails now, not when the algorithm is built.
  return lambda: [_clone_metric(m) for m in templates]


def _combined_loss(loss: LossType,
                   loss_weights: Optional[Sequence[float]]) -> Callable:
  """`fn(y_true, y_pred)`: one loss, or a weighted sum over model outputs."""
  if callable(loss) and not isinstance(loss, (list, tuple)):
    if loss_weights is not None:
      raise errors.KerasModelError(
          f'Expected loss_weights only with a list of losses (one per model '
          f'output), found one loss and loss_weights={loss_weights!r}.')
    return loss
  if not isinstance(loss, (list, tuple)) or not all(callable(l) for l in loss):
    raise errors.KerasModelError(
        f'Expected loss to be a Keras loss or a list of them (one per model '
        f'output), found {loss!r}.')
  weights = [1.0] * len(loss) if loss_weights is None else list(loss_weights)
  if len(weights) != len(loss):
    raise errors.KerasModelError(
        f'Expected one loss weight per loss ({len(loss)}), found '
        f'{len(weights)}.')

  def weighted_sum(y_true, y_pred):
    return tf.add_n([
        weight * fn(true, pred)
        for weight, fn, true, pred in zip(weights, loss, y_true, y_pred)
    ])

  return weighted_sum


def from_keras_model(keras_model: Any,
                     loss: LossType,
                     input_spec: Any,
                     loss_weights: Optional[Sequence[float]] = None,
                     metrics: Any = None) -> Any:
  """Returns a model for a Keras model, its loss and its metrics.

  A Keras 3 model (TF backend) gives a `FunctionalModel`. A Keras 2 model
  (`tf_keras`, what `tf.keras` is with `TF_USE_LEGACY_KERAS=1`) gives a
  `VariableModel`, as in TFF: call `from_keras_model` inside the `model_fn`
  passed to the algorithms, building the Keras model and metrics there.
  Either reports the given metrics, then `loss`, `num_examples` and
  `num_batches`.

  Args:
    keras_model: A `keras.Model` (built, or buildable from the x spec), or a
      no-argument callable returning one; compiled settings are ignored.
    loss: A Keras loss (`fn(y_true, y_pred)`), or a list of them, one per
      output of a multi-output model (whose labels are then a list too).
    input_spec: The spec of one batch, `(x, y)` or `{'x': ..., 'y': ...}`.
    loss_weights: With a list of losses, the weight of each; default 1.
    metrics: Optional Keras metrics: a list of `keras.metrics.Metric`
      (copied from their configs) or a no-argument callable returning a
      list.

  Raises:
    KerasModelError: if the model, loss, loss weights or metrics are not
      as described.
    InputSpecError: if `input_spec` is malformed.
  """
  if keras_versions.is_keras2(keras_model):
    if metrics is not None and not isinstance(metrics, (list, tuple)):
      metrics = [metrics]
    return keras2_model.keras2_variable_model(
        keras_model, _combined_loss(loss, loss_weights), input_spec, metrics)
  model = functional.functional_model_from_keras(
      keras_model,
      _combined_loss(loss, loss_weights),
      input_spec,
      metrics_constructor=_metrics_constructor(metrics))
  # TFF's Keras models report their loss and counts next to the metrics.
  return functional.FunctionalModel(
      model.initial_weights,
      model.predict_on_batch,
      model.loss,
      metrics_fns=functional.with_loss_and_counts(
          (model.initialize_metrics_state, model.update_metrics_state,
           model.finalize_metrics)),
      input_spec=input_spec)
