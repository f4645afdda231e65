"""Which Keras an object comes from: Keras 3 (`keras`) or Keras 2 (`tf_keras`).

TensorFlow 2.16+ ships Keras 3 as `tf.keras`; with the `tf-keras` package
installed and `TF_USE_LEGACY_KERAS=1`, `tf.keras` is Keras 2 (`tf_keras`)
instead. TFF code builds its models and metrics through `tf.keras`, so tffx
accepts objects of either. Keras 2 is never imported here: an object can
only come from `tf_keras` if the user's program imported it, so its classes
are looked up in `sys.modules`.

    is_keras_metric(obj)    a Keras 3 or Keras 2 metric object
    is_keras_model(obj)     a Keras 3 or Keras 2 model
    is_keras2(obj)          an instance of a `tf_keras` class we know
"""

import sys
from typing import Any, Tuple

import keras


def _keras2_classes(*names: str) -> Tuple[type, ...]:
  """The classes `tf_keras.<name>` if Keras 2 is loaded, else ()."""
  module = sys.modules.get('tf_keras')
  if module is None:
    return ()
  classes = []
  for name in names:
    value = module
    for part in name.split('.'):
      value = getattr(value, part)
    classes.append(value)
  return tuple(classes)


def keras2_metric_classes() -> Tuple[type, ...]:
  return _keras2_classes('metrics.Metric')


def keras2_model_classes() -> Tuple[type, ...]:
  return _keras2_classes('Model')


def is_keras_metric(obj: Any) -> bool:
  return isinstance(obj, (keras.metrics.Metric,) + keras2_metric_classes())


def is_keras_model(obj: Any) -> bool:
  return isinstance(obj, (keras.Model,) + keras2_model_classes())


def is_keras2(obj: Any) -> bool:
  """Whether `obj` is a Keras 2 (`tf_keras`) model, metric, loss or optimizer."""
  return isinstance(
      obj,
      _keras2_classes('Model', 'metrics.Metric', 'losses.Loss',
                      'optimizers.Optimizer', 'optimizers.legacy.Optimizer'))


def keras2_clone_model(model: Any) -> Any:
  """A new Keras 2 model with `model`'s architecture (`clone_model`)."""
  return sys.modules['tf_keras'].models.clone_model(model)
