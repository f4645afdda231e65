"""Builds form components from a split round, and rounds from forms.

    RoundSplit                          MapReduceForm
      server_before + broadcasts  --->  prepare   (S -> C)
      clients + aggregated values --->  work      (<D,C> -> <A,B,E,F>)
      aggregations                --->  zero, accumulate, merge, report,
                                        secure_sum_bitwidth,
                                        secure_sum_max_input
      server_before + server_after --->  update   (<S,<R,B,E,F>> -> <S,X>)

Non-secure aggregations (federated_aggregate, sum, mean, ...) share the
`federated_aggregate` path: A, U and R are structs with one element per
aggregation, in program order. Secure sums fill B and E in the same way; F is
always empty (tffx has no secure modular sum). The reverse direction builds
the round of TFF's MapReduceForm docstring as IR.
"""

from tffx.backends.mapreduce import aggregation_parts
from tffx.backends.mapreduce import errors
from tffx.backends.mapreduce import forms
from tffx.backends.mapreduce import round_splitter
from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.computations import intrinsic_defs
from tffx.types import computation_types as ct
from tffx.types import placements

_SECURE_PATHS = {
    'federated_secure_sum_bitwidth': forms.WORK_SECAGG_BITWIDTH_INDEX,
    'federated_secure_sum': forms.WORK_SECAGG_MAX_INPUT_INDEX,
}


def _component(name, parameter_type,
               body) -> computation_impl.ConcreteComputation:
  parameter_name = None if parameter_type is None else f'_mr_{name}_arg'
  return computation_impl.ConcreteComputation(
      bb.Lambda(parameter_name, parameter_type, body), name)


def _pair(t0: ct.Type, t1: ct.Type) -> ct.StructType:
  return ct.StructType([(None, t0), (None, t1)])


def call_on_pair(fn: bb.ComputationBuildingBlock, first, second) -> bb.Call:
  """`fn(<first, second>)`, naming the pair as `fn`'s parameter does."""
  parameter = fn.type_signature.parameter
  names = parameter.names()
  return bb.Call(fn, bb.Struct([(names[0], first), (names[1], second)],
                               parameter.python_container))


def _elementwise_pair(name, fns, first_type, second_type):
  """`(<X,Y> -> <f_1(<X_1,Y_1>), ...>)` for the functions `fns`, by position."""
  arg = bb.Reference(f'_mr_{name}_arg', _pair(first_type, second_type))
  return _component(
      name, arg.type_signature,
      bb.Struct([
          call_on_pair(fn, select(arg, 0, i), select(arg, 1, i))
          for i, fn in enumerate(fns)
      ]))


def select(block, *path):
  for index in path:
    block = bb.Selection(block, index=index)
  return block


def _aggregate_parts(aggregation) -> aggregation_parts.AggregateParts:
  if aggregation.kind == 'federated_aggregate':
    return aggregation_parts.AggregateParts(*aggregation.operands)
  return aggregation_parts.parts_for(aggregation.kind,
                                     aggregation.value.type_signature)


def build_map_reduce_form(type_signature: ct.FunctionType,
                          split: round_splitter.RoundSplit):
  """The `MapReduceForm` of a split round of type `type_signature`."""
  paths = [[] for _ in range(forms.WORK_RESULT_LEN)]
  for aggregation in split.aggregations:
    paths[_SECURE_PATHS.get(aggregation.kind,
                            forms.WORK_UPDATE_INDEX)].append(aggregation)
  plain = paths[forms.WORK_UPDATE_INDEX]
  parts = [_aggregate_parts(a) for a in plain]

  prepare = _component(
      'prepare', split.state_type,
      round_splitter.prune(
          [(round_splitter.STATE, bb.Reference('_mr_prepare_arg',
                                               split.state_type))] +
          split.server_before,
          bb.Struct([member for _, member in split.broadcasts])))
  context_type = prepare.type_signature.result

  work_type = _pair(split.data_type, context_type)
  work_arg = bb.Reference('_mr_work_arg', work_type)
  prelude = [(round_splitter.DATA, select(work_arg, 0))] + [
      (name, select(work_arg, 1, i))
      for i, (name, _) in enumerate(split.broadcasts)
  ]
  outputs = bb.Struct(
      [bb.Struct([a.value for a in path]) for path in paths])
  work = _component('work', work_type,
                    round_splitter.prune(prelude + split.clients, outputs))

  zero = _component('zero', None, bb.Struct([p.zero for p in parts]))
  accumulator_type = zero.type_signature.result
  client_type = outputs.type_signature[forms.WORK_UPDATE_INDEX]
  accumulate = _elementwise_pair('accumulate', [p.accumulate for p in parts],
                                 accumulator_type, client_type)
  merge = _elementwise_pair('merge', [p.merge for p in parts],
                            accumulator_type, accumulator_type)
  report_arg = bb.Reference('_mr_report_arg', accumulator_type)
  report = _component(
      'report', accumulator_type,
      bb.Struct([
          bb.Call(p.report, select(report_arg, i))
          for i, p in enumerate(parts)
      ]))

  def bounds(name, index):
    return _component(
        name, None, bb.Struct([a.operands[0] for a in paths[index]]))

  bitwidth = bounds('secure_sum_bitwidth', forms.WORK_SECAGG_BITWIDTH_INDEX)
  max_input = bounds('secure_sum_max_input',
                     forms.WORK_SECAGG_MAX_INPUT_INDEX)
  modulus = bounds('secure_modular_sum_modulus',
                   forms.WORK_SECAGG_MODULUS_INDEX)

  aggregated_type = ct.StructType([
      (None, report.type_signature.result)
  ] + [(None, outputs.type_signature[i]) for i in range(1, 4)])
  update_arg = bb.Reference('_mr_update_arg',
                            _pair(split.state_type, aggregated_type))
  results = [(round_splitter.STATE, select(update_arg, 0))]
  for index, path in enumerate(paths):
    for i, aggregation in enumerate(path):
      results.append((aggregation.result.name, select(update_arg, 1, index, i)))
  result_type = type_signature.result
  update = _component(
      'update', update_arg.type_signature,
      round_splitter.prune(
          results + split.server_before + split.server_after,
          bb.Struct([(result_type.names()[0], split.new_state),
                     (result_type.names()[1], split.output)],
                    result_type.python_container)))
  return forms.MapReduceForm(type_signature, prepare, work, zero, accumulate,
                             merge, report, bitwidth, max_input, modulus,
                             update)


# --- back to a federated computation ----------------------------------------


def intrinsic_call(uri: str, bindings: dict, argument=None) -> bb.Call:
  return bb.Call(bb.Intrinsic(uri, intrinsic_defs.specialize(uri, bindings)),
                 argument)


def zip_values(struct: bb.Struct, member_type: ct.StructType, uri: str,
         placement) -> bb.Call:
  """Zips `struct` (of values at `placement`) into a `member_type` value."""
  signature = ct.FunctionType(
      struct.type_signature,
      ct.FederatedType(member_type, placement,
                       placement is placements.SERVER))
  return bb.Call(bb.Intrinsic(uri, signature), struct)


def zip_at_clients(struct: bb.Struct, member_type: ct.StructType) -> bb.Call:
  return zip_values(struct, member_type, 'federated_zip_at_clients',
              placements.CLIENTS)


def map_selection(value: bb.ComputationBuildingBlock, index: int,
                   uri: str) -> bb.Call:
  member_type = value.type_signature.member
  x = bb.Reference('_mr_x', member_type)
  select = bb.Lambda(x.name, member_type, bb.Selection(x, index=index))
  return intrinsic_call(uri, {
      'T': member_type,
      'U': member_type[index]
  }, bb.Struct([select, value]))


def _secure_sum(uri, bound_label, part, bound_comp):
  value_type = part.type_signature.member
  if not len(value_type):
    return intrinsic_call('federated_value_at_server', {'T': value_type},
                           bb.Struct([]))
  bound = bb.Call(bound_comp.to_building_block())
  return intrinsic_call(uri, {
      'V': value_type,
      bound_label: bound.type_signature
  }, bb.Struct([part, bound]))


def build_round(mrf: forms.MapReduceForm) -> bb.Lambda:
  """The round of `mrf` (see `forms`) as a federated `Lambda`."""
  parameter = mrf.type_signature.parameter
  arg = bb.Reference('_mr_arg', parameter)
  state_type = parameter[0].member
  context_type = mrf.prepare.type_signature.result
  work_type = mrf.work.type_signature
  if len(work_type.result[forms.WORK_SECAGG_MODULUS_INDEX]):
    raise errors.MapReduceFormCompilationError(
        'Expected no secure modular sums: tffx has no secure modular sum '
        'intrinsic.')
  locals_ = []

  def bind(block):
    name = f'_mr_{len(locals_)}'
    locals_.append((name, block))
    return bb.Reference(name, block.type_signature)

  state = bind(bb.Selection(arg, index=0))
  context = bind(intrinsic_call(
      'federated_apply', {'T': state_type, 'U': context_type},
      bb.Struct([mrf.prepare.to_building_block(), state])))
  at_clients = bind(intrinsic_call('federated_broadcast', {'T': context_type},
                                    context))
  work_names = work_type.parameter.names()
  work_input = bind(zip_at_clients(
      bb.Struct([(work_names[0], bb.Selection(arg, index=1)),
                 (work_names[1], at_clients)]), work_type.parameter))
  worked = bind(intrinsic_call(
      'federated_map', {'T': work_type.parameter, 'U': work_type.result},
      bb.Struct([mrf.work.to_building_block(), work_input])))
  parts = [
      bind(map_selection(worked, i, 'federated_map'))
      for i in range(forms.WORK_RESULT_LEN)
  ]
  zero = bb.Call(mrf.zero.to_building_block())
  aggregated = bind(intrinsic_call(
      'federated_aggregate', {
          'T': parts[0].type_signature.member,
          'U': zero.type_signature,
          'R': mrf.report.type_signature.result
      }, bb.Struct([parts[0], zero, mrf.accumulate.to_building_block(),
                    mrf.merge.to_building_block(),
                    mrf.report.to_building_block()])))
  bitwidth_sum = bind(_secure_sum('federated_secure_sum_bitwidth', 'BITWIDTH',
                                  parts[1], mrf.secure_sum_bitwidth))
  max_input_sum = bind(_secure_sum('federated_secure_sum', 'MAX', parts[2],
                                   mrf.secure_sum_max_input))
  modular_sum = bind(intrinsic_call(
      'federated_value_at_server', {'T': parts[3].type_signature.member},
      bb.Struct([])))
  update_type = mrf.update.type_signature
  update_names = update_type.parameter.names()
  aggregates_type = update_type.parameter[1]
  update_input = bind(zip_values(
      bb.Struct([(update_names[0], state),
                 (update_names[1],
                  bb.Struct(list(zip(aggregates_type.names(), [
                      aggregated, bitwidth_sum, max_input_sum, modular_sum
                  ])), aggregates_type.python_container))]),
      update_type.parameter, 'federated_zip_at_server', placements.SERVER))
  updated = bind(intrinsic_call(
      'federated_apply', {'T': update_type.parameter, 'U': update_type.result},
      bb.Struct([mrf.update.to_building_block(), update_input])))
  result_type = mrf.type_signature.result
  result = bb.Struct(
      [(result_type.names()[i], map_selection(updated, i, 'federated_apply'))
       for i in range(2)], result_type.python_container)
  return bb.Lambda(arg.name, parameter, bb.Block(locals_, result))


def broadcast_components(splitter, member, state_type: ct.Type,
                         data_type: ct.Type):
  """(compute_server_context, client_processing) of a broadcast-only round
  whose client result is the clients-stage expression `member`."""
  server_context = _component(
      'compute_server_context', state_type,
      round_splitter.prune(
          [(round_splitter.STATE,
            bb.Reference('_mr_compute_server_context_arg', state_type))] +
          splitter.server_before,
          bb.Struct([m for _, m in splitter.broadcasts])))
  context_type = server_context.type_signature.result
  arg = bb.Reference('_mr_client_processing_arg',
                     _pair(context_type, data_type))
  prelude = [(round_splitter.DATA, select(arg, 1))] + [
      (name, select(arg, 0, i))
      for i, (name, _) in enumerate(splitter.broadcasts)
  ]
  client_processing = _component(
      'client_processing', arg.type_signature,
      round_splitter.prune(prelude + splitter.clients, member))
  return server_context, client_processing
