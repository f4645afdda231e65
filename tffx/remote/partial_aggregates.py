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

The arithmetic is the reference executor's (`value_arithmetic`: numpy,
element-wise over structs, weights cast to each leaf's dtype), but sums are
associated per worker first, so floating-point results may differ from it
by rounding. Minima, maxima and integer sums are exact. This module is numpy
only: it neither talks to workers nor runs TensorFlow.
"""

import functools
from typing import Any, Sequence, Tuple

import numpy as np

from tffx.executors import value_arithmetic as arithmetic
from tffx.types import computation_types as ct
from tffx.types import structure

KINDS = ('sum', 'min', 'max', 'weighted_sum', 'bounded_sum')


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
    upper_bounds, descriptions: For 'bounded_sum', see
      `value_arithmetic.check_in_range`.
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
      arithmetic.check_in_range(members, member_type, upper_bounds, uri,
                                descriptions, first_client)
    return arithmetic.total(members, member_type, uri), member_type
  if kind == 'min':
    return arithmetic.minimum(members, member_type), member_type
  if kind == 'max':
    return arithmetic.maximum(members, member_type), member_type
  if len(weights) != len(members):
    raise ValueError(f'Expected one weight per client ({len(members)}), found '
                     f'{len(weights)}.')
  arrays = arithmetic.check_scalar_weights(weights, uri, first_client)
  weight_total = functools.reduce(np.add, arrays)
  value = structure.Struct([
      (None, arithmetic.weighted_total(members, arrays, member_type)),
      (None, weight_total)])
  weight_type = ct.TensorType(weight_total.dtype, ())
  return value, ct.StructType([(None, member_type), (None, weight_type)])
