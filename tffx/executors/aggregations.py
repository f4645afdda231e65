"""Each aggregation intrinsic, declared once: zero, accumulate, merge, finalize.

`intrinsic_defs` gives each aggregation intrinsic its kind; `build(call,
arg)` checks what can be checked before reading a value (dtypes, bounds, no
clients) and returns the kind's `Aggregation` with the client values it
reads. Every client strategy runs it the same way, whatever it groups:

    acc = agg.zero()
    acc = agg.accumulate(acc, batches, first_client)    per group of clients
    acc = agg.merge(acc, other)                         groups, in order
    result = agg.finalize(acc)                          the SERVER member

    kind                   accumulator                   finalize
    sum                    an ExactSum per tensor leaf   each, rounded once
    mean                   an ExactSum per tensor leaf   exact sum / clients
    weighted_mean          ExactSums of w * x and of w   exact quotient
    min, max               element-wise extremum         it
    secure_sum(_bitwidth)  integer sums; each value      the sums
                           checked against [0, bound]
    aggregate              the user's accumulator        report(it)

Sums are exact (`exact_sum`) and rounded once at the end, so every result
is the same bits however the clients are grouped and merged: by a thread
pool's chunks, by remote workers (which return their shard's accumulator,
`to_wire`, for the controller to merge, `from_wire`), after retries. Only
`federated_aggregate` relies on the user's merge keeping that promise.
This module does not schedule or call workers.
"""

import abc
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from tffx.computations import intrinsic_defs
from tffx.executors import client_batches
from tffx.executors import client_strategy
from tffx.executors import errors
from tffx.executors import exact_sum
from tffx.executors import value_arithmetic as arithmetic
from tffx.types import computation_types as ct
from tffx.types import structure

ClientBatch = client_batches.ClientBatch


class _Sums:
  """One `ExactSum` per tensor leaf, made at the leaf's first value."""

  def __init__(self, types: Sequence[ct.TensorType]):
    self.types = list(types)
    self.leaves: List[Optional[exact_sum.ExactSum]] = [None] * len(types)

  def _leaf(self, i: int, shape: Tuple[int, ...]) -> exact_sum.ExactSum:
    if self.leaves[i] is None:
      self.leaves[i] = exact_sum.ExactSum(self.types[i].dtype, shape)
    return self.leaves[i]

  def add(self, batch: ClientBatch) -> None:
    # Members are not stacked here: ExactSum.add batches small values
    # itself, and stacking large ones would only copy them.
    if not batch.is_stacked:
      for member in batch.members():
        self.add_leaves(structure.flatten(member))
      return
    for i, rows in enumerate(structure.flatten(batch.stacked())):
      self.add_stacked(i, np.asarray(rows))

  def add_stacked(self, i: int, rows: np.ndarray) -> None:
    self._leaf(i, rows.shape[1:]).add_stacked(rows)

  def add_leaves(self, leaves: Sequence[Any]) -> None:
    for i, x in enumerate(leaves):
      x = np.asarray(x, self.types[i].dtype)
      self._leaf(i, x.shape).add(x)

  def merge(self, other: '_Sums') -> '_Sums':
    for i, leaf in enumerate(other.leaves):
      if leaf is not None:
        self._leaf(i, leaf.shape).merge(leaf)
    return self

  def totals(self, type_spec: ct.Type, uri: str,
             finish: Callable = lambda leaf: leaf.result()) -> Any:
    if any(leaf is None for leaf in self.leaves):
      return arithmetic.zeros(type_spec, uri)
    return _pack(type_spec, [finish(leaf) for leaf in self.leaves])

  def to_wire(self) -> List[np.ndarray]:
    """Per leaf: its `ExactSum.to_array()`, then its shape."""
    return [a for leaf in self.leaves
            for a in (leaf.to_array(), np.asarray(leaf.shape, np.int64))]

  def from_wire(self, arrays: Sequence[Any]) -> '_Sums':
    self.leaves = [
        exact_sum.ExactSum.from_array(t.dtype, tuple(arrays[2 * i + 1]),
                                      arrays[2 * i])
        for i, t in enumerate(self.types)
    ]
    return self


def _pack(type_spec: ct.Type, leaves: Sequence[Any]) -> Any:
  """A value of `type_spec` from its tensor leaves, cast to their dtypes."""
  it = iter(leaves)
  return arithmetic.map_leaves(lambda t: next(it), type_spec)


def _wire(values: Sequence[Any]) -> structure.Struct:
  """Tensors as a struct of arrays, to travel in a response."""
  return structure.Struct([(None, np.asarray(v)) for v in values])


class Aggregation(abc.ABC):
  """One call of an aggregation intrinsic, checked; see the module doc."""

  wire_kind: Optional[str] = None  # See `for_wire_kind`.
  upper_bounds: Optional[list] = None  # Secure sums: one bound per leaf,
  descriptions: Sequence[str] = ()     # and how each was given.

  def __init__(self, member_type: ct.Type, uri: str,
               num_clients: Optional[int] = None):
    """`num_clients`, when given, must be positive (no result without)."""
    if num_clients is not None:
      arithmetic.check_not_empty(num_clients, uri)
    self.member_type, self.uri = member_type, uri
    self._types = [t for _, t in arithmetic.tensor_types(member_type)]

  @abc.abstractmethod
  def zero(self) -> Any:
    """The accumulator of no clients."""

  @abc.abstractmethod
  def accumulate(self, acc: Any, batches: Sequence[ClientBatch],
                 first_client: int) -> Any:
    """`acc` with the clients of `batches` (one per input value) added."""

  @abc.abstractmethod
  def finalize(self, acc: Any) -> Any:
    """The result's member, from the accumulator of every client."""

  def of_values(self, values: Sequence[Any], first_client: int = 0) -> Any:
    """The accumulator of the members of `values` (`FederatedValue`s, one
    per input), the first being client `first_client`."""
    return self.accumulate(self.zero(), [
        ClientBatch.of_members(v.type_signature.member, list(v.members))
        for v in values], first_client)

  # By default the accumulator is a `_Sums`.
  def merge(self, acc: Any, other: Any) -> Any:
    """The accumulator of both groups of clients, `acc`'s first."""
    return acc.merge(other)

  def to_wire(self, acc: Any) -> structure.Struct:
    """The accumulator as a struct of arrays (whose type they give)."""
    return _wire(acc.to_wire())

  def from_wire(self, value: Any) -> Any:
    """The accumulator that `to_wire` wrote."""
    return self.zero().from_wire(structure.flatten(value))


class Sum(Aggregation):
  """federated_sum (and sequence_sum): zeros for no clients."""

  wire_kind = 'sum'

  def zero(self) -> _Sums:
    return _Sums(self._types)

  def accumulate(self, acc, batches, first_client):
    acc.add(batches[0])
    return acc

  def finalize(self, acc):
    return acc.totals(self.member_type, self.uri)


class Mean(Sum):
  """federated_mean: the sum over the number of clients."""

  def __init__(self, member_type: ct.Type, uri: str, num_clients: int):
    super().__init__(member_type, uri, num_clients)
    arithmetic.check_dtypes(member_type, 'fc', 'floating-point', uri)
    self._count = num_clients

  def finalize(self, acc):
    return acc.totals(self.member_type, self.uri,
                      lambda leaf: leaf.mean(self._count))


class WeightedMean(Aggregation):
  """federated_weighted_mean: sum(w * x) / sum(w), w cast to each leaf.

  Each client's product `w * x` is rounded to the leaf's dtype; the sums of
  products and of the cast weights are exact, and their quotient is
  rounded once (`ExactSum.divide`).
  """

  wire_kind = 'weighted_sum'

  def zero(self):
    # Products per leaf, then the weights cast to each leaf's dtype.
    return _Sums(self._types + [ct.TensorType(t.dtype) for t in self._types])

  def accumulate(self, acc, batches, first_client):
    values, weight_batch = batches
    ws = arithmetic.check_scalar_weights(weight_batch.members(), self.uri,
                                         first_client)
    n = len(self._types)
    if not values.is_stacked:
      for member, w in zip(values.members(), ws):
        casts = [w.astype(t.dtype) for t in self._types]
        acc.add_leaves([c * x for c, x in zip(casts, structure.flatten(
            member))] + casts)
      return acc
    w = np.stack(ws)
    for i, (rows, t) in enumerate(zip(structure.flatten(values.stacked()),
                                      self._types)):
      rows = np.asarray(rows)
      cast = w.astype(t.dtype)
      acc.add_stacked(i, cast.reshape((-1,) + (1,) * (rows.ndim - 1)) * rows)
      acc.add_stacked(n + i, cast)
    return acc

  def finalize(self, acc):
    n = len(self._types)
    if any(acc.leaves[n + i].result() == 0 for i in range(n)):
      raise errors.AggregationError(
          f'{self.uri} has no result when the weights sum to zero.')
    quotients = [acc.leaves[i].divide(acc.leaves[n + i]) for i in range(n)]
    return _pack(self.member_type, quotients)


class Extremum(Aggregation):
  """federated_min or federated_max, element-wise."""

  def __init__(self, member_type: ct.Type, uri: str, num_clients: int,
               ufunc: np.ufunc):
    super().__init__(member_type, uri, num_clients)
    self._ufunc = ufunc
    self.wire_kind = 'min' if ufunc is np.minimum else 'max'

  def zero(self):
    return [None] * len(self._types)

  def accumulate(self, acc, batches, first_client):
    if batches[0].is_stacked:
      return self.merge(acc, [
          self._ufunc.reduce(np.asarray(rows), axis=0)
          for rows in structure.flatten(batches[0].stacked())])
    for member in batches[0].members():
      acc = self.merge(acc, [np.asarray(x) for x in structure.flatten(member)])
    return acc

  def merge(self, acc, other):  # A client's leaves are an accumulator too.
    return [x if a is None else self._ufunc(a, x) for a, x in zip(acc, other)]

  def finalize(self, acc):
    return _pack(self.member_type, acc)

  def to_wire(self, acc):
    return _wire(acc)

  def from_wire(self, value):
    return [np.asarray(x) for x in structure.flatten(value)]


class SecureSum(Sum):
  """A sum of integers that refuses client values outside [0, bound]."""

  wire_kind = 'bounded_sum'

  def __init__(self, member_type: ct.Type, uri: str, upper_bounds: list,
               descriptions: List[str]):
    arithmetic.check_dtypes(member_type, 'iu', 'integer', uri)
    arithmetic.check_non_negative_bounds(upper_bounds, uri, descriptions)
    super().__init__(member_type, uri)
    self.upper_bounds, self.descriptions = upper_bounds, descriptions

  def accumulate(self, acc, batches, first_client):
    arithmetic.check_in_range(batches[0].members(), self.member_type,
                              self.upper_bounds, self.uri, self.descriptions,
                              first_client)
    return super().accumulate(acc, batches, first_client)


class UserAggregate(Aggregation):
  """federated_aggregate: the user's zero, accumulate, merge and report."""

  def __init__(self, call_type: ct.FunctionType, uri: str, zero: Any,
               accumulate: Callable, merge: Callable, report: Callable):
    self.member_type, self.uri = call_type.parameter[0].member, uri
    self._parameters = call_type.parameter
    self._zero, self.functions = zero, (accumulate, merge, report)

  def zero(self):
    return self._zero

  def accumulate(self, acc, batches, first_client):
    accumulate = self.functions[0]
    what = f'{self.uri}({accumulate.name})'
    for client, member in enumerate(batches[0].members(), first_client):
      acc = client_strategy.call_for_client(
          accumulate, client_strategy.args(self._parameters[2], acc, member),
          client, what)
    return acc

  def merge(self, acc, other):
    return self.functions[1](
        client_strategy.args(self._parameters[3], acc, other))

  def finalize(self, acc):
    return self.functions[2](acc)


def _secure_sum(call, arg, bitwidth: bool):
  value, bound = arg
  member_type = call.type_signature.result.member
  leaves = arithmetic.bound_leaves(bound, member_type)
  if bitwidth:  # Python ints, so that 2**64 - 1 does not overflow.
    upper = [2**int(b) - 1 for b in leaves]
    described = [f'bitwidth={b}' for b in leaves]
  else:
    upper, described = leaves, [f'max_input={b}' for b in leaves]
  return SecureSum(member_type, call.uri, upper, described), [value]


def _member_of(call):
  return call.type_signature.result.member


# kind -> build(call, arg) -> (aggregation, the client values it reads)
_BUILDERS = {
    'sum': lambda c, arg: (Sum(_member_of(c), c.uri), [arg]),
    'mean': lambda c, arg: (Mean(_member_of(c), c.uri, c.num_clients), [arg]),
    'weighted_mean': lambda c, arg: (WeightedMean(
        _member_of(c), c.uri, c.num_clients), list(arg)),
    'min': lambda c, arg: (Extremum(_member_of(c), c.uri, c.num_clients,
                                    np.minimum), [arg]),
    'max': lambda c, arg: (Extremum(_member_of(c), c.uri, c.num_clients,
                                    np.maximum), [arg]),
    'secure_sum': lambda c, arg: _secure_sum(c, arg, False),
    'secure_sum_bitwidth': lambda c, arg: _secure_sum(c, arg, True),
    'aggregate': lambda c, arg: (UserAggregate(c.type_signature, c.uri,
                                               *list(arg)[1:]), [arg[0]]),
}

assert set(_BUILDERS) == {
    d.aggregation for d in intrinsic_defs.BY_URI.values() if d.aggregation
}, 'Every aggregation kind of intrinsic_defs is declared here, once.'


def build(call, arg: Any) -> Tuple[Aggregation, List[Any]]:
  """The checked aggregation of an intrinsic call, and its client values.

  Args:
    call: The call (`uri`, concrete `type_signature`, `num_clients`).
    arg: The intrinsic's argument; its client values may be any strategy's.

  Raises:
    AggregationError, TypeError, SecureBoundsError: as each kind documents.
  """
  return _BUILDERS[intrinsic_defs.BY_URI[call.uri].aggregation](call, arg)


# wire_kind -> (member type, uri, clients, bounds, descriptions) -> aggregation
_BY_WIRE_KIND = {
    'sum': lambda t, uri, n, *bounds: Sum(t, uri),
    'weighted_sum': lambda t, uri, n, *bounds: WeightedMean(t, uri, n),
    'min': lambda t, uri, n, *bounds: Extremum(t, uri, n, np.minimum),
    'max': lambda t, uri, n, *bounds: Extremum(t, uri, n, np.maximum),
    'bounded_sum': lambda t, uri, n, *bounds: SecureSum(t, uri, *bounds),
}


def for_wire_kind(kind: str, member_type: ct.Type, uri: str,
                  num_clients: int, upper_bounds: Sequence[Any] = (),
                  descriptions: Sequence[str] = ()) -> Aggregation:
  """The aggregation whose accumulator a remote worker returns for a shard.

  Args:
    kind: The `wire_kind` of the controller's aggregation.
    member_type, uri: Its member type and intrinsic (for messages).
    num_clients: The shard's clients (at least one).
    upper_bounds, descriptions: For 'bounded_sum', one per tensor leaf.

  Raises:
    ValueError: for an unknown kind or no clients. Otherwise what the
      aggregation raises.
  """
  if kind not in _BY_WIRE_KIND:
    raise ValueError(f'Expected an aggregation kind in '
                     f'{tuple(_BY_WIRE_KIND)}, found {kind!r}.')
  if not num_clients:
    raise ValueError(f'A partial {kind} needs at least one client value.')
  return _BY_WIRE_KIND[kind](member_type, uri, num_clients,
                             list(upper_bounds), list(descriptions))
