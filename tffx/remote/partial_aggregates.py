"""Aggregation pushed down to workers: partial results and how they combine.

Each worker aggregates the clients of its shard, and the controller combines
one partial result per worker, so what crosses the network does not grow
with the number of clients per worker:

    intrinsic                 worker partial (kind)          controller
    ------------------------  -----------------------------  ---------------
    federated_sum             sum of members (sum)           add
    federated_secure_sum(_*)  sum, after checking every      add
                              client is in [0, bound]
                              (bounded_sum)
    federated_mean            sum (sum)                      add, / clients
    federated_weighted_mean   <sum of w*x, sum of w>         add both, divide
                              (weighted_sum)
    federated_min / _max      element-wise min / max         min / max
    federated_aggregate       accumulate from zero (a Run    merge, report
                              on the worker's executor)

The arithmetic is the reference executor's (numpy, element-wise over
structs, weights cast to each leaf's dtype), but sums are associated per
worker first, so floating-point results may differ from it by rounding.
Minima, maxima and integer sums are exact. This module is numpy only: it
neither talks to workers nor runs TensorFlow.
"""

import functools
from typing import Any, Callable, Iterator, List, Sequence, Tuple

import numpy as np

from tffx.executors import errors
from tffx.types import computation_types as ct
from tffx.types import structure

KINDS = ('sum', 'min', 'max', 'weighted_sum', 'bounded_sum')


def tensor_types(type_spec: ct.Type,
                 path: str = '') -> Iterator[Tuple[str, ct.TensorType]]:
  """Yields (path, tensor type) for the tensors of a struct, depth-first."""
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
  """Refuses tensors whose dtype kind (numpy `dtype.kind`) is not in `kinds`."""
  for path, t in tensor_types(type_spec):
    if t.dtype.kind not in kinds:
      raise TypeError(f'{uri} needs {what} values, found {t} at '
                      f'{path or "the top level"} of {type_spec}.')


def map_leaves(fn: Callable, type_spec: ct.Type, *values) -> Any:
  """Applies `fn(tensor_type, *leaves)` to the tensors of same-typed values."""
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
  """The element-wise sum of `values` (the zero for none)."""
  if not values:
    return zeros(type_spec, uri)
  return map_leaves(lambda t, *xs: functools.reduce(np.add, xs), type_spec,
                    *values)


def minimum(values: Sequence[Any], type_spec: ct.Type) -> Any:
  return map_leaves(lambda t, *xs: functools.reduce(np.minimum, xs),
                    type_spec, *values)


def maximum(values: Sequence[Any], type_spec: ct.Type) -> Any:
  return map_leaves(lambda t, *xs: functools.reduce(np.maximum, xs),
                    type_spec, *values)


def check_scalar_weights(weights: Sequence[Any], uri: str,
                         first_client: int = 0) -> List[np.ndarray]:
  """Returns the weights as arrays; refuses a weight that is not a scalar."""
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


def partial(kind: str, members: Sequence[Any], member_type: ct.Type, *,
            uri: str, weights: Sequence[Any] = (),
            upper_bounds: Sequence[Any] = (),
            descriptions: Sequence[str] = (),
            first_client: int = 0) -> Tuple[Any, ct.Type]:
  """A worker's partial aggregate of its clients' `members`, and its type.

  Args:
    kind: One of `KINDS`.
    members: The clients' values (at least one).
    member_type: Their type: tensors and structs of tensors.
    uri: The intrinsic, for messages.
    weights: For 'weighted_sum', one scalar per client.
    upper_bounds, descriptions: For 'bounded_sum', see `check_in_range`.
    first_client: The index of `members[0]` among all clients.

  Raises:
    ValueError: for an unknown kind or no members.
    SecureBoundsError, TypeError: as the reference executor would.
  """
  if kind not in KINDS:
    raise ValueError(f'Expected an aggregation kind in {KINDS}, found '
                     f'{kind!r}.')
  if not members:
    raise ValueError(f'A partial {kind} needs at least one client value.')
  if kind in ('sum', 'bounded_sum'):
    if kind == 'bounded_sum':
      check_in_range(members, member_type, upper_bounds, uri, descriptions,
                     first_client)
    return total(members, member_type, uri), member_type
  if kind == 'min':
    return minimum(members, member_type), member_type
  if kind == 'max':
    return maximum(members, member_type), member_type
  if len(weights) != len(members):
    raise ValueError(f'Expected one weight per client ({len(members)}), found '
                     f'{len(weights)}.')
  arrays = check_scalar_weights(weights, uri, first_client)
  weight_total = functools.reduce(np.add, arrays)
  value = structure.Struct([(None, weighted_total(members, arrays,
                                                  member_type)),
                            (None, weight_total)])
  weight_type = ct.TensorType(weight_total.dtype, ())
  return value, ct.StructType([(None, member_type), (None, weight_type)])
