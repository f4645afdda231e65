"""Aggregation pushed down to workers: a worker's partial accumulator.

A worker accumulates its shard's clients with the aggregation of the
request's kind (`Aggregation.wire_kind`: sum for federated_sum and _mean,
bounded_sum for secure sums, weighted_sum, min, max) and returns its wire
form; the controller merges one per worker (`remote_strategy`). This module
neither talks to workers nor runs TensorFlow.
"""

from typing import Any, Sequence, Tuple

import numpy as np

from tffx.executors import aggregations
from tffx.types import computation_types as ct

KINDS = ('sum', 'min', 'max', 'weighted_sum', 'bounded_sum')
ClientBatch = aggregations.ClientBatch


def partial(kind: str, members: Sequence[Any], member_type: ct.Type, *,
            uri: str, weights: Sequence[Any] = (),
            upper_bounds: Sequence[Any] = (), descriptions: Sequence[str] = (),
            first_client: int = 0) -> Tuple[Any, ct.Type]:
  """The wire form of the accumulator of some clients (a worker's shard).

  Args:
    kind: An `Aggregation.wire_kind`: 'sum', 'min', 'max', 'weighted_sum'
      or 'bounded_sum'.
    members: The clients' values (at least one).
    member_type: Their type.
    uri: The intrinsic, for messages.
    weights: For 'weighted_sum', one scalar per client.
    upper_bounds, descriptions: For 'bounded_sum', one per tensor leaf.
    first_client: The index of `members[0]` among all clients.

  Raises:
    ValueError: for an unknown kind, no members or weights that do not
      match them. Otherwise what the aggregation raises.
  """
  if kind not in KINDS:
    raise ValueError(f'Expected an aggregation kind in {KINDS}, found '
                     f'{kind!r}.')
  if not members:
    raise ValueError(f'A partial {kind} needs at least one client value.')
  batches = [ClientBatch.of_members(member_type, list(members))]
  if kind == 'sum':
    agg = aggregations.Sum(member_type, uri)
  elif kind in ('min', 'max'):
    agg = aggregations.Extremum(member_type, uri, len(members),
                                np.minimum if kind == 'min' else np.maximum)
  elif kind == 'bounded_sum':
    agg = aggregations.SecureSum(member_type, uri, list(upper_bounds),
                                 list(descriptions))
  else:
    if len(weights) != len(members):
      raise ValueError(f'Expected one weight per client ({len(members)}), '
                       f'found {len(weights)}.')
    weight_type = ct.TensorType(np.asarray(weights[0]).dtype)
    agg = aggregations.WeightedMean(member_type, uri, len(members))
    batches.append(ClientBatch.of_members(weight_type, list(weights)))
  return agg.to_wire(agg.accumulate(agg.zero(), batches, first_client))
