"""Streaming aggregations: sums, means, minima and maxima over client batches.

A stream takes the clients' values one batch at a time, in client order
(`add(batch, start)`), keeps only a running accumulator, and gives the
aggregate at the end (`result()`). It never holds more than one batch, so a
round's memory does not grow with its number of clients.

Results are exactly the reference executor's: clients are combined one
after the other, in order, with the same numpy operations
(`acc = acc + x`, in place when shapes allow). A stacked batch (see
`client_batches`) of small values is folded with `ufunc.accumulate`, which
is sequential by definition (unlike `ufunc.reduce`, which may add pairwise
and round differently).

    SumStream             federated_sum, and the total of federated_mean
    MeanStream            federated_mean
    WeightedMeanStream    federated_weighted_mean
    ExtremumStream        federated_min, federated_max
    SecureSumStream       federated_secure_sum(_bitwidth): a sum that
                          refuses values outside [0, bound]

Checks that do not depend on the values (dtypes, bounds, zero clients)
happen when a stream is built, as the reference executor makes them before
reading any value. This module does not schedule work or call computations.
"""

from typing import Any, Callable, Iterator, List, Optional, Tuple

import numpy as np

from tffx.executors import client_batches
from tffx.executors import errors
from tffx.types import computation_types as ct
from tffx.types import structure

# Stacked leaves of at most this many elements per client are folded with
# one `ufunc.accumulate`; larger ones row by row, in place.
_ACCUMULATE_MAX_ELEMENTS = 64


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
  """Refuses tensors whose dtype kind (numpy `dtype.kind`) is not in `kinds`."""
  for path, t in tensor_types(type_spec):
    if t.dtype.kind not in kinds:
      raise TypeError(f'{uri} needs {what} values, found {t} at '
                      f'{path or "the top level"} of {type_spec}.')


def check_not_empty(num_clients: int, uri: str) -> None:
  if not num_clients:
    raise errors.AggregationError(
        f'{uri} over 0 clients has no result. Tip: pass at least one '
        f'client value, or set default_num_clients on the execution context.')


def _pack(type_spec: ct.Type, leaves: Iterator[Any]) -> Any:
  """Builds a value of `type_spec` from its leaves, cast to the leaf dtypes."""
  if isinstance(type_spec, ct.TensorType):
    return np.asarray(next(leaves), dtype=type_spec.dtype)
  return structure.Struct([(n, _pack(t, leaves)) for n, t in type_spec.items()])


def _zeros(type_spec: ct.Type, uri: str) -> Any:
  if isinstance(type_spec, ct.TensorType):
    if type_spec.shape is None or None in type_spec.shape:
      raise errors.AggregationError(
          f'{uri} over zero values of type {type_spec} has no result: the '
          f'shape is not fully known, so there is no zero to return.')
    return np.zeros(type_spec.shape, dtype=type_spec.dtype)
  if isinstance(type_spec, ct.StructType):
    return structure.Struct([(n, _zeros(t, uri)) for n, t in type_spec.items()])
  raise TypeError(f'{uri} cannot sum values of type {type_spec}.')


class _LeafFold:
  """Folds values leaf by leaf with a binary ufunc, in client order."""

  def __init__(self, member_type: ct.Type, ufunc: np.ufunc):
    self._ufunc = ufunc
    self._num_leaves = len(list(tensor_types(member_type)))
    self._accumulators: Optional[List[np.ndarray]] = None
    self.count = 0

  def add(self, batch: client_batches.ClientBatch) -> None:
    if batch.is_stacked:
      for i, rows in enumerate(structure.flatten(batch.stacked())):
        self._fold_rows(i, np.asarray(rows))
      self.count += batch.count
    else:
      for member in batch.members():
        self.add_one(structure.flatten(member))

  def add_one(self, leaves: List[Any]) -> None:
    """Folds one client's leaves."""
    self.count += 1
    if self._accumulators is None:
      self._accumulators = [np.array(x) for x in leaves]  # Owned copies.
      return
    for i, x in enumerate(leaves):
      self._accumulators[i] = self._combine(self._accumulators[i], x)

  def _combine(self, accumulator: np.ndarray, x: Any) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == accumulator.dtype and x.shape == accumulator.shape:
      return self._ufunc(accumulator, x, out=accumulator)
    # Promotes or broadcasts exactly as `acc = ufunc(acc, x)` would.
    return np.array(self._ufunc(accumulator, x))

  def _fold_rows(self, i: int, rows: np.ndarray) -> None:
    if self._accumulators is None:
      self._accumulators = [None] * self._num_leaves
    if self._accumulators[i] is None:
      self._accumulators[i] = np.array(rows[0])
      rows = rows[1:]
    accumulator = self._accumulators[i]
    if not len(rows):
      return
    if accumulator.size <= _ACCUMULATE_MAX_ELEMENTS and rows.dtype == (
        accumulator.dtype) and rows.shape[1:] == accumulator.shape:
      running = self._ufunc.accumulate(
          np.concatenate([accumulator[np.newaxis], rows]), axis=0,
          dtype=accumulator.dtype)
      self._accumulators[i] = np.array(running[-1])
    else:
      for row in rows:
        accumulator = self._combine(accumulator, row)
      self._accumulators[i] = accumulator

  def leaves(self) -> List[np.ndarray]:
    return self._accumulators or []


class SumStream:
  """`federated_sum`: the sum of the clients' values (zeros for no client).

  Raises:
    TypeError: when built, if the member type holds something other than
      tensors and structs.
    AggregationError: from `result` with no clients, if the member's shape
      is not fully known (there is no zero to return).
  """

  def __init__(self, member_type: ct.Type, uri: str):
    self._type = member_type
    self._uri = uri
    self._fold = _LeafFold(member_type, np.add)

  @property
  def count(self) -> int:
    return self._fold.count

  def add(self, batch: client_batches.ClientBatch, start: int) -> None:
    del start  # Sums need no client index.
    self._fold.add(batch)

  def add_one(self, member: Any) -> None:
    self._fold.add_one(structure.flatten(member))

  def result(self) -> Any:
    if not self._fold.count:
      return _zeros(self._type, self._uri)
    return _pack(self._type, iter(self._fold.leaves()))


class MeanStream:
  """`federated_mean`: the sum divided by the number of clients.

  Raises (when built):
    AggregationError: if there are no clients.
    TypeError: if a leaf is not floating-point.
  """

  def __init__(self, member_type: ct.Type, uri: str, num_clients: int):
    check_not_empty(num_clients, uri)
    check_dtypes(member_type, 'fc', 'floating-point', uri)
    self._type = member_type
    self._sum = SumStream(member_type, uri)

  def add(self, batch: client_batches.ClientBatch, start: int) -> None:
    self._sum.add(batch, start)

  def result(self) -> Any:
    count = self._sum.count
    total = structure.flatten(self._sum.result())
    return _pack(self._type, iter([x / count for x in total]))


class ExtremumStream:
  """`federated_min` or `federated_max`, element-wise.

  Raises (when built):
    AggregationError: if there are no clients.
  """

  def __init__(self, member_type: ct.Type, uri: str, num_clients: int,
               ufunc: np.ufunc):
    check_not_empty(num_clients, uri)
    self._type = member_type
    self._fold = _LeafFold(member_type, ufunc)

  def add(self, batch: client_batches.ClientBatch, start: int) -> None:
    del start  # Extrema need no client index.
    self._fold.add(batch)

  def result(self) -> Any:
    return _pack(self._type, iter(self._fold.leaves()))


class WeightedMeanStream:
  """`federated_weighted_mean`: sum(w_i * x_i) / sum(w_i).

  Each weight is cast to the dtype of each leaf it multiplies, as in the
  reference executor.

  Raises:
    AggregationError: when built with no clients; from `result` when the
      weights sum to zero.
    TypeError: from `add`, for a weight that is not a scalar.
  """

  def __init__(self, member_type: ct.Type, uri: str, num_clients: int):
    check_not_empty(num_clients, uri)
    self._types = [t for _, t in tensor_types(member_type)]
    self._type = member_type
    self._uri = uri
    self._weights: List[Any] = []
    self._total_weight = None
    self._accumulators: List[Any] = [None] * len(self._types)

  def add(self, values: client_batches.ClientBatch,
          weights: client_batches.ClientBatch, start: int) -> None:
    for j, (member, weight) in enumerate(zip(values.members(),
                                             weights.members())):
      weight = np.asarray(weight)
      if weight.shape:
        raise TypeError(f'{self._uri} needs a scalar weight per client, found '
                        f'shape {weight.shape} at client {start + j}.')
      self._weights.append(weight.item())
      self._total_weight = weight if self._total_weight is None else np.add(
          self._total_weight, weight)
      for i, (x, t) in enumerate(zip(structure.flatten(member), self._types)):
        weighted = weight.astype(t.dtype) * x
        self._accumulators[i] = weighted if self._accumulators[i] is None else (
            np.add(self._accumulators[i], weighted))

  def result(self) -> Any:
    if self._total_weight == 0:
      raise errors.AggregationError(
          f'{self._uri} has no result when the weights sum to zero; weights: '
          f'{self._weights}.')
    means = [
        x / self._total_weight.astype(t.dtype)
        for x, t in zip(self._accumulators, self._types)
    ]
    return _pack(self._type, iter(means))


def bound_leaves(bound: Any, type_spec: ct.Type) -> list:
  """The bound of each tensor leaf: a scalar bound applies to every leaf."""
  if isinstance(type_spec, ct.StructType):
    result = []
    for i, t in enumerate(type_spec):
      element = bound[i] if isinstance(bound, structure.Struct) else bound
      result.extend(bound_leaves(element, t))
    return result
  return [np.asarray(bound)]


class SecureSumStream:
  """A sum of integers that refuses client values outside [0, bound].

  Args:
    member_type: The type of a client's value.
    uri: The intrinsic, for messages.
    upper_bounds: One inclusive upper bound per tensor leaf.
    described: `described(leaf)` says how leaf's bound was given, e.g.
      'max_input=7', for messages.

  Raises:
    TypeError: when built, if a leaf is not an integer.
    SecureBoundsError: when built, for a negative bound; from `add`, for a
      client value outside its range.
  """

  def __init__(self, member_type: ct.Type, uri: str, upper_bounds: list,
               described: Callable[[int], str]):
    check_dtypes(member_type, 'iu', 'integer', uri)
    for leaf, upper in enumerate(upper_bounds):
      if np.any(np.asarray(upper) < 0):
        raise errors.SecureBoundsError(
            f'{uri} needs a non-negative bound, found {described(leaf)}.')
    self._uri = uri
    self._bounds = upper_bounds
    self._described = described
    self._paths = [path for path, _ in tensor_types(member_type)]
    self._sum = SumStream(member_type, uri)

  def add(self, batch: client_batches.ClientBatch, start: int) -> None:
    for j, member in enumerate(batch.members()):
      for leaf, x in enumerate(structure.flatten(member)):
        x = np.asarray(x)
        upper = self._bounds[leaf]
        outside = (x < 0) | (x > upper)
        if np.any(outside):
          path = self._paths[leaf]
          where = f' at {path}' if path else ''
          raise errors.SecureBoundsError(
              f'{self._uri}: client {start + j} has the value '
              f'{x[outside].flat[0]}{where}, outside [0, {upper}] '
              f'({self._described(leaf)}). Tip: clip client values to the '
              f'bound before a secure sum.')
      self._sum.add_one(member)

  def result(self) -> Any:
    return self._sum.result()
