"""Element-wise arithmetic and checks over executor values of tensor structs.

The numpy arithmetic that every executor's aggregations share, so that they
compute and refuse exactly alike:

    tensor_types, map_leaves       walk a type's tensor leaves (and values)
    zeros, total                   the sum over values (zeros for none)
    minimum, maximum               element-wise extrema
    check_scalar_weights,          federated_weighted_mean's weights and the
      weighted_total                 sum of w * x, w cast to each leaf dtype
    bound_leaves, check_in_range,  secure sums: bounds per leaf, and values
      check_non_negative_bounds      outside [0, bound] refused
    check_dtypes, check_not_empty  what an aggregation accepts

Values are tensors (numpy arrays) and `Struct`s of them, of one type;
operations fold in the order the values are given (`functools.reduce`), so
callers decide how clients are associated. This module neither evaluates
building blocks nor holds state; aggregations are `aggregations`.
"""

import functools
from typing import Any, Callable, Iterator, List, Sequence, Tuple

import numpy as np

from tffx.executors import errors
from tffx.types import computation_types as ct
from tffx.types import structure


def tensor_types(type_spec: ct.Type,
                 path: str = '') -> Iterator[Tuple[str, ct.TensorType]]:
  """Yields (path, tensor type) for the tensors of a struct, depth-first.

  Raises:
    TypeError: if `type_spec` holds anything but tensors and structs.
  """
  if isinstance(type_spec, ct.TensorType):
    yield path, type_spec
  elif isinstance(type_spec, ct.StructType):
    for i, (name, t) in enumerate(type_spec.items()):
      label = repr(name) if name else str(i)
      yield from tensor_types(t, f'{path}[{label}]')
  else:
    raise TypeError(
        f'Expected tensors or structs of tensors, found {type_spec}.')


def check_dtypes(type_spec: ct.Type, kinds: str, what: str, uri: str) -> None:
  """Refuses tensors whose dtype kind (numpy `dtype.kind`) is not in `kinds`.

  Raises:
    TypeError: naming the first offending leaf, e.g. "federated_mean needs
      floating-point values, found int32 at ['n'] of <x=float32,n=int32>".
  """
  for path, t in tensor_types(type_spec):
    if t.dtype.kind not in kinds:
      raise TypeError(f'{uri} needs {what} values, found {t} at '
                      f'{path or "the top level"} of {type_spec}.')


def check_not_empty(num_clients: int, uri: str) -> None:
  """Refuses an aggregation over no clients.

  Raises:
    AggregationError: if `num_clients` is 0.
  """
  if not num_clients:
    raise errors.AggregationError(
        f'{uri} over 0 clients has no result. Tip: pass at least one '
        f'client value, or set default_num_clients on the execution context.')


def map_leaves(fn: Callable, type_spec: ct.Type, *values) -> Any:
  """Applies `fn(tensor_type, *leaves)` to the tensors of same-typed values.

  Each result is cast to its leaf's dtype.
  """
  if isinstance(type_spec, ct.TensorType):
    return np.asarray(fn(type_spec, *values), dtype=type_spec.dtype)
  if isinstance(type_spec, ct.StructType):
    return structure.Struct([
        (name, map_leaves(fn, t, *(v[i] for v in values)))
        for i, (name, t) in enumerate(type_spec.items())
    ])
  raise TypeError(f'Expected tensors or structs of tensors, found {type_spec}.')


def zeros(type_spec: ct.Type, uri: str) -> Any:
  """The zero of a sum over no values.

  Raises:
    AggregationError: if a tensor's shape is not fully known.
    TypeError: if `type_spec` holds anything but tensors and structs.
  """
  if isinstance(type_spec, ct.TensorType):
    if type_spec.shape is None or None in type_spec.shape:
      raise errors.AggregationError(
          f'{uri} over zero values of type {type_spec} has no result: the '
          f'shape is not fully known, so there is no zero to return.')
    return np.zeros(type_spec.shape, dtype=type_spec.dtype)
  if isinstance(type_spec, ct.StructType):
    return structure.Struct([(n, zeros(t, uri)) for n, t in type_spec.items()])
  raise TypeError(f'{uri} cannot sum values of type {type_spec}.')


def total(values: Sequence[Any], type_spec: ct.Type, uri: str) -> Any:
  """The element-wise sum of `values`, in order (the zero for none)."""
  if not values:
    return zeros(type_spec, uri)
  return map_leaves(lambda t, *xs: functools.reduce(np.add, xs), type_spec,
                    *values)


def minimum(values: Sequence[Any], type_spec: ct.Type) -> Any:
  """The element-wise minimum of (at least one of) `values`."""
  return map_leaves(lambda t, *xs: functools.reduce(np.minimum, xs),
                    type_spec, *values)


def maximum(values: Sequence[Any], type_spec: ct.Type) -> Any:
  """The element-wise maximum of (at least one of) `values`."""
  return map_leaves(lambda t, *xs: functools.reduce(np.maximum, xs),
                    type_spec, *values)


def check_scalar_weights(weights: Sequence[Any], uri: str,
                         first_client: int = 0) -> List[np.ndarray]:
  """Returns the weights as arrays; refuses a weight that is not a scalar.

  Raises:
    TypeError: naming the client (counted from `first_client`) and shape.
  """
  arrays = [np.asarray(w) for w in weights]
  for i, w in enumerate(arrays):
    if w.shape:
      raise TypeError(f'{uri} needs a scalar weight per client, found '
                      f'shape {w.shape} at client {first_client + i}.')
  return arrays


def weighted_total(members: Sequence[Any], weights: Sequence[np.ndarray],
                   type_spec: ct.Type) -> Any:
  """The element-wise sum of `w * x`, each weight cast to the leaf's dtype."""

  def weighted_sum(t, *xs):
    weighted = [w.astype(t.dtype) * x for w, x in zip(weights, xs)]
    return functools.reduce(np.add, weighted)

  return map_leaves(weighted_sum, type_spec, *members)


def bound_leaves(bound: Any, type_spec: ct.Type) -> List[np.ndarray]:
  """The bound of each tensor leaf: a scalar bound applies to every leaf."""
  if isinstance(type_spec, ct.StructType):
    result = []
    for i, t in enumerate(type_spec):
      element = bound[i] if isinstance(bound, structure.Struct) else bound
      result.extend(bound_leaves(element, t))
    return result
  return [np.asarray(bound)]


def check_non_negative_bounds(upper_bounds: Sequence[Any], uri: str,
                              descriptions: Sequence[str]) -> None:
  """Refuses a negative bound of a secure sum.

  Args:
    upper_bounds: One inclusive upper bound per tensor leaf, depth-first.
    uri: The intrinsic, for messages.
    descriptions: How each leaf's bound was given ('max_input=7').

  Raises:
    SecureBoundsError: for the first negative bound.
  """
  for leaf, upper in enumerate(upper_bounds):
    if np.any(np.asarray(upper) < 0):
      raise errors.SecureBoundsError(
          f'{uri} needs a non-negative bound, found {descriptions[leaf]}.')


def check_in_range(members: Sequence[Any], member_type: ct.Type,
                   upper_bounds: Sequence[Any], uri: str,
                   descriptions: Sequence[str], first_client: int = 0) -> None:
  """Refuses client values outside [0, upper bound] of their tensor leaf.

  Args:
    members: The client values.
    member_type: Their type.
    upper_bounds: One inclusive upper bound per tensor leaf, depth-first.
    uri: The intrinsic, for messages.
    descriptions: How each leaf's bound was given ('max_input=7').
    first_client: The index of `members[0]` among all clients.

  Raises:
    SecureBoundsError: naming the client, the value and the bound.
  """
  paths = [path for path, _ in tensor_types(member_type)]
  for client, member in enumerate(members, start=first_client):
    for leaf, x in enumerate(structure.flatten(member)):
      x = np.asarray(x)
      upper = upper_bounds[leaf]
      outside = (x < 0) | (x > upper)
      if np.any(outside):
        where = f' at {paths[leaf]}' if paths[leaf] else ''
        raise errors.SecureBoundsError(
            f'{uri}: client {client} has the value {x[outside].flat[0]}'
            f'{where}, outside [0, {upper}] ({descriptions[leaf]}). Tip: clip '
            f'client values to the bound before a secure sum.')
