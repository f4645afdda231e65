"""Run Keras 2 objects on tensors: variables replaced by values while they are built.

Keras 2 (`tf_keras`) layers and metrics keep their state in `tf.Variable`s
and have no stateless form. To use one as a pure function of its state,
tffx builds a fresh copy under `inject_values(values)`: each variable the
copy creates is a `ValueVariable` holding the next given tensor instead.
Reading one reads the tensor (so gradients flow to it), and `assign*`
rebinds it to a new tensor, so after `metric.update_state(...)` the new
state is `[v.read_value() for v in metric.variables]`. Nothing is stored
between calls, so this works inside `tf.data` functions and graphs traced
by `tffx.tf_computation`, where variables cannot be created.

    order = creation_order(build)         # per variable of build(): its
                                          # index in creation order
    with inject_values(values, order):    # values in the variables' order
      copy = build()

Only what Keras 2 metrics and layers use is supported (reads, `assign`,
`assign_add`, `assign_sub`, `dtype`, `shape`, `name`).
"""

import contextlib
from typing import Any, Callable, List, Sequence

import tensorflow as tf


class ValueVariable(tf.__internal__.tracking.Trackable):
  """A stand-in for a `tf.Variable` that holds a tensor (see module docstring)."""

  def __init__(self, value: Any, name: str = 'value', trainable: bool = True):
    self._value = tf.convert_to_tensor(value)
    self._name = name
    self.trainable = trainable

  @property
  def dtype(self) -> tf.DType:
    return self._value.dtype

  @property
  def shape(self) -> tf.TensorShape:
    return self._value.shape

  @property
  def name(self) -> str:
    return self._name

  def get_shape(self) -> tf.TensorShape:
    return self._value.shape

  def read_value(self) -> tf.Tensor:
    return self._value

  def value(self) -> tf.Tensor:
    return self._value

  def assign(self, value, use_locking=None, name=None, read_value=True):
    del use_locking, name, read_value  # A value has no locks or names.
    self._value = tf.cast(value, self.dtype)
    return self._value

  def assign_add(self, delta, use_locking=None, name=None, read_value=True):
    return self.assign(self._value + tf.cast(delta, self.dtype))

  def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
    return self.assign(self._value - tf.cast(delta, self.dtype))


def _to_tensor(v: ValueVariable, dtype=None, name=None, as_ref=False):
  del name, as_ref  # A plain read.
  if dtype is not None and dtype != v.dtype:
    return tf.cast(v.read_value(), dtype)
  return v.read_value()


tf.register_tensor_conversion_function(ValueVariable, _to_tensor)


def _initial_value(kwargs) -> Any:
  value = kwargs.get('initial_value')
  if callable(value):
    value = value()
  return tf.cast(value, kwargs['dtype']) if kwargs.get('dtype') else value


def creation_order(build: Callable[[], Any],
                   variables_of: Callable[[Any], Sequence[Any]]) -> List[int]:
  """For each variable of `variables_of(build())`: its index in creation order.

  `build` runs under a scope that makes `ValueVariable`s of the initial
  values, so no `tf.Variable` is created.
  """
  created = []

  def record(next_creator, **kwargs):
    del next_creator  # No real variable.
    v = ValueVariable(_initial_value(kwargs), kwargs.get('name') or 'value',
                      kwargs.get('trainable', True) is not False)
    created.append(v)
    return v

  with tf.variable_creator_scope(record):
    built = build()
  index = {id(v): i for i, v in enumerate(created)}
  return [index[id(v)] for v in variables_of(built)]


# A variable created in `inject_values` that is none of the given ones
# (e.g. a layer's internal counter) keeps its initial value.


@contextlib.contextmanager
def inject_values(values: Sequence[Any], order: Sequence[int]):
  """Variables created in this scope are `ValueVariable`s of `values`.

  Args:
    values: One tensor per variable, in the order of `order`'s variables.
    order: From `creation_order`: for each of those variables, its index
      in creation order.
  """
  if len(values) != len(order):
    raise ValueError(
        f'Expected {len(order)} values for the variables, found '
        f'{len(values)}. Tip: pass the weights of the same model.')
  by_creation = dict(zip(order, values))
  count = [0]

  def inject(next_creator, **kwargs):
    del next_creator  # No real variable.
    i = count[0]
    count[0] += 1
    value = by_creation[i] if i in by_creation else _initial_value(kwargs)
    return ValueVariable(value, kwargs.get('name') or 'value',
                         kwargs.get('trainable', True) is not False)

  with tf.variable_creator_scope(inject):
    yield


def unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
  """`method` without the `tf.function`-like wrappers Keras 2 puts on it."""
  while hasattr(method, '__wrapped__'):
    method = method.__wrapped__
  return method
