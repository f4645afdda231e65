"""Compiles federated computations into forms, and forms back into them.

    get_map_reduce_form_for_computation   round --round_splitter--> stages
                                          --map_reduce_builder--> MapReduceForm
    get_computation_for_map_reduce_form   MapReduceForm --> round (IR)
    get_broadcast_form_for_computation    (<S@SERVER,{D}@CLIENTS> ->
                                          {R}@CLIENTS) --> BroadcastForm,
                                          and back
    get_state_initialization_computation  ( -> S@SERVER) --> ( -> S)

The compiled components are computations of no federated types whose bodies
are the round's own IR (calls of its TensorFlow computations), not merged
TensorFlow graphs; `grappler_config` is accepted and has no effect.
"""

from typing import Callable, Optional

from tffx.backends.mapreduce import distribute_aggregate_builder
from tffx.backends.mapreduce import errors
from tffx.backends.mapreduce import forms
from tffx.backends.mapreduce import map_reduce_builder
from tffx.backends.mapreduce import round_splitter
from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.types import computation_types as ct
from tffx.types import placements

BuildingBlockFn = Callable[[bb.ComputationBuildingBlock],
                           bb.ComputationBuildingBlock]


def _lambda_of(comp, preprocessing: Optional[BuildingBlockFn]) -> bb.Lambda:
  if not isinstance(comp, computation_impl.ConcreteComputation):
    raise TypeError(f'Expected a tff.Computation, found '
                    f'{type(comp).__name__}.')
  block = comp.to_building_block()
  if preprocessing is not None:
    block = preprocessing(block)
  return block


def _check_lambda(block) -> None:
  if not isinstance(block, bb.Lambda):
    raise TypeError(f'Expected a federated computation, found a '
                    f'{type(block).__name__} block.')


def check_computation_compatible_with_map_reduce_form(
    comp, *, tff_internal_preprocessing: Optional[BuildingBlockFn] = None
) -> bb.ComputationBuildingBlock:
  """Checks that `comp` compiles into a `MapReduceForm`; returns its IR.

  Raises:
    TypeError: if `comp` is not a computation of type
      `(<S@SERVER,{D}@CLIENTS> -> <S@SERVER,X@SERVER>)`.
    MapReduceFormCompilationError: if it uses what a form cannot express.
  """
  block = _lambda_of(comp, tff_internal_preprocessing)
  round_splitter.check_round_type(block.type_signature)
  _check_lambda(block)
  round_splitter.split_round(block)
  return block


def get_map_reduce_form_for_computation(
    comp, grappler_config=None, *,
    tff_internal_preprocessing: Optional[BuildingBlockFn] = None
) -> forms.MapReduceForm:
  """The `MapReduceForm` of a round `comp`.

  Args:
    comp: A computation `(<S@SERVER,{D}@CLIENTS> -> <S@SERVER,X@SERVER>)`.
    grappler_config: Accepted for TFF compatibility; unused (no TensorFlow
      graphs are merged or rewritten).
    tff_internal_preprocessing: An optional function applied to the
      computation's building block first.

  Raises:
    TypeError: if `comp` does not have the type of a round.
    MapReduceFormCompilationError: if the round needs more than one
      broadcast-aggregate trip, or an intrinsic a form cannot express.
  """
  del grappler_config  # No TensorFlow graphs are merged.
  block = check_computation_compatible_with_map_reduce_form(
      comp, tff_internal_preprocessing=tff_internal_preprocessing)
  return map_reduce_builder.build_map_reduce_form(
      comp.type_signature, round_splitter.split_round(block))


def get_computation_for_map_reduce_form(
    mrf: forms.MapReduceForm) -> computation_impl.ConcreteComputation:
  """The federated computation that a `MapReduceForm` describes.

  Raises:
    TypeError: if `mrf` is not a `MapReduceForm`.
    MapReduceFormCompilationError: if it uses secure modular sums (tffx has
      no such intrinsic).
  """
  if not isinstance(mrf, forms.MapReduceForm):
    raise TypeError(f'Expected a MapReduceForm, found {type(mrf).__name__}.')
  return computation_impl.ConcreteComputation(
      map_reduce_builder.build_round(mrf), 'map_reduce_form_round')


def get_distribute_aggregate_form_for_computation(
    comp, *, tff_internal_preprocessing: Optional[BuildingBlockFn] = None
) -> forms.DistributeAggregateForm:
  """The `DistributeAggregateForm` of a round `comp`.

  Raises:
    TypeError: if `comp` does not have the type of a round.
    MapReduceFormCompilationError: if the round does not fit one
      broadcast-aggregate trip (as for `get_map_reduce_form_for_computation`).
  """
  block = check_computation_compatible_with_map_reduce_form(
      comp, tff_internal_preprocessing=tff_internal_preprocessing)
  return distribute_aggregate_builder.build_distribute_aggregate_form(
      comp.type_signature, round_splitter.split_round(block))


def get_computation_for_distribute_aggregate_form(
    daf: forms.DistributeAggregateForm
) -> computation_impl.ConcreteComputation:
  """The federated computation that a `DistributeAggregateForm` describes.

  Raises:
    TypeError: if `daf` is not a `DistributeAggregateForm`.
  """
  if not isinstance(daf, forms.DistributeAggregateForm):
    raise TypeError(
        f'Expected a DistributeAggregateForm, found {type(daf).__name__}.')
  return computation_impl.ConcreteComputation(
      distribute_aggregate_builder.build_round(daf),
      'distribute_aggregate_form_round')


def get_broadcast_form_for_computation(
    comp, grappler_config=None, *,
    tff_internal_preprocessing: Optional[BuildingBlockFn] = None
) -> forms.BroadcastForm:
  """The `BroadcastForm` of `comp: (<S@SERVER,{D}@CLIENTS> -> {R}@CLIENTS)`.

  Raises:
    TypeError: if `comp` does not have that type.
    MapReduceFormCompilationError: if it aggregates, or the client result
      is not computed by clients from the broadcast and their data.
  """
  del grappler_config  # No TensorFlow graphs are merged.
  block = _lambda_of(comp, tff_internal_preprocessing)
  fn_type = block.type_signature
  parameter = fn_type.parameter
  if not (isinstance(parameter, ct.StructType) and len(parameter) == 2 and
          all(isinstance(t, ct.FederatedType) for t in parameter) and
          parameter[0].placement is placements.SERVER and
          parameter[1].placement is placements.CLIENTS and
          isinstance(fn_type.result, ct.FederatedType) and
          fn_type.result.placement is placements.CLIENTS):
    raise TypeError(
        'Expected a computation of type (<S@SERVER,{D}@CLIENTS> -> '
        f'{{R}}@CLIENTS), found {fn_type}.')
  _check_lambda(block)
  splitter, result = round_splitter.evaluate(block)
  if splitter.aggregations:
    raise errors.MapReduceFormCompilationError(
        'Expected a computation without aggregations for a BroadcastForm; '
        f'found {", ".join(a.kind for a in splitter.aggregations)}.')
  member = round_splitter.placed_member(splitter, result, placements.CLIENTS,
                                       'the result')
  server_context, client_processing = map_reduce_builder.broadcast_components(
      splitter, member, parameter[0].member, parameter[1].member)
  names = parameter.names()
  return forms.BroadcastForm(server_context, client_processing, names[0],
                             names[1])


def get_computation_for_broadcast_form(
    bf: forms.BroadcastForm) -> computation_impl.ConcreteComputation:
  """The federated computation that a `BroadcastForm` describes.

  Raises:
    TypeError: if `bf` is not a `BroadcastForm`.
  """
  if not isinstance(bf, forms.BroadcastForm):
    raise TypeError(f'Expected a BroadcastForm, found {type(bf).__name__}.')
  state_type = bf.compute_server_context.type_signature.parameter
  context_type = bf.compute_server_context.type_signature.result
  data_type = bf.client_processing.type_signature.parameter[1]
  parameter = ct.StructType([
      (bf.server_data_label, ct.FederatedType(state_type, placements.SERVER)),
      (bf.client_data_label, ct.FederatedType(data_type, placements.CLIENTS)),
  ])
  arg = bb.Reference('_mr_arg', parameter)
  context = map_reduce_builder.intrinsic_call(
      'federated_apply', {'T': state_type, 'U': context_type},
      bb.Struct([bf.compute_server_context.to_building_block(),
                 bb.Selection(arg, index=0)]))
  at_clients = map_reduce_builder.intrinsic_call(
      'federated_broadcast', {'T': context_type},
                               context)
  zipped = map_reduce_builder.zip_at_clients(
      bb.Struct([at_clients, bb.Selection(arg, index=1)]),
      bf.client_processing.type_signature.parameter)
  result = map_reduce_builder.intrinsic_call(
      'federated_map', {
          'T': bf.client_processing.type_signature.parameter,
          'U': bf.client_processing.type_signature.result
      }, bb.Struct([bf.client_processing.to_building_block(), zipped]))
  return computation_impl.ConcreteComputation(
      bb.Lambda(arg.name, parameter, result), 'broadcast_form')


def get_state_initialization_computation(
    initialize_comp, grappler_config=None
) -> computation_impl.ConcreteComputation:
  """The unplaced computation `( -> S)` of `initialize_comp: ( -> S@SERVER)`.

  Raises:
    TypeError: if `initialize_comp` does not have that type.
    MapReduceFormCompilationError: if it involves clients.
  """
  del grappler_config  # No TensorFlow graphs are merged.
  block = _lambda_of(initialize_comp, None)
  fn_type = block.type_signature
  if (fn_type.parameter is not None or
      not isinstance(fn_type.result, ct.FederatedType) or
      fn_type.result.placement is not placements.SERVER):
    raise TypeError('Expected a computation of type ( -> S@SERVER), found '
                    f'{fn_type}.')
  _check_lambda(block)
  splitter, result = round_splitter.evaluate(block)
  if splitter.clients or splitter.aggregations or splitter.broadcasts:
    raise errors.MapReduceFormCompilationError(
        'Expected the initialization to run on the server only; it involves '
        'clients.')
  member = round_splitter.placed_member(splitter, result, placements.SERVER,
                                       'the initial state')
  return computation_impl.ConcreteComputation(
      bb.Lambda(None, None, round_splitter.prune(splitter.server_before,
                                                 member)), 'initialize')
