"""`consolidate_and_extract_local_processing`: one placement's work, unplaced.

    (x@P -> y@P)  built from federated_map / apply / zip / value / eval
        ==>  (X -> Y), the same work on the members, no placement left
    y@P (no parameter)  ==>  ( -> Y);   an unplaced lambda stays unplaced

As TFF's function of the same name: the computation must do all its work at
one placement `P` (CLIENTS or SERVER) or none; broadcasts and aggregations
(anything that moves values between placements) are refused. The placed
values are evaluated by the MapReduce compiler's `round_splitter`, so the
result is a `Lambda` whose body binds, in order, the member expressions of
each placed value and returns the result's member: calls of the
computation's own TensorFlow computations, not one merged TensorFlow graph
(tffx's forms are built the same way). This module only transforms IR.
"""

from typing import Any, Optional

from tffx.backends.mapreduce import round_splitter
from tffx.computations import building_blocks as bb
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import type_analysis

_PARAMETER = '_local_arg'


def _placement_of(t: ct.Type) -> Optional[placements.PlacementLiteral]:
  return t.placement if isinstance(t, ct.FederatedType) else None


def _placements_in(t: ct.Type) -> set:
  """The placements of the federated types anywhere in `t`."""
  return {
      p for p in (placements.CLIENTS, placements.SERVER)
      if type_analysis.contains(
          t, lambda e, p=p: isinstance(e, ct.FederatedType) and
          e.placement is p)
  }


def _check_one_placement(block: bb.ComputationBuildingBlock,
                         placement: Optional[placements.PlacementLiteral]
                         ) -> None:
  """Raises ValueError if any node of `block` has a type at another placement."""
  allowed = set() if placement is None else {placement}
  pending = [block]
  while pending:
    node = pending.pop()
    other = _placements_in(node.type_signature) - allowed
    if other or (isinstance(node, bb.Placement) and
                 node.placement not in allowed):
      raise ValueError(
          f'Expected all processing at {placement or "no placement"}, found '
          f'a value of type {node.type_signature} in {node}.')
    pending.extend(node.children())


def consolidate_and_extract_local_processing(
    comp: bb.ComputationBuildingBlock, grappler_config_proto: Any = None
) -> bb.Lambda:
  """Returns the local processing of `comp` as one unplaced `Lambda`.

  Args:
    comp: A building block of type `(T@P -> R@P)`, `( -> R@P)`, `R@P` or an
      unplaced function type, doing all its work at placement `P`.
    grappler_config_proto: Accepted for TFF compatibility; tffx runs no
      Grappler pass over the result.

  Returns:
    A `Lambda` of type `(T -> R)` (`( -> R)` without a parameter) computing
    the members of what `comp` computes.

  Raises:
    TypeError: if `comp` is not a building block, or is of a function type
      without being a `Lambda`.
    ValueError: if the result is a struct of federated values, or `comp`
      involves another placement than its result's, or moves values between
      placements (broadcasts, aggregations).
  """
  del grappler_config_proto  # No Grappler pass in tffx.
  if not isinstance(comp, bb.ComputationBuildingBlock):
    raise TypeError(f'Expected a building block, found '
                    f'{type(comp).__name__}.')
  comp_type = comp.type_signature
  is_function = isinstance(comp_type, ct.FunctionType)
  if is_function and not isinstance(comp, bb.Lambda):
    raise TypeError(f'Expected a function to be a Lambda, found a '
                    f'{type(comp).__name__} of type {comp_type}.')
  result_type = comp_type.result if is_function else comp_type
  placement = _placement_of(result_type)
  if placement is None and _placements_in(result_type):
    raise ValueError(
        f'Expected the result to be one federated value or unplaced, found '
        f'{result_type}. Tip: federated_zip the placed values.')
  _check_one_placement(comp, placement)

  parameter_name = parameter_type = None
  if is_function and comp.parameter_type is not None:
    parameter_name, parameter_type = comp.parameter_name, comp.parameter_type
  splitter, value = round_splitter.evaluate_with_parameter(
      comp.result if is_function else comp, parameter_name, parameter_type,
      _PARAMETER)
  if splitter.broadcasts or splitter.aggregations:
    raise ValueError(
        f'Expected only local processing at {placement}, found a computation '
        f'that moves values between placements: {comp.compact_representation()}')
  if placement is None:
    body = splitter.as_local(value, 'the result')
  else:
    body = round_splitter.placed_member(splitter, value, placement,
                                        'the result')
  bindings = splitter.server_before + splitter.server_after + splitter.clients
  if bindings:
    body = bb.Block(bindings, body)
  if parameter_type is None:
    return bb.Lambda(None, None, body)
  if isinstance(parameter_type, ct.FederatedType):
    parameter_type = parameter_type.member
  return bb.Lambda(_PARAMETER, parameter_type, body)
