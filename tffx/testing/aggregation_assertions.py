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


def _check_calls(comp, kinds: frozenset, kind_name: str,
                 expected: bool) -> None:
  """Raises `AssertionError` unless `comp` calls `kinds` iff `expected`."""
  calls = [uri for uri in _intrinsic_uris(comp) if uri in kinds]
  if expected and not calls:
    raise AssertionError(
        f'Computation of type {comp.type_signature} contains no {kind_name} '
        f'aggregation ({", ".join(sorted(kinds))}).')
  if calls and not expected:
    raise AssertionError(
        f'Computation of type {comp.type_signature} contains {kind_name} '
        f'aggregations: {calls}.')


def assert_contains_secure_aggregation(comp) -> None:
  """Raises `AssertionError` unless `comp` makes a secure aggregation."""
  _check_calls(comp, SECURE_AGGREGATIONS, 'secure', expected=True)


def assert_not_contains_secure_aggregation(comp) -> None:
  """Raises `AssertionError` if `comp` makes a secure aggregation."""
  _check_calls(comp, SECURE_AGGREGATIONS, 'secure', expected=False)


def assert_contains_unsecure_aggregation(comp) -> None:
  """Raises `AssertionError` unless `comp` makes an unsecure aggregation."""
  _check_calls(comp, UNSECURE_AGGREGATIONS, 'unsecure', expected=True)


def assert_not_contains_unsecure_aggregation(comp) -> None:
  """Raises `AssertionError` if `comp` makes an unsecure aggregation."""
  _check_calls(comp, UNSECURE_AGGREGATIONS, 'unsecure', expected=False)
