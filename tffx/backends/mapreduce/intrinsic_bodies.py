"""Built-in aggregations replaced by their bodies (`replace_intrinsics_with_bodies`).

    federated_sum(v)                  -> federated_aggregate(v, zero, +, +, id)
    federated_mean(v)                 -> federated_aggregate(v, <0, 0>,
                                           <s + v, n + 1>, +, s / n)
    federated_weighted_mean(<v, w>)   -> federated_aggregate(
                                           federated_zip_at_clients(<v, w>),
                                           ...,  s / total weight)
    federated_min(v) / federated_max  -> federated_aggregate(v, the dtype's
                                           extreme, min/max, min/max, id)

As `tff.tensorflow.replace_intrinsics_with_bodies`: the rewritten building
block computes what the original does, with each of these intrinsics
replaced by `federated_aggregate` of TensorFlow parts (the parts the
MapReduce-form compiler uses, `aggregation_parts`). Every other node is
kept. This module rewrites IR; it does not run it.
"""

from typing import Callable, Tuple

from tffx.backends.mapreduce import aggregation_parts
from tffx.computations import building_blocks as bb
from tffx.computations import intrinsic_defs
from tffx.types import computation_types as ct

_REPLACED = ('federated_sum', 'federated_mean', 'federated_weighted_mean',
             'federated_min', 'federated_max')


def _rebuild(block: bb.ComputationBuildingBlock,
             transform: Callable[[bb.ComputationBuildingBlock],
                                 bb.ComputationBuildingBlock]
             ) -> bb.ComputationBuildingBlock:
  """`block` with `transform` applied to each child (leaves are kept)."""
  if isinstance(block, bb.Selection):
    return bb.Selection(transform(block.source), index=block.index)
  if isinstance(block, bb.Struct):
    return bb.Struct([(n, transform(v)) for n, v in block.items()],
                     block.type_signature.python_container)
  if isinstance(block, bb.Call):
    argument = (None if block.argument is None else
                transform(block.argument))
    return bb.Call(transform(block.function), argument)
  if isinstance(block, bb.Lambda):
    return bb.Lambda(block.parameter_name, block.parameter_type,
                     transform(block.result))
  if isinstance(block, bb.Block):
    return bb.Block([(n, transform(v)) for n, v in block.locals],
                    transform(block.result))
  return block


def _aggregate(value: bb.ComputationBuildingBlock,
               parts: aggregation_parts.AggregateParts,
               result_type: ct.Type) -> bb.Call:
  """`federated_aggregate(value, *parts)`, checked to give `result_type`."""
  member = value.type_signature.member
  signature = intrinsic_defs.specialize(
      intrinsic_defs.uri('federated_aggregate'), {
          'T': member,
          'U': parts.zero.type_signature,
          'R': parts.report.type_signature.result,
      })
  call = bb.Call(
      bb.Intrinsic(intrinsic_defs.uri('federated_aggregate'), signature),
      bb.Struct([value, parts.zero, parts.accumulate, parts.merge,
                 parts.report]))
  call.type_signature.check_equivalent_to(result_type)
  return call


def _body(name: str, argument: bb.ComputationBuildingBlock,
          result_type: ct.Type) -> bb.ComputationBuildingBlock:
  """The body replacing a call of intrinsic `name` on `argument`."""
  if name != 'federated_weighted_mean':
    parts = aggregation_parts.parts_for(name, argument.type_signature.member)
    return _aggregate(argument, parts, result_type)
  # The argument is bound once, then zipped into {<value, weight>}@CLIENTS.
  reference = bb.Reference('_weighted_mean_arg', argument.type_signature)
  pair = bb.Struct([bb.Selection(reference, index=0),
                    bb.Selection(reference, index=1)])
  pair_member = ct.StructType([(None, t.member) for t in
                               argument.type_signature])
  zip_signature = intrinsic_defs.specialize(
      intrinsic_defs.uri('federated_zip_at_clients'),
      {'T': pair.type_signature, 'U': pair_member})
  zipped = bb.Call(
      bb.Intrinsic(intrinsic_defs.uri('federated_zip_at_clients'),
                   zip_signature), pair)
  parts = aggregation_parts.parts_for(name, pair_member)
  return bb.Block([(reference.name, argument)],
                  _aggregate(zipped, parts, result_type))


def replace_intrinsics_with_bodies(
    comp: bb.ComputationBuildingBlock
) -> Tuple[bb.ComputationBuildingBlock, bool]:
  """Replaces the built-in aggregations in `comp` by `federated_aggregate`s.

  Args:
    comp: A building block (e.g. a computation's `to_building_block()`).

  Returns:
    `(transformed, modified)`: the rewritten building block, of the same
    type, and whether anything was replaced.

  Raises:
    TypeError: if `comp` is not a building block.
    MapReduceFormCompilationError: if an aggregated value is not made of
      tensors.
  """
  if not isinstance(comp, bb.ComputationBuildingBlock):
    raise TypeError(f'Expected a building block, found '
                    f'{type(comp).__name__}.')
  replaced = []
  uris = {intrinsic_defs.uri(name): name for name in _REPLACED}

  def transform(block):
    block = _rebuild(block, transform)
    if (isinstance(block, bb.Call) and
        isinstance(block.function, bb.Intrinsic) and
        block.function.uri in uris):
      replaced.append(block.function.uri)
      return _body(uris[block.function.uri], block.argument,
                   block.type_signature)
    return block

  transformed = transform(comp)
  return transformed, bool(replaced)
