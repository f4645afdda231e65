"""Builds a `DistributeAggregateForm` from a split round, and back.

    RoundSplit                    DistributeAggregateForm
      server_before, broadcasts   server_prepare: one federated_apply per
                                  broadcast value; intermediate state <S@SERVER>
                                  server_to_client_broadcast: broadcasts
      clients                     client_work: one federated_map computing every
                                  aggregation input, then one selection each
      aggregations                client_to_server_aggregation: the round's own
                                  aggregation intrinsics, in program order
      server_before/after         server_result: one federated_apply of the
                                  server update, split into <S, X>

Server work before the broadcast is recomputed in `server_result` from the
state, which is the only intermediate state passed on.
"""

from tffx.backends.mapreduce import forms
from tffx.backends.mapreduce import map_reduce_builder as mrb
from tffx.backends.mapreduce import round_splitter
from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.types import computation_types as ct
from tffx.types import placements


def _component(name, parameter_type, body):
  return computation_impl.ConcreteComputation(
      bb.Lambda(f'_mr_{name}_arg', parameter_type, body), name)


def _at(t: ct.Type, placement, all_equal=None) -> ct.FederatedType:
  if all_equal is None:
    all_equal = placement is placements.SERVER
  return ct.FederatedType(t, placement, all_equal)


def _struct_type(types) -> ct.StructType:
  return ct.StructType([(None, t) for t in types])


def _aggregation_call(aggregation, value: bb.ComputationBuildingBlock):
  """The aggregation intrinsic of `aggregation` applied to `value`."""
  kind, member = aggregation.kind, value.type_signature.member
  if kind == 'federated_aggregate':
    zero, accumulate, merge, report = aggregation.operands
    return mrb.intrinsic_call(kind, {
        'T': member,
        'U': zero.type_signature,
        'R': report.type_signature.result
    }, bb.Struct([value, zero, accumulate, merge, report]))
  if kind == 'federated_weighted_mean':
    values = mrb.map_selection(value, 0, 'federated_map')
    weights = mrb.map_selection(value, 1, 'federated_map')
    return mrb.intrinsic_call(kind, {
        'T': member[0],
        'U': member[1]
    }, bb.Struct([values, weights]))
  if kind in ('federated_secure_sum', 'federated_secure_sum_bitwidth'):
    bound = aggregation.operands[0]
    label = 'MAX' if kind == 'federated_secure_sum' else 'BITWIDTH'
    return mrb.intrinsic_call(kind, {
        'V': member,
        label: bound.type_signature
    }, bb.Struct([value, bound]))
  return mrb.intrinsic_call(kind, {'T': member}, value)


def build_distribute_aggregate_form(type_signature: ct.FunctionType,
                                    split: round_splitter.RoundSplit):
  """The `DistributeAggregateForm` of a split round."""
  state_at_server = _at(split.state_type, placements.SERVER)
  state = bb.Reference('_mr_server_prepare_arg', state_at_server)
  broadcast_args = []
  for _, member in split.broadcasts:
    compute = bb.Lambda(
        round_splitter.STATE, split.state_type,
        round_splitter.prune(split.server_before, member))
    broadcast_args.append(
        mrb.intrinsic_call('federated_apply', {
            'T': split.state_type,
            'U': member.type_signature
        }, bb.Struct([compute, state])))
  server_prepare = _component(
      'server_prepare', state_at_server,
      bb.Struct([bb.Struct(broadcast_args),
                 bb.Struct([state])]))
  args_type, intermediate_type = server_prepare.type_signature.result

  args = bb.Reference('_mr_server_to_client_broadcast_arg', args_type)
  broadcast = _component(
      'server_to_client_broadcast', args_type,
      bb.Struct([
          mrb.intrinsic_call('federated_broadcast', {'T': t.member},
                             mrb.select(args, i))
          for i, t in enumerate(args_type)
      ]))
  context_type = broadcast.type_signature.result

  work_type = _struct_type([_at(split.data_type, placements.CLIENTS, False),
                            context_type])
  work_arg = bb.Reference('_mr_client_work_arg', work_type)
  member_type = _struct_type(
      [split.data_type, _struct_type(t.member for t in context_type)])
  x = bb.Reference('_mr_client_input', member_type)
  prelude = [(round_splitter.DATA, mrb.select(x, 0))] + [
      (name, mrb.select(x, 1, i))
      for i, (name, _) in enumerate(split.broadcasts)
  ]
  outputs = bb.Struct([a.value for a in split.aggregations])
  zipped = mrb.zip_at_clients(
      bb.Struct([
          mrb.select(work_arg, 0),
          bb.Struct([mrb.select(work_arg, 1, i)
                     for i in range(len(context_type))])
      ]), member_type)
  worked = bb.Reference('_mr_worked', _at(outputs.type_signature,
                                          placements.CLIENTS, False))
  client_work = _component(
      'client_work', work_type,
      bb.Block([(worked.name,
                 mrb.intrinsic_call('federated_map', {
                     'T': member_type,
                     'U': outputs.type_signature
                 }, bb.Struct([
                     bb.Lambda(x.name, member_type,
                               round_splitter.prune(prelude + split.clients,
                                                    outputs)), zipped
                 ])))], bb.Struct([
                     mrb.map_selection(worked, i, 'federated_map')
                     for i in range(len(split.aggregations))
                 ])))

  aggregation_type = _struct_type(
      [intermediate_type, client_work.type_signature.result])
  agg_arg = bb.Reference('_mr_client_to_server_aggregation_arg',
                         aggregation_type)
  aggregation = _component(
      'client_to_server_aggregation', aggregation_type,
      bb.Struct([
          _aggregation_call(a, mrb.select(agg_arg, 1, i))
          for i, a in enumerate(split.aggregations)
      ]))

  result_type = _struct_type(
      [intermediate_type, aggregation.type_signature.result])
  result_arg = bb.Reference('_mr_server_result_arg', result_type)
  results_type = _struct_type(
      t.member for t in aggregation.type_signature.result)
  update_type = _struct_type([split.state_type, results_type])
  u = bb.Reference('_mr_update_input', update_type)
  bindings = [(round_splitter.STATE, mrb.select(u, 0))] + [
      (a.result.name, mrb.select(u, 1, i))
      for i, a in enumerate(split.aggregations)
  ]
  round_result = type_signature.result
  new_state_and_output = bb.Struct(
      [(round_result.names()[0], split.new_state),
       (round_result.names()[1], split.output)])
  update = bb.Lambda(
      u.name, update_type,
      round_splitter.prune(
          bindings + split.server_before + split.server_after,
          new_state_and_output))
  update_input = mrb.zip_values(
      bb.Struct([
          mrb.select(result_arg, 0, 0),
          bb.Struct([mrb.select(result_arg, 1, i)
                     for i in range(len(split.aggregations))])
      ]), update_type, 'federated_zip_at_server', placements.SERVER)
  updated = bb.Reference(
      '_mr_updated', _at(new_state_and_output.type_signature,
                         placements.SERVER))
  server_result = _component(
      'server_result', result_type,
      bb.Block([(updated.name,
                 mrb.intrinsic_call('federated_apply', {
                     'T': update_type,
                     'U': updated.type_signature.member
                 }, bb.Struct([update, update_input])))],
               bb.Struct([(round_result.names()[i],
                           mrb.map_selection(updated, i, 'federated_apply'))
                          for i in range(2)], round_result.python_container)))
  return forms.DistributeAggregateForm(type_signature, server_prepare,
                                       broadcast, client_work, aggregation,
                                       server_result)


def build_round(daf: forms.DistributeAggregateForm) -> bb.Lambda:
  """The round of `daf` as a federated `Lambda`."""
  parameter = daf.type_signature.parameter
  arg = bb.Reference('_mr_arg', parameter)
  prepared = bb.Reference('_mr_prepared',
                          daf.server_prepare.type_signature.result)
  context = bb.Reference(
      '_mr_context', daf.server_to_client_broadcast.type_signature.result)
  work = bb.Reference('_mr_work', daf.client_work.type_signature.result)
  aggregates = bb.Reference(
      '_mr_aggregates', daf.client_to_server_aggregation.type_signature.result)

  def call(comp, first, second):
    return mrb.call_on_pair(comp.to_building_block(), first, second)

  return bb.Lambda(
      arg.name, parameter,
      bb.Block([
          (prepared.name,
           bb.Call(daf.server_prepare.to_building_block(),
                   mrb.select(arg, 0))),
          (context.name,
           bb.Call(daf.server_to_client_broadcast.to_building_block(),
                   mrb.select(prepared, 0))),
          (work.name, call(daf.client_work, mrb.select(arg, 1), context)),
          (aggregates.name,
           call(daf.client_to_server_aggregation, mrb.select(prepared, 1),
                work)),
      ], call(daf.server_result, mrb.select(prepared, 1), aggregates)))
