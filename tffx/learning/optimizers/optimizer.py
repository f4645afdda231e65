"""`Optimizer`: the functional optimizer interface of `tffx.learning`.

An optimizer is four pure functions over an explicit state, so that it can
be traced into a `tffx.tf_computation` and its state can travel in a
federated process:

    state = optimizer.initialize(specs)                 # structure of TensorSpecs
    state, weights = optimizer.next(state, weights, gradients)
    hparams = optimizer.get_hparams(state)              # OrderedDict
    state = optimizer.set_hparams(state, hparams)

States are `OrderedDict`s of tensors (hyperparameters such as
`learning_rate`, and per-weight accumulators shaped like the weights).
Nothing is stored in the optimizer object between calls. Concrete optimizers
(`sgdm`, ...) live in sibling modules.
"""

import abc
import collections
from typing import Any, Mapping, Tuple

import tensorflow as tf

State = Mapping[str, Any]
Hparams = Mapping[str, Any]


class Optimizer(abc.ABC):
  """Base class of functional optimizers (like `tff.learning.optimizers`)."""

  @abc.abstractmethod
  def initialize(self, specs: Any) -> State:
    """Returns the initial state for weights described by `specs`.

    Args:
      specs: A structure of `tf.TensorSpec`s, one per weight.
    """

  @abc.abstractmethod
  def next(self, state: State, weights: Any,
           gradients: Any) -> Tuple[State, Any]:
    """Returns `(new_state, new_weights)` after one step on `gradients`.

    Args:
      state: The current state.
      weights: A structure of tensors.
      gradients: A structure of tensors matching `weights`.
    """

  @abc.abstractmethod
  def get_hparams(self, state: State) -> Hparams:
    """Returns the hyperparameters in `state` as an `OrderedDict`."""

  @abc.abstractmethod
  def set_hparams(self, state: State, hparams: Hparams) -> State:
    """Returns `state` with the hyperparameters replaced by `hparams`.

    `hparams` may hold a subset of the keys of `get_hparams(state)`.
    """


def check_structures_match(weights: Any, gradients: Any, what: str) -> None:
  """Raises ValueError unless `gradients` is nested like `weights`."""
  try:
    tf.nest.assert_same_structure(weights, gradients, check_types=False)
  except (ValueError, TypeError) as e:
    raise ValueError(
        f'Expected {what} to have the structure of the weights, '
        f'{tf.nest.map_structure(lambda _: "*", weights)}; found '
        f'{tf.nest.map_structure(lambda _: "*", gradients)}. ({e})') from None


def replace_hparams(state: State, hparams: Hparams, known: Tuple[str, ...],
                    optimizer_name: str) -> State:
  """Returns `state` with the entries named in `hparams` replaced.

  Values are cast to the dtype of the entry they replace, so the state
  keeps its type (and a tf_computation over it its signature).

  Raises:
    KeyError: if `hparams` names something not in `known`.
  """
  items = list(hparams.items())
  unknown = [k for k, _ in items if k not in known]
  if unknown:
    raise KeyError(
        f'Expected hyperparameters of {optimizer_name} among {list(known)}, '
        f'found unknown {unknown}.')
  updated = collections.OrderedDict(state.items())
  for key, value in items:
    updated[key] = tf.cast(value, tf.as_dtype(updated[key].dtype))
  return updated
