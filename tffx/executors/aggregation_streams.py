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
reading any value; checks and zeros are those of `value_arithmetic`. This
module does not schedule work or call computations.
"""

from typing import Any, Callable, Iterator, List, Optional

import numpy as np

from tffx.executors import client_batches
from tffx.executors import errors
from tffx.executors import value_arithmetic as arithmetic
from tffx.types import computation_types as ct
from tffx.types import structure

# Stacked leaves of at most this many elements per client are folded with
# one `ufunc.accumulate`; larger ones row by row, in place.
_ACCUMULATE_MAX_ELEMENTS = 64


def _pack(type_spec: ct.Type, leaves: Iterator[Any]) -> Any:
  """Builds a value of `type_spec` from its leaves, cast to the leaf dtypes."""
  if isinstance(type_spec, ct.TensorType):
    return np.asarray(next(leaves), dtype=type_spec.dtype)
  return structure.Struct([(n, _pack(t, leaves)) for n, t in type_spec.items()])


class _LeafFold:
  """Folds values leaf by leaf with a binary ufunc, in client order."""

  def __init__(self, member_type: ct.Type, ufunc: np.ufunc):
    self._ufunc = ufunc
    self._num_leaves = len(list(arithmetic.tensor_types(member_type)))
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
      return arithmetic.zeros(self._type, self._uri)
    return _pack(self._type, iter(self._fold.leaves()))


class MeanStream:
  """`federated_mean`: the sum divided by the number of clients.

  Raises (when built):
    AggregationError: if there are no clients.
    TypeError: if a leaf is not floating-point.
  """

  def __init__(self, member_type: ct.Type, uri: str, num_clients: int):
    arithmetic.check_not_empty(num_clients, uri)
    arithmetic.check_dtypes(member_type, 'fc', 'floating-point', uri)
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
    arithmetic.check_not_empty(num_clients, uri)
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
    arithmetic.check_not_empty(num_clients, uri)
    self._types = [t for _, t in arithmetic.tensor_types(member_type)]
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
    arithmetic.check_dtypes(member_type, 'iu', 'integer', uri)
    descriptions = [described(leaf) for leaf in range(len(upper_bounds))]
    arithmetic.check_non_negative_bounds(upper_bounds, uri, descriptions)
    self._type = member_type
    self._uri = uri
    self._bounds = upper_bounds
    self._descriptions = descriptions
    self._sum = SumStream(member_type, uri)

  def add(self, batch: client_batches.ClientBatch, start: int) -> None:
    members = batch.members()
    arithmetic.check_in_range(members, self._type, self._bounds, self._uri,
                              self._descriptions, first_client=start)
    for member in members:
      self._sum.add_one(member)

  def result(self) -> Any:
    return self._sum.result()
