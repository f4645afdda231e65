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
(`sgdm`, `adam`, `adagrad`, `rmsprop`, `yogi`) live in sibling modules; this
module also holds what they share: `HparamsOptimizer` (hyperparameters as
the first entries of the state, read and replaced by name), validation of
hyperparameters at build time, and per-weight state tensors.
"""

import abc
import collections
from typing import Any, Iterable, Mapping, Tuple

import tensorflow as tf

State = Mapping[str, Any]
Hparams = Mapping[str, Any]

# The state key of the learning rate, the one hyperparameter every optimizer
# has (like `tff.learning.optimizers.LEARNING_RATE_KEY`).
LEARNING_RATE_KEY = 'learning_rate'


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


class HparamsOptimizer(Optimizer):
  """An `Optimizer` whose state starts with its hyperparameters.

  The hyperparameters are float32 scalars, in the order given; a subclass
  puts its other entries (accumulators, step counts) after them, e.g.

      state = self.hparams_state()
      state['accumulator'] = filled_like(specs, 0.0)

  and inherits `get_hparams` and `set_hparams`.
  """

  def __init__(self, name: str, hparams: Iterable[Tuple[str, float]]):
    """Creates the optimizer.

    Args:
      name: The optimizer's name, for error messages (`'Adam'`).
      hparams: `(state key, initial value)` pairs of the hyperparameters, in
        state order.
    """
    self._name = name
    self._hparams = collections.OrderedDict(hparams)

  def hparams_state(self) -> 'collections.OrderedDict[str, tf.Tensor]':
    """Returns the initial hyperparameters as float32 scalars, by key."""
    return collections.OrderedDict(
        (k, tf.constant(v, tf.float32)) for k, v in self._hparams.items())

  def get_hparams(self, state: State) -> Hparams:
    return collections.OrderedDict((k, state[k]) for k in self._hparams)

  def set_hparams(self, state: State, hparams: Hparams) -> State:
    return replace_hparams(state, hparams, tuple(self._hparams), self._name)


def check_structures_match(weights: Any, gradients: Any, what: str) -> None:
  """Raises ValueError unless `gradients` is nested like `weights`."""
  try:
    tf.nest.assert_same_structure(weights, gradients, check_types=False)
  except (ValueError, TypeError) as e:
    raise ValueError(
        f'Expected {what} to have the structure of the weights, '
        f'{tf.nest.map_structure(lambda _: "*", weights)}; found '
        f'{tf.nest.map_structure(lambda _: "*", gradients)}. ({e})') from None


def _shape_and_dtype(value: Any) -> Tuple[tf.TensorShape, tf.DType]:
  if not (hasattr(value, 'shape') and hasattr(value, 'dtype')):
    value = tf.convert_to_tensor(value)
  return tf.TensorShape(value.shape), tf.as_dtype(value.dtype)


def check_weights_gradients_match(weights: Any, gradients: Any) -> None:
  """Raises ValueError unless `gradients` matches `weights` leaf by leaf.

  Like `tff.learning.optimizers.check_weights_gradients_match`: the two must
  be nested alike, and every gradient that is not `None` must have the shape
  and dtype of its weight (a `None` gradient, as a `tf.GradientTape` returns
  for a weight the loss does not depend on, matches any weight).

  Raises:
    ValueError: if the structures differ, or a gradient's shape or dtype
      differs from its weight's.
  """
  check_structures_match(weights, gradients, 'the gradients')
  for i, (w, g) in enumerate(
      zip(tf.nest.flatten(weights), tf.nest.flatten(gradients))):
    if g is None:
      continue
    (w_shape, w_dtype), (g_shape, g_dtype) = (_shape_and_dtype(w),
                                              _shape_and_dtype(g))
    if not w_shape.is_compatible_with(g_shape) or w_dtype != g_dtype:
      raise ValueError(
          f'Expected the gradients to have the shapes and dtypes of the '
          f'weights; found a gradient {g_dtype.name}{g_shape} for the weight '
          f'{w_dtype.name}{w_shape} at leaf {i}.')


def handle_indexed_slices_gradients(gradients: Any) -> Any:
  """Returns `gradients` with every `tf.IndexedSlices` made a dense tensor.

  Like `tff.learning.optimizers.handle_indexed_slices_gradients`: sparse
  gradients (e.g. of `tf.gather`, an embedding lookup) become tensors of
  their dense shape; other leaves (tensors, `None`) are returned as they
  are.
  """
  return tf.nest.map_structure(
      lambda g: tf.convert_to_tensor(g)
      if isinstance(g, tf.IndexedSlices) else g, gradients)


def prepare_step(state: State, weights: Any, gradients: Any,
                 state_keys: Tuple[str, ...] = ()) -> Any:
  """Returns the gradients of one step, dense and checked against the weights.

  `IndexedSlices` become dense; then the gradients are checked (structure,
  and shape and dtype of every leaf that is not `None`), then the state
  entries named in `state_keys`, in order.

  Raises:
    ValueError: naming the first of these that does not match the weights.
  """
  gradients = handle_indexed_slices_gradients(gradients)
  check_weights_gradients_match(weights, gradients)
  for key in state_keys:
    check_structures_match(weights, state[key], f'the {key} in the state')
  return gradients


def map_step(update_fn: Any, weights: Any, gradients: Any,
             *slots: Any) -> Tuple[Any, ...]:
  """Applies a per-weight update rule, skipping weights without a gradient.

  Args:
    update_fn: `(w, g, *slot_values) -> (w', *slot_values')` for one weight.
    weights: A structure of tensors.
    gradients: A structure like `weights`; a `None` leaf leaves its weight
      and slot values unchanged.
    *slots: Structures like `weights` (accumulators and the like).

  Returns:
    `(new_weights, *new_slots)`, each nested like `weights`.
  """
  flat_weights = tf.nest.flatten(weights)
  flat_gradients = tf.nest.flatten(gradients)
  flat_slots = [tf.nest.flatten(s) for s in slots]
  results = []
  for i, (w, g) in enumerate(zip(flat_weights, flat_gradients)):
    slot_values = tuple(s[i] for s in flat_slots)
    if g is None:
      results.append((w,) + slot_values)
    else:
      results.append(tuple(update_fn(w, g, *slot_values)))
  columns = list(zip(*results)) if results else [()] * (1 + len(slots))
  return tuple(
      tf.nest.pack_sequence_as(structure, list(column))
      for structure, column in zip((weights,) + slots, columns))


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


def check_non_negative(value: float, name: str) -> None:
  """Raises ValueError unless `value` is a number >= 0 (NaN fails)."""
  if not value >= 0:
    raise ValueError(f'Expected a non-negative {name}, found {value}.')


def check_positive(value: float, name: str) -> None:
  """Raises ValueError unless `value` is a number > 0 (NaN fails)."""
  if not value > 0:
    raise ValueError(f'Expected a positive {name}, found {value}.')


def check_unit_interval(value: float, name: str) -> None:
  """Raises ValueError unless `value` is in [0, 1), as decays must be."""
  if not 0 <= value < 1:
    raise ValueError(
        f'Expected {name} in [0, 1), found {value}. Tip: a decay of 1 or '
        f'more never forgets (or amplifies) the past.')


def filled_like(specs: Any, value: float) -> Any:
  """Returns tensors shaped and typed like `specs`, all equal to `value`."""
  return tf.nest.map_structure(lambda s: tf.fill(s.shape, tf.cast(
      value, s.dtype)), specs)


def moving_average(decay: tf.Tensor, average: tf.Tensor,
                   value: tf.Tensor) -> tf.Tensor:
  """Returns `decay * average + (1 - decay) * value`, in `average`'s dtype."""
  decay = tf.cast(decay, average.dtype)
  return decay * average + (1 - decay) * value
