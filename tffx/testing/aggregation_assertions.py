"""Assertions on the aggregations a computation makes, as TFF's `tff.test`.

Secure aggregations are the `federated_secure_sum*` intrinsics; unsecure
ones are the other aggregations of client values at the server
(`federated_aggregate`, `federated_sum`, `federated_mean`, ...), as listed
by `intrinsic_defs.AGGREGATIONS`. Every assertion raises `AssertionError`
naming the calls it found (or that none were found).
"""

from typing import List

from tffx.computations import building_blocks
from tffx.computations import computation_impl
from tffx.computations import intrinsic_defs

SECURE_AGGREGATIONS = frozenset(
    uri for uri in intrinsic_defs.AGGREGATIONS
    if uri.startswith('federated_secure_sum'))
UNSECURE_AGGREGATIONS = intrinsic_defs.AGGREGATIONS - SECURE_AGGREGATIONS


def _intrinsic_uris(comp: computation_impl.ConcreteComputation) -> List[str]:
  """The uris of every intrinsic in `comp`, in pre-order."""
  if not isinstance(comp, computation_impl.ConcreteComputation):
    raise TypeError(f'Expected a computation, found {comp!r} of Python type '
                    f'{type(comp).__name__}.')
  uris = []
  pending = [comp.to_building_block()]
  while pending:
    block = pending.pop()
    if isinstance(block, building_blocks.Intrinsic):
      uris.append(block.uri)
    pending.extend(reversed(list(block.children())))
  return uris


def _calls(comp, kinds: frozenset) -> List[str]:
  return [uri for uri in _intrinsic_uris(comp) if uri in kinds]


def assert_contains_secure_aggregation(comp) -> None:
  """Raises `AssertionError` unless `comp` makes a secure aggregation."""
  if not _calls(comp, SECURE_AGGREGATIONS):
    raise AssertionError(
        f'Computation of type {comp.type_signature} contains no secure '
        f'aggregation ({", ".join(sorted(SECURE_AGGREGATIONS))}).')


def assert_not_contains_secure_aggregation(comp) -> None:
  """Raises `AssertionError` if `comp` makes a secure aggregation."""
  calls = _calls(comp, SECURE_AGGREGATIONS)
  if calls:
    raise AssertionError(
        f'Computation of type {comp.type_signature} contains secure '
        f'aggregations: {calls}.')


def assert_contains_unsecure_aggregation(comp) -> None:
  """Raises `AssertionError` unless `comp` makes an unsecure aggregation."""
  if not _calls(comp, UNSECURE_AGGREGATIONS):
    raise AssertionError(
        f'Computation of type {comp.type_signature} contains no unsecure '
        f'aggregation ({", ".join(sorted(UNSECURE_AGGREGATIONS))}).')


def assert_not_contains_unsecure_aggregation(comp) -> None:
  """Raises `AssertionError` if `comp` makes an unsecure aggregation."""
  calls = _calls(comp, UNSECURE_AGGREGATIONS)
  if calls:
    raise AssertionError(
        f'Computation of type {comp.type_signature} contains unsecure '
        f'aggregations: {calls}.')
