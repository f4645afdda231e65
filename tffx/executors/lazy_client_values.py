r"""`LazyClientValue`: a value placed at CLIENTS, computed only when consumed.

The thread-pool executor does not compute `federated_map(f, x)` when the
call is evaluated: it returns a lazy value, a node saying how to compute a
batch of clients' members from the same clients' members of its inputs.
Inputs are `FederatedValue`s (known members) or other lazy values:

    x ----> map f ----> map g ----\
               \                   zip ----> federated_mean     (a sink)
                `------> map h ---/

A sink (an aggregation, or anything that needs the members themselves)
consumes lazy values with `stream`: the scheduler runs, for each chunk of
clients, every node behind the sink once, in topological order, and hands
the sink's inputs to `reduce_chunk` (on the pool thread) and its result to
`fold` (in client order, on the calling thread). So `mean(map(f, x))` adds
each client's `f(x_i)` to a running sum and no list of the mapped values
ever exists; `materialize` is the sink that keeps every member.

Reuse: a node consumed by several sinks must not be computed twice. Each
node counts the consumers it still has (`uses`; the executor sets it from
how many times the IR refers to it). A stream that consumes fewer uses
than remain stores the node's members as it goes; stored nodes are plain
inputs for later streams. A node nothing consumes is never computed.

This module knows nothing of intrinsics; nodes carry their `compute`.
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from tffx.executors import client_batches
from tffx.executors import client_scheduler
from tffx.executors import federated_value
from tffx.types import computation_types as ct

ClientBatch = client_batches.ClientBatch
FederatedValue = federated_value.FederatedValue
# compute(input batches, start, stop) -> the node's batch for [start, stop).
Compute = Callable[[List[ClientBatch], int, int], ClientBatch]


class LazyClientValue:
  """A `{T}@CLIENTS` value whose members are computed on demand.

  Args:
    type_signature: The federated type of the value.
    num_clients: The number of members.
    inputs: The client values (`FederatedValue` or `LazyClientValue`) whose
      batches `compute` reads, in order.
    compute: `compute(batches, start, stop)` returns the batch of members of
      clients [start, stop); called from pool threads.
  """

  __slots__ = ('type_signature', 'num_clients', 'inputs', 'compute', 'uses',
               'clients_per_call', '_value')

  def __init__(self, type_signature: ct.FederatedType, num_clients: int,
               inputs: Sequence[Any], compute: Compute):
    self.type_signature = type_signature
    self.num_clients = num_clients
    self.inputs = tuple(inputs)
    self.compute = compute
    self.uses = 1  # The consumer of the expression that made it.
    # Set when `compute` runs vectorized over clients: the most clients per
    # TensorFlow call. Streams then use one chunk per client device.
    self.clients_per_call: Optional[int] = None
    self._value: Optional[FederatedValue] = None

  @property
  def member_type(self) -> ct.Type:
    return self.type_signature.member

  @property
  def is_computed(self) -> bool:
    return self._value is not None

  def computed_value(self) -> Optional[FederatedValue]:
    """The members as a `FederatedValue` once stored, else None."""
    return self._value

  def store(self, members: List[Any]) -> None:
    self._value = FederatedValue(self.type_signature, members)

  def __repr__(self) -> str:
    state = 'computed' if self._value is not None else f'{self.uses} uses'
    return f'LazyClientValue({self.type_signature}, {state})'


ClientValue = Union[FederatedValue, LazyClientValue]


def num_clients_of(value: ClientValue) -> int:
  if isinstance(value, LazyClientValue):
    return value.num_clients
  return len(value.members)


def _source_batch(value: ClientValue, start: int, stop: int) -> ClientBatch:
  if isinstance(value, LazyClientValue):
    value = value.computed_value()
  return ClientBatch.of_members(value.type_signature.member,
                                list(value.members[start:stop]))


def _pending_nodes(roots: Sequence[ClientValue]) -> List[LazyClientValue]:
  """The nodes not computed yet behind `roots`, inputs before consumers."""
  order, seen = [], set()

  def visit(value):
    if not isinstance(value, LazyClientValue) or value.is_computed or (
        id(value) in seen):
      return
    seen.add(id(value))
    for source in value.inputs:
      visit(source)
    order.append(value)

  for root in roots:
    visit(root)
  return order


def _type_bytes(type_spec: ct.Type) -> Optional[int]:
  """The size of a value of `type_spec`, if its shape says; else None."""
  if isinstance(type_spec, ct.TensorType):
    if type_spec.shape is None or None in type_spec.shape:
      return None
    return int(np.prod(type_spec.shape, dtype=np.int64)) * (
        type_spec.dtype.itemsize or 8)
  if isinstance(type_spec, ct.StructType):
    sizes = [_type_bytes(t) for t in type_spec]
    return None if None in sizes else sum(sizes)
  return None


def stream(scheduler: client_scheduler.ClientScheduler,
           roots: Sequence[ClientValue],
           fold: Callable[[int, Any], None],
           reduce_chunk: Optional[Callable[[List[ClientBatch], int, int],
                                           Any]] = None,
           device: Optional[str] = None) -> None:
  """Streams the members of `roots`, chunk by chunk, into a sink.

  Args:
    scheduler: Runs the chunks.
    roots: Client values with the same number of clients.
    fold: `fold(start, chunk_result)`, called in client order on this
      thread.
    reduce_chunk: `reduce_chunk(root_batches, start, stop)` turns a chunk's
      root batches into its result, on the pool thread; by default the
      result is the list of root batches.
    device: Run the chunks on this device rather than the client devices.
  """
  num_clients = num_clients_of(roots[0])
  order = _pending_nodes(roots)
  edges: Dict[int, int] = {}
  for node in order:
    for source in node.inputs:
      edges[id(source)] = edges.get(id(source), 0) + 1
  for root in roots:
    edges[id(root)] = edges.get(id(root), 0) + 1
  # A node with consumers outside this stream keeps its members.
  kept = {id(n): [None] * num_clients for n in order if n.uses > edges[id(n)]}

  def work(start: int, stop: int) -> Any:
    batches = {}
    for node in order:
      inputs = [
          batches[id(s)] if id(s) in batches else _source_batch(s, start, stop)
          for s in node.inputs
      ]
      batch = node.compute(inputs, start, stop)
      batches[id(node)] = batch
      members = kept.get(id(node))
      if members is not None:
        members[start:stop] = batch.members()
    root_batches = [
        batches[id(r)] if id(r) in batches else _source_batch(r, start, stop)
        for r in roots
    ]
    if reduce_chunk is None:
      return root_batches
    return reduce_chunk(root_batches, start, stop)

  if order or reduce_chunk is not None:
    sizes = [_type_bytes(v.type_signature.member) for v in order + list(roots)]
    # With nothing to compute, chunks only read existing members: one per
    # thread, as there is no new memory to bound and no balance to keep.
    per_call = [n.clients_per_call for n in order if n.clients_per_call]
    scheduler.run(num_clients, work, fold,
                  bytes_per_client=None if None in sizes else sum(sizes),
                  device=device, one_chunk_per_thread=not order,
                  clients_per_call=min(per_call) if per_call else None)
  elif num_clients:
    # Nothing to compute or reduce: one batch of the known members, here.
    fold(0, work(0, num_clients))
  for node in order:
    node.uses -= edges[id(node)]
    if id(node) in kept:
      node.store(kept[id(node)])


def materialize(scheduler: client_scheduler.ClientScheduler,
                values: Sequence[ClientValue]) -> List[FederatedValue]:
  """The `FederatedValue`s of client values, computing them in one stream."""
  pending = [v for v in values
             if isinstance(v, LazyClientValue) and not v.is_computed]
  if pending:
    members = [[] for _ in pending]

    def collect(start, batches):
      del start  # Chunks arrive in client order.
      for collected, batch in zip(members, batches):
        collected.extend(batch.members())

    stream(scheduler, pending, collect)
    for value, collected in zip(pending, members):
      if not value.is_computed:  # `stream` stores it if others will use it.
        value.store(collected)
  return [
      v.computed_value() if isinstance(v, LazyClientValue) else v
      for v in values
  ]
