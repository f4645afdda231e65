"""`from_keras_model`: a Keras model, loss and metrics as a `VariableModel`.

    def model_fn():
      return tffx.learning.models.from_keras_model(
          keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]),
          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
          input_spec=dataset.element_spec,
          metrics=[keras.metrics.SparseCategoricalAccuracy()])

As TFF's: the result is a `VariableModel` (`keras_variable_model`) that
reports the given metrics, then `loss` (the mean over examples),
`num_examples` and `num_batches`. This module checks the arguments and
combines the losses of a multi-output model; `functional_model_from_keras`
is the variable-free alternative.
"""

from typing import Any, Callable, Optional, Sequence, Union

import tensorflow as tf

from tffx.learning.metrics import keras_utils as metrics_keras_utils
from tffx.learning.metrics import keras_versions
from tffx.learning.models import errors
from tffx.learning.models import keras_variable_model
from tffx.learning.models import variable

LossType = Union[Callable[..., Any], Sequence[Callable[..., Any]]]


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
                     metrics: Any = None) -> variable.VariableModel:
  """Returns a `VariableModel` for a Keras model, its loss and its metrics.

  As in TFF: the model reports the given metrics, then `loss` (the mean
  over examples), `num_examples` and `num_batches`; call `from_keras_model`
  inside the `model_fn` given to the algorithms, building the Keras model
  and metrics there, since the algorithms build the model in each client's
  graph. Keras 3 and Keras 2 (`tf_keras`, with `TF_USE_LEGACY_KERAS=1`)
  models are accepted. For a variable-free model, see
  `functional_model_from_keras`.

  Args:
    keras_model: A Keras model (built, or buildable from the x spec), or a
      no-argument callable returning one; compiled settings are ignored.
    loss: A Keras loss (`fn(y_true, y_pred)`), or a list of them, one per
      output of a multi-output model (whose labels are then a list too).
    input_spec: The spec of one batch, `(x, y)` or `{'x': ..., 'y': ...}`.
    loss_weights: With a list of losses, the weight of each; default 1.
    metrics: Optional Keras metric objects (a list, or one), or a
      no-argument callable returning a list.

  Raises:
    KerasModelError: if the model, loss, loss weights or metrics are not
      as described.
    InputSpecError: if `input_spec` is malformed.
  """
  if not keras_versions.is_keras_model(keras_model) and callable(keras_model):
    keras_model = keras_model()
  if not keras_versions.is_keras_model(keras_model):
    raise errors.KerasModelError(
        f'Expected a Keras model (or a no-argument callable returning one), '
        f'found {type(keras_model).__name__}.')
  if metrics is None:
    metrics = []
  elif metrics_keras_utils.is_keras_metric(metrics):
    metrics = [metrics]
  elif callable(metrics):
    metrics = metrics()
  if not isinstance(metrics, (list, tuple)):
    raise errors.KerasModelError(
        f'Expected metrics to be a list of Keras metrics or a no-argument '
        f'callable returning one, found {type(metrics).__name__}.')
  return keras_variable_model.keras_variable_model(
      keras_model, _combined_loss(loss, loss_weights), input_spec,
      list(metrics))
