"""`ModelWeights`: the trainable and non-trainable weights of a model.

A `NamedTuple`, so that TensorFlow (`tf.nest`) and tffx types treat it as a
struct with two named elements: `ModelWeights@SERVER` is a federated struct
`<trainable=...,non_trainable=...>` whose Python container is `ModelWeights`.
This module does not define models; it only moves weights between a model's
variables and plain values, and gives their type (`weights_type_from_model`).
"""

from typing import Any, NamedTuple

import tensorflow as tf

from tffx.types import computation_types
from tffx.types import type_conversions


class ModelWeights(NamedTuple):
  """The weights of a model, split into trainable and non-trainable.

  Attributes:
    trainable: A structure (usually a tuple or list) of the trainable
      weights, e.g. tensors, arrays or `tf.Variable`s.
    non_trainable: The same for the non-trainable weights.
  """
  trainable: Any
  non_trainable: Any

  @classmethod
  def from_model(cls, model) -> 'ModelWeights':
    """The variables of `model` (anything with `trainable_variables` and
    `non_trainable_variables`, such as a Keras model), as tuples.

    Raises:
      TypeError: if `model` lacks either attribute.
    """
    missing = [a for a in ('trainable_variables', 'non_trainable_variables')
               if not hasattr(model, a)]
    if missing:
      raise TypeError(
          f'Expected a model with `trainable_variables` and '
          f'`non_trainable_variables`, found {type(model).__name__} without '
          f'{", ".join(missing)}.')
    return cls(
        tuple(model.trainable_variables), tuple(model.non_trainable_variables))

  def assign_weights_to(self, model) -> None:
    """Assigns these weights to the variables of `model`, in order.

    Raises:
      ValueError: if the structures of weights and variables differ.
    """
    variables = ModelWeights.from_model(model)
    for name, values, targets in (
        ('trainable', self.trainable, variables.trainable),
        ('non_trainable', self.non_trainable, variables.non_trainable)):
      values, targets = tf.nest.flatten(values), tf.nest.flatten(targets)
      if len(values) != len(targets):
        raise ValueError(
            f'Expected {len(targets)} {name} weights to assign to the model, '
            f'found {len(values)}.')
      for target, value in zip(targets, values):
        target.assign(value)

  def convert_variables_to_arrays(self) -> 'ModelWeights':
    """The same weights, with tensors and variables turned into numpy arrays."""
    return tf.nest.map_structure(
        lambda v: v.numpy() if hasattr(v, 'numpy') else v, self)


def weights_type_from_model(model: Any) -> computation_types.Type:
  """The tffx type of a model's weights, with the `ModelWeights` container.

  Args:
    model: A model with `initial_weights` (a `FunctionalModel`), or with
      `trainable_variables` and `non_trainable_variables` (a Keras model),
      or a no-argument callable returning one of these.

  Raises:
    TypeError: if `model` is none of these.
  """
  if callable(model) and not (hasattr(model, 'initial_weights') or
                              hasattr(model, 'trainable_variables')):
    model = model()
  if hasattr(model, 'initial_weights'):
    weights = ModelWeights(*model.initial_weights)
  else:
    weights = ModelWeights.from_model(model)
  return type_conversions.infer_type(
      ModelWeights(tuple(weights.trainable), tuple(weights.non_trainable)))
