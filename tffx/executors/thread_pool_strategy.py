"""`ThreadPoolStrategy`: client work in chunks on a thread pool, lazily.

    federated_map(f, x)      a `LazyClientValue`: computed when consumed,
    eval, zip, select        chunk by chunk on the pool (`client_scheduler`,
                             `lazy_client_values`)
    aggregate                streams its inputs' chunks into the aggregation:
                             each chunk accumulates on the pool, and the
                             chunks merge here, in client order

So `federated_mean(federated_map(f, x))` adds each `f(x_i)` to a sum as it
is computed (fusion). A lazy value used several times (the analysis's use
count, `bind`) keeps its members; one used an unknown number of times is
computed at once. A function with a `batched()` version runs once per chunk
on the stacked members, with one chunk per client device (more past 2**16
clients or the size cap); members that do not stack (decided before the
call, logged once) go client by client, and a failed batched call raises.
A function without one but with a `vectorized()` form (the executor's
`vectorize_clients`; decided once per computation before the call, the
reason it has none logged once) runs one TensorFlow call per chunk over its
members, with one chunk per client device (more if a device's share exceeds
the form's `max_clients_per_call`); members whose tensors do not stack go
client by client.
`federated_map_all_equal` runs once on the first client device; select
and merges on the server device.
"""

import functools
import logging
from typing import Any, List

from tffx.executors import client_batches
from tffx.executors import client_scheduler
from tffx.executors import client_strategy
from tffx.executors import federated_value
from tffx.executors import lazy_client_values
from tffx.types import computation_types as ct
from tffx.types import structure

_MAX_CLIENTS_PER_BATCHED_CALL = 1 << 16
Call = client_strategy.Call
ClientBatch = client_batches.ClientBatch
FederatedValue = federated_value.FederatedValue
LazyClientValue = lazy_client_values.LazyClientValue


class ThreadPoolStrategy(client_strategy.ClientStrategy):
  """CLIENTS values as `FederatedValue`s or lazy values; see module doc."""

  def __init__(self, scheduler: client_scheduler.ClientScheduler,
               num_clients: int):
    super().__init__(num_clients)
    self._scheduler = scheduler

  def leave(self, value: Any) -> Any:
    nodes = list({id(n): n for n in _lazy_nodes(value)}.values())
    computed = dict(zip(map(id, nodes), lazy_client_values.materialize(
        self._scheduler, nodes)))
    return structure.map_structure(lambda v: computed.get(id(v), v), value)

  def bind(self, value, uses) -> None:
    nodes = _lazy_nodes(value)
    if uses is None:
      lazy_client_values.materialize(self._scheduler, nodes)
    else:
      for node in nodes:
        node.uses += uses - 1

  def _lazy(self, call: Call, inputs: list, compute) -> LazyClientValue:
    return LazyClientValue(call.type_signature.result, self.num_clients,
                           inputs, compute)

  def place(self, member, call):
    return FederatedValue(call.type_signature.result,
                          [member] * self.num_clients)

  def map(self, fn, value, call):
    member_type = call.type_signature.result.member
    if call.type_signature.result.all_equal:
      (value,) = lazy_client_values.materialize(self._scheduler, [value])
      # All members are the same value, so the function runs once.
      with self._scheduler.device_scope(self._scheduler.client_devices[0]):
        members = [fn(value.members[0])] if value.members else []
      return FederatedValue(call.type_signature.result,
                            members * len(value.members))
    what = f'{call.uri}({fn.name})'
    batched = fn.batched() if self.num_clients > 1 else None
    vectorized = (fn.vectorized()
                  if self.num_clients > 1 and batched is None else None)
    scheduler = self._scheduler

    def compute(batches, start, stop):
      (batch,) = batches
      if vectorized is not None and batch.count > 1:
        stacked = vectorized(batch.members(), scheduler.current_device())
        if stacked is not None:  # None: the members do not stack.
          return ClientBatch(member_type, batch.count, stacked=stacked)
      if batched is not None and batch.count > 1:
        stacked = batch.stacked()
        if stacked is not None:
          return ClientBatch(member_type, batch.count,
                             stacked=client_strategy.call_for_client(
                                 batched, stacked,
                                 f'{start}-{stop - 1} (one batched call)',
                                 what, plural='s'))
        _log_unbatched(fn.name)
      return _each(fn, batch.members(), start, member_type, what)

    result = self._lazy(call, [value], compute)
    if batched is not None:
      # One call per client device does all its clients (within the size
      # cap): a call's fixed cost dominates elementwise work.
      result.clients_per_call = _MAX_CLIENTS_PER_BATCHED_CALL
    elif vectorized is not None and (
        self.num_clients >= vectorized.min_clients_per_call):
      result.clients_per_call = vectorized.max_clients_per_call
    return result

  def eval(self, fn, call):
    member_type = call.type_signature.result.member
    what = f'{call.uri}({fn.name})'
    return self._lazy(call, [], lambda unused_batches, start, stop: _each(
        fn, [None] * (stop - start), start, member_type, what))

  def zip(self, nest, call):
    sources = structure.flatten(nest)
    member_type = call.type_signature.result.member

    def pack(leaves):
      return structure.pack_sequence_as(nest, leaves)

    def compute(batches, start, stop):
      if batches and all(b.is_stacked for b in batches):
        return ClientBatch(member_type, stop - start,
                           stacked=pack([b.stacked() for b in batches]))
      columns = [b.members() for b in batches]
      return ClientBatch.of_members(member_type, [
          pack([c[j] for c in columns]) for j in range(stop - start)
      ])

    return self._lazy(call, sources, compute)

  def select(self, keys, max_key, server_member, select_fn, call):
    member_type = call.type_signature.result.member

    def compute(batches, start, stop):
      # Selecting slices of the server value is server work.
      with self._scheduler.device_scope(self._scheduler.server_device):
        return ClientBatch.of_members(member_type, [
            client_strategy.select_elements(k, client, max_key,
                                            server_member, select_fn, call)
            for client, k in enumerate(batches[0].members(), start)
        ])

    return self._lazy(call, [keys], compute)

  def aggregate(self, aggregation, values, call):
    # Each chunk accumulates on the pool, known values too (numpy releases
    # the GIL on large arrays); chunks merge here, in order. Sums merge
    # exactly, so the chunking does not change the result.
    merged = []

    def merge(start, chunk):
      del start  # Chunks arrive in client order.
      merged[:] = [aggregation.merge(merged[0], chunk) if merged else chunk]

    lazy_client_values.stream(
        self._scheduler, values, merge,
        lambda batches, start, stop: aggregation.accumulate(
            aggregation.zero(), batches, start))
    return merged[0] if merged else aggregation.zero()


def _each(fn, members: List[Any], start: int, member_type: ct.Type,
          what: str) -> ClientBatch:
  """`fn` of each member, client by client; the first is client `start`."""
  return ClientBatch.of_members(member_type, [
      client_strategy.call_for_client(fn, m, client, what)
      for client, m in enumerate(members, start)
  ])


@functools.lru_cache(maxsize=None)  # Once per function.
def _log_unbatched(name: str) -> None:
  logging.info('%s: client values of different shapes do not stack; this '
               'function runs client by client where they do not.', name)


def _lazy_nodes(value: Any) -> List[LazyClientValue]:
  return [v for v in structure.flatten(value)
          if isinstance(v, LazyClientValue)]
