"""`MergeableCompForm` and `compile_to_mergeable_comp_form` (TFF's names).

A computation with one logical aggregation, split at its merge boundary:

    up_to_merge:  (P -> U@SERVER)        the work before the aggregation and
                                         the aggregation without its report,
                                         on some of the clients
    merge:        (<U, U> -> U)          the aggregation's merge
    after_merge:  (<P, U@SERVER> -> R)   report, then the work after it
                  (U@SERVER -> R) when the computation takes no argument

Running `up_to_merge` on disjoint subsets of the clients, folding the
results with `merge` and passing the total to `after_merge` computes what
the original computation computes (up to float rounding of the merges).

The compiler lowers the built-in aggregations to `federated_aggregate`
(`intrinsic_bodies`), flattens the body into one scope (`flat_blocks`) and
combines parallel aggregations into one over zipped client values.
Aggregations that depend on other aggregations, and secure aggregations,
are refused. This module builds IR; running it is the execution context's
job (`tffx.backends.mergeable_comp_execution_context`).
"""

from typing import List, Optional, Set

from tffx.backends.mapreduce import flat_blocks
from tffx.backends.mapreduce import intrinsic_bodies
from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsic_defs
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import type_analysis

_AGGREGATE = intrinsic_defs.uri('federated_aggregate')
_PARTIAL = '_mc_partial'
_MERGED = '_mc_merged'
_ARG = '_mc_arg'


class MergeableCompForm:
  """A computation split at its one aggregation (see the module docstring).

  Attributes:
    up_to_merge: `(P -> U@SERVER)` or `( -> U@SERVER)`.
    merge: `(<U, U> -> U)`.
    after_merge: `(<P, U@SERVER> -> R)` or `(U@SERVER -> R)`.
  """

  def __init__(self, *, up_to_merge: computation_impl.Computation,
               merge: computation_impl.Computation,
               after_merge: computation_impl.Computation):
    """Checks the three computations' types against each other.

    Raises:
      TypeError: if an argument is not a computation, or the types do not
        fit the signatures above.
    """
    for name, comp in (('up_to_merge', up_to_merge), ('merge', merge),
                       ('after_merge', after_merge)):
      if not isinstance(comp, computation_impl.Computation):
        raise TypeError(f'Expected {name} to be a tffx.Computation, found '
                        f'{type(comp).__name__}.')
    partial = up_to_merge.type_signature.result
    if not (isinstance(partial, ct.FederatedType) and
            partial.placement is placements.SERVER):
      raise TypeError(f'Expected up_to_merge to return a value at SERVER, '
                      f'found {partial}.')
    member = partial.member
    expected_merge = ct.FunctionType(ct.StructType([(None, member),
                                                    (None, member)]), member)
    if not expected_merge.is_assignable_from(merge.type_signature):
      raise TypeError(f'Expected merge of type {expected_merge}, found '
                      f'{merge.type_signature}.')
    parameter = up_to_merge.type_signature.parameter
    expected_after = (ct.FederatedType(member, placements.SERVER)
                      if parameter is None else ct.StructType(
                          [(None, parameter),
                           (None, ct.FederatedType(member,
                                                   placements.SERVER))]))
    found = after_merge.type_signature.parameter
    if found is None or not found.is_assignable_from(expected_after):
      raise TypeError(f'Expected after_merge to take {expected_after}, found '
                      f'{found}.')
    self.up_to_merge = up_to_merge
    self.merge = merge
    self.after_merge = after_merge


def _has_federated(t: ct.Type) -> bool:
  return type_analysis.contains(t, lambda e: isinstance(e, ct.FederatedType))


def _is_call_of(value: bb.ComputationBuildingBlock, uri: str) -> bool:
  return (isinstance(value, bb.Call) and
          isinstance(value.function, bb.Intrinsic) and
          value.function.uri == uri)


def _intrinsic_uris(block: bb.ComputationBuildingBlock) -> Set[str]:
  found, pending = set(), [block]
  while pending:
    node = pending.pop()
    if isinstance(node, bb.Intrinsic):
      found.add(node.uri)
    pending.extend(node.children())
  return found


def _needed(names: Set[str], locals_: flat_blocks.Locals) -> List[str]:
  """The locals `names` need, transitively, in their order."""
  needed = set(names)
  for name, value in reversed(locals_):
    if name in needed:
      needed |= federated_computation.free_references(value)
  return [n for n, _ in locals_ if n in needed]


def _block(locals_: flat_blocks.Locals, result: bb.ComputationBuildingBlock
           ) -> bb.ComputationBuildingBlock:
  """`let <the locals result needs> in result` (or just `result`)."""
  keep = set(_needed(federated_computation.free_references(result), locals_))
  kept = [(n, v) for n, v in locals_ if n in keep]
  return bb.Block(kept, result) if kept else result


def _elements(argument: bb.ComputationBuildingBlock, count: int) -> list:
  if isinstance(argument, bb.Struct):
    return [v for _, v in argument.items()]
  return [bb.Selection(argument, index=i) for i in range(count)]


def _pairwise(functions: list, first: ct.Type, second: ct.Type) -> bb.Lambda:
  """`(<A, B> -> <f_i(<A[i], B[i]>)...>)` for the functions `f_i`."""
  pair = bb.Reference('_mc_pair', ct.StructType([(None, first),
                                                 (None, second)]))
  return bb.Lambda(pair.name, pair.type_signature, bb.Struct([
      bb.Call(fn, bb.Struct([
          bb.Selection(bb.Selection(pair, index=0), index=i),
          bb.Selection(bb.Selection(pair, index=1), index=i)]))
      for i, fn in enumerate(functions)]))


def _call(uri: str, bindings: dict, argument) -> bb.Call:
  signature = intrinsic_defs.specialize(uri, bindings)
  return bb.Call(bb.Intrinsic(uri, signature), argument)


def _as_lambda(block: bb.ComputationBuildingBlock) -> bb.Lambda:
  if isinstance(block, bb.Lambda):
    return block
  parameter = block.type_signature.parameter
  if parameter is None:
    return bb.Lambda(None, None, bb.Call(block))
  return bb.Lambda(_ARG, parameter, bb.Call(block, bb.Reference(_ARG,
                                                                 parameter)))


def compile_to_mergeable_comp_form(
    comp: computation_impl.ConcreteComputation) -> MergeableCompForm:
  """Splits `comp` at its one aggregation into a `MergeableCompForm`.

  Several aggregations are allowed if none depends on another's result;
  they are combined into one. A computation without aggregation gets an
  empty one (`U` is `<>`) and does all its work in `after_merge`.

  Raises:
    TypeError: if `comp` is not a computation of a function type.
    ValueError: if an aggregation depends on another, or the computation
      uses a secure aggregation or another intrinsic that aggregates
      client values.
  """
  if not isinstance(comp, computation_impl.ConcreteComputation):
    raise TypeError(f'Expected a tffx.Computation, found '
                    f'{type(comp).__name__}.')
  lowered, _ = intrinsic_bodies.replace_intrinsics_with_bodies(
      _as_lambda(comp.to_building_block()))
  locals_, result = flat_blocks.flatten_lambda(lowered)
  parameter_name = lowered.parameter_name
  parameter_type = lowered.parameter_type

  aggregates = [(n, v) for n, v in locals_ if _is_call_of(v, _AGGREGATE)]
  names = {n for n, _ in aggregates}
  others = [v for n, v in locals_ if n not in names] + [result]
  others += [v.argument for _, v in aggregates]
  unsupported = set().union(*(_intrinsic_uris(v) for v in others)) & (
      intrinsic_defs.AGGREGATIONS)
  if unsupported:
    raise ValueError(
        f'Expected aggregations that merge as federated_aggregate does, '
        f'found {sorted(unsupported)} (secure aggregations, or aggregations '
        f'inside functions that are not inlined).')
  for name, value in aggregates:
    depends = set(_needed(federated_computation.free_references(
        value.argument), locals_))
    if depends & names:
      raise ValueError(
          f'Expected aggregations that do not depend on other aggregations; '
          f'the aggregation {value.compact_representation()} depends on '
          f'{sorted(depends & names)}.')
  depends_on_aggregate = set(names)
  for name, value in locals_:
    if federated_computation.free_references(value) & depends_on_aggregate:
      depends_on_aggregate.add(name)
  before = [(n, v) for n, v in locals_ if n not in depends_on_aggregate]

  parts = [_elements(v.argument, 5) for _, v in aggregates]
  if not parts:
    accumulator = ct.StructType([])
    partial = _call(intrinsic_defs.uri('federated_value_at_server'),
                    {'T': accumulator}, bb.Struct([]))
    merge = _pairwise([], accumulator, accumulator)
  else:
    values = [p[0] for p in parts]
    accumulators = [p[1].type_signature for p in parts]
    members = [v.type_signature.member for v in values]
    if len(parts) == 1:
      accumulator, value = accumulators[0], values[0]
      zero, accumulate, merge = parts[0][1], parts[0][2], parts[0][3]
    else:
      accumulator = ct.StructType([(None, t) for t in accumulators])
      member = ct.StructType([(None, t) for t in members])
      value = _call(intrinsic_defs.uri('federated_zip_at_clients'),
                    {'T': bb.Struct(values).type_signature, 'U': member},
                    bb.Struct(values))
      zero = bb.Struct([p[1] for p in parts])
      accumulate = _pairwise([p[2] for p in parts], accumulator, member)
      merge = _pairwise([p[3] for p in parts], accumulator, accumulator)
    identity = bb.Lambda('_mc_u', accumulator,
                         bb.Reference('_mc_u', accumulator))
    partial = _call(_AGGREGATE, {
        'T': value.type_signature.member, 'U': accumulator, 'R': accumulator
    }, bb.Struct([value, zero, accumulate, merge, identity]))

  up_to_merge = bb.Lambda(parameter_name, parameter_type,
                          _block(before + [(_PARTIAL, partial)],
                                 bb.Reference(_PARTIAL, partial.type_signature)))

  merged = bb.Reference(_MERGED, ct.FederatedType(accumulator,
                                                  placements.SERVER))
  merge_needs = set(_needed(federated_computation.free_references(merge),
                            before))
  if parameter_name in merge_needs or any(
      _has_federated(v.type_signature) for n, v in before if n in merge_needs):
    raise ValueError('Expected the merge of the aggregation to be computed '
                     'without federated values or the computation\'s '
                     'argument.')
  merge_closed = _block(before, merge)
  pair_type = ct.StructType([(None, accumulator), (None, accumulator)])
  merge_comp = bb.Lambda('_mc_pair', pair_type,
                         bb.Call(merge_closed,
                                 bb.Reference('_mc_pair', pair_type)))

  reported = []
  for index, (name, value) in enumerate(aggregates):
    report = parts[index][4]
    u = bb.Reference('_mc_u', accumulator)
    own = u if len(parts) == 1 else bb.Selection(u, index=index)
    apply_fn = bb.Lambda(u.name, accumulator, bb.Call(report, own))
    reported.append((name, _call(
        intrinsic_defs.uri('federated_apply'),
        {'T': accumulator, 'U': apply_fn.type_signature.result},
        bb.Struct([apply_fn, merged]))))
  reported = dict(reported)
  after_locals = [(n, reported.get(n, v)) for n, v in locals_]
  if parameter_name is None:
    after_merge = bb.Lambda(_MERGED, merged.type_signature,
                            _block(after_locals, result))
  else:
    after_type = ct.StructType([(None, parameter_type),
                                (None, merged.type_signature)])
    after_arg = bb.Reference(_ARG + '_after', after_type)
    after_merge = bb.Lambda(after_arg.name, after_type, _block(
        [(parameter_name, bb.Selection(after_arg, index=0)),
         (_MERGED, bb.Selection(after_arg, index=1))] + after_locals,
        result))
  return MergeableCompForm(
      up_to_merge=computation_impl.ConcreteComputation(up_to_merge),
      merge=computation_impl.ConcreteComputation(merge_comp),
      after_merge=computation_impl.ConcreteComputation(after_merge))
