"""`SequentialStrategy`: clients one after the other, in a Python loop.

The client strategy of the reference executor, simple on purpose: a CLIENTS
value is a `FederatedValue` holding every member; `map` calls the function
per client, in order; `aggregate` accumulates all clients, in order, from
the aggregation's zero and never merges (so `federated_aggregate` calls the
user's `merge` only in faster strategies, whose results the differential
tests compare with these). This module runs nothing concurrently.
"""

from typing import Any, List

from tffx.executors import client_strategy
from tffx.executors import federated_value
from tffx.types import structure

Call = client_strategy.Call
FederatedValue = federated_value.FederatedValue


class SequentialStrategy(client_strategy.ClientStrategy):
  """CLIENTS values as lists of members; see the module docstring."""

  def _clients(self, call: Call, members: List[Any]) -> FederatedValue:
    return FederatedValue(call.type_signature.result, members)

  def place(self, member, call):
    return self._clients(call, [member] * self.num_clients)

  def map(self, fn, value, call):
    if call.type_signature.result.all_equal:
      # All members are the same value, so the function runs once.
      members = [fn(value.members[0])] if value.members else []
      return self._clients(call, members * len(value.members))
    return self._each(fn, value.members, call)

  def eval(self, fn, call):
    return self._each(fn, [None] * self.num_clients, call)

  def _each(self, fn, members, call):
    what = f'{call.uri}({fn.name})'
    return self._clients(call, [
        client_strategy.call_for_client(fn, m, i, what)
        for i, m in enumerate(members)
    ])

  def zip(self, nest, call):
    return self._clients(call, [
        structure.map_structure(lambda v, i=i: v.members[i], nest)
        for i in range(self.num_clients)
    ])

  def select(self, keys, max_key, server_member, select_fn, call):
    return self._clients(call, [
        client_strategy.select_elements(k, i, max_key, server_member,
                                        select_fn, call)
        for i, k in enumerate(keys.members)
    ])

  def aggregate(self, aggregation, values, call):
    return aggregation.of_values(values)
