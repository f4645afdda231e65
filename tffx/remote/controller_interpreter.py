"""The controller's interpreter: the IR, with client values held by workers.

    RemoteExecutor.run(comp, arg, n)
      `-- ControllerInterpreter(session, load_tensorflow, n).run(comp, arg)
            eval(block)           one loop over the blocks, as in the
                                  reference executor; functions and CLIENTS
                                  values are `controller_values`
            client intrinsics     federated_map, _map_all_equal,
                                  _eval_at_clients, _zip_at_clients,
                                  _select: one `session.run` per call, in
                                  which every worker's executor runs the
                                  intrinsic itself on its shard
            aggregations          a partial per worker (`partial_aggregates`
                                  or, for federated_aggregate, accumulate on
                                  the worker), combined here
            server work           here, as in the reference executor

A request to workers is a closed Lambda whose parameter is the struct of the
values it needs: `(args -> intrinsic(<...args[i]..., fn blocks>))`, where
CLIENTS values come as handles or as the shard's members, and functions are
built into the block (`Function.closed_block`).

This module does not talk to workers itself (`worker_session`) and does not
retry (`remote_executor`).
"""

import functools
from typing import Any, Dict, List, NamedTuple, Optional

import numpy as np

from tffx.computations import building_blocks as bb
from tffx.computations import intrinsic_defs
from tffx.executors import environment
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.executors import value_arithmetic as arithmetic
from tffx.executors import value_conversions
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import controller_values as cv
from tffx.remote import partial_aggregates as pa
from tffx.remote import worker_session
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure

FederatedValue = federated_value.FederatedValue


class _Call(NamedTuple):
  """What an intrinsic handler knows besides its argument."""
  uri: str
  type_signature: ct.FunctionType
  num_clients: int


class ControllerInterpreter:
  """Evaluates one run of a computation, sending client work to workers.

  Args:
    session: The run's `worker_session.WorkerSession`; its shards cover
      `num_clients` clients.
    load_tensorflow: Turns a `TensorFlow` block into a callable, for the
      work done here.
    num_clients: The number of clients of the run.
  """

  def __init__(self, session: worker_session.WorkerSession, load_tensorflow,
               num_clients: int):
    self._session = session
    self._load_tensorflow = load_tensorflow
    self._num_clients = num_clients

  def run(self, comp: bb.ComputationBuildingBlock, arg: Any) -> Any:
    """Evaluates `comp` on the executor value `arg`, to an executor value."""
    fn = self.eval(comp)
    return self._to_executor_value(fn(self._from_executor_value(arg)))

  # -------------------------------------------------------------------------
  # The loop over blocks.

  def eval(self, block: bb.ComputationBuildingBlock,
           env: Optional[environment.Environment] = None) -> Any:
    """Evaluates `block` in `env` (no bindings when None)."""
    if env is None:
      env = environment.Environment()
    if isinstance(block, bb.Reference):
      return env.lookup(block.name)
    if isinstance(block, bb.Selection):
      return self.eval(block.source, env)[block.index]
    if isinstance(block, bb.Struct):
      return structure.Struct([(n, self.eval(v, env))
                               for n, v in block.items()])
    if isinstance(block, bb.Call):
      fn = self.eval(block.function, env)
      arg = None if block.argument is None else self.eval(block.argument, env)
      return fn(arg)
    if isinstance(block, bb.Block):
      for name, value in block.locals:
        env = env.bind(name, self.eval(value, env))
      return self.eval(block.result, env)
    if isinstance(block, (bb.Lambda, bb.Intrinsic, bb.TensorFlow)):
      if isinstance(block, bb.Intrinsic) and block.uri not in _HANDLERS:
        raise ValueError(f'Unknown intrinsic uri {block.uri!r}; expected one '
                         f'of {sorted(_HANDLERS)}.')
      return cv.Function(block, env, self)
    if isinstance(block, bb.Literal):
      return block.value
    if isinstance(block, bb.Placement):
      return block.placement
    if isinstance(block, bb.Data):
      raise NotImplementedError(
          f'The remote executor cannot resolve data<{block.uri}>.')
    raise TypeError(f'Unknown building block {type(block).__name__}.')

  def call(self, fn: cv.Function, arg: Any) -> Any:
    block = fn.block
    if isinstance(block, bb.Lambda):
      env = fn.env
      if block.parameter_name is not None:
        env = env.bind(block.parameter_name, arg)
      return self.eval(block.result, env)
    if isinstance(block, bb.Intrinsic):
      call = _Call(block.uri, block.type_signature, self._num_clients)
      return _HANDLERS[block.uri](self, arg, call)
    return self._load_tensorflow(block)(arg)

  # -------------------------------------------------------------------------
  # Values at the edges of a run.

  def _from_executor_value(self, value: Any) -> Any:
    if isinstance(value, bb.ComputationBuildingBlock):
      return self.eval(value)
    if isinstance(value, structure.Struct):
      return structure.Struct([(n, self._from_executor_value(v))
                               for n, v in value.items()])
    if (isinstance(value, FederatedValue) and
        value.placement is placements.CLIENTS):
      members = value.members
      if value.type_signature.all_equal and members:
        return cv.ClientsValue(value.type_signature, len(members),
                               shared=members[0])
      return cv.ClientsValue(value.type_signature, len(members),
                             members=members)
    return value

  def _to_executor_value(self, value: Any) -> Any:
    if isinstance(value, cv.ClientsValue):
      return FederatedValue(value.type_signature, self._members(value))
    if isinstance(value, structure.Struct):
      return structure.Struct([(n, self._to_executor_value(v))
                               for n, v in value.items()])
    if isinstance(value, cv.Function):
      return value.closed_block()
    return value

  def _members(self, value: cv.ClientsValue) -> tuple:
    if value.members is None:
      if value.is_shared:
        value.members = (value.shared,) * value.num_clients
      else:
        value.members = tuple(self._session.fetch(value.handles))
    return value.members

  def _clients(self, call: _Call, *, members=None, shared=cv.NOTHING,
               handles=None) -> cv.ClientsValue:
    return cv.ClientsValue(call.type_signature.result, self._num_clients,
                           members=members, shared=shared, handles=handles)

  # -------------------------------------------------------------------------
  # Client work on the workers.

  def _on_workers(self, arg: Any, call: _Call) -> cv.ClientsValue:
    """Runs the intrinsic on every shard; its CLIENTS result stays there."""
    if not self._session.shards:
      return self._clients(call, members=())
    leaves = []
    template = _template(arg, call.type_signature.parameter, leaves)
    parameter_type = ct.StructType([(None, t) for _, t in leaves])
    parameter = bb.Reference('arguments', parameter_type)
    intrinsic = bb.Intrinsic(call.uri, call.type_signature)
    function = bb.Lambda('arguments', parameter_type,
                         bb.Call(intrinsic, _instantiate(template, parameter)))
    handles = self._session.run(function, _arguments_for(leaves), store=True)
    return self._clients(call, handles=handles)

  def _map_all_equal(self, arg, call: _Call) -> cv.ClientsValue:
    fn, value = arg
    if value.is_shared:
      # Every client holds the same member, so the function runs once.
      return self._clients(call, shared=fn(value.shared))
    return self._on_workers(arg, call)

  def _zip_at_clients(self, arg, call: _Call) -> cv.ClientsValue:
    values = _clients_values(arg)
    if values and all(v.is_shared for v in values):
      return self._clients(call, shared=_member(arg, lambda v: v.shared))
    # Zipped on the workers, so that a shared part (a broadcast model)
    # travels once per worker, and client datasets as graphs, rather than
    # both inside one struct per client.
    return self._on_workers(arg, call)

  # -------------------------------------------------------------------------
  # Aggregations: partials per worker, combined here.

  def _partials(self, kind: str, call: _Call, value: cv.ClientsValue,
                weight: Optional[cv.ClientsValue] = None,
                upper_bounds: Optional[list] = None,
                descriptions: tuple = ()) -> list:
    """One partial aggregate per worker, or one made here for local values."""
    if self._num_clients == 0:
      return []
    member_type = value.type_signature.member
    inputs = [v for v in (value, weight) if v is not None]
    if all(v.handles is None for v in inputs):
      partial, _ = pa.partial(
          kind, self._members(value), member_type, uri=call.uri,
          weights=() if weight is None else self._members(weight),
          upper_bounds=upper_bounds or (), descriptions=descriptions)
      return [partial]
    return self._session.aggregate(
        kind, call.uri, value.argument,
        weight=None if weight is None else weight.argument,
        upper_bounds=upper_bounds, descriptions=descriptions)

  def _sum(self, arg: cv.ClientsValue, call: _Call) -> FederatedValue:
    member_type = call.type_signature.result.member
    partials = self._partials('sum', call, arg)
    return _at_server(call, arithmetic.total(partials, member_type,
                                             call.uri))

  def _mean(self, arg: cv.ClientsValue, call: _Call) -> FederatedValue:
    arithmetic.check_not_empty(self._num_clients, call.uri)
    member_type = call.type_signature.result.member
    arithmetic.check_dtypes(member_type, 'fc', 'floating-point', call.uri)
    total = arithmetic.total(self._partials('sum', call, arg), member_type,
                             call.uri)
    count = self._num_clients
    return _at_server(call, arithmetic.map_leaves(lambda t, x: x / count,
                                                  member_type, total))

  def _weighted_mean(self, arg, call: _Call) -> FederatedValue:
    value, weight = arg
    arithmetic.check_not_empty(self._num_clients, call.uri)
    member_type = call.type_signature.result.member
    partials = self._partials('weighted_sum', call, value, weight)
    total_weight = functools.reduce(np.add, [p[1] for p in partials])
    if total_weight == 0:
      raise errors.AggregationError(
          f'{call.uri} has no result when the weights sum to zero; the '
          f'{self._num_clients} client weights sum to {total_weight}.')
    total = arithmetic.total([p[0] for p in partials], member_type, call.uri)
    return _at_server(call, arithmetic.map_leaves(
        lambda t, x: x / total_weight.astype(t.dtype), member_type, total))

  def _min(self, arg: cv.ClientsValue, call: _Call) -> FederatedValue:
    arithmetic.check_not_empty(self._num_clients, call.uri)
    member_type = call.type_signature.result.member
    return _at_server(call, arithmetic.minimum(
        self._partials('min', call, arg), member_type))

  def _max(self, arg: cv.ClientsValue, call: _Call) -> FederatedValue:
    arithmetic.check_not_empty(self._num_clients, call.uri)
    member_type = call.type_signature.result.member
    return _at_server(call, arithmetic.maximum(
        self._partials('max', call, arg), member_type))

  def _secure_sum(self, arg, call: _Call) -> FederatedValue:
    value, bound = arg
    member_type = call.type_signature.result.member
    arithmetic.check_dtypes(member_type, 'iu', 'integer', call.uri)
    leaves = arithmetic.bound_leaves(bound, member_type)
    if call.uri == 'federated_secure_sum':
      upper = [np.asarray(b) for b in leaves]
      described = [f'max_input={b}' for b in leaves]
    else:
      # Python ints, so that 2**64 - 1 does not overflow.
      upper = [2**int(b) - 1 for b in leaves]
      described = [f'bitwidth={b}' for b in leaves]
    arithmetic.check_non_negative_bounds(upper, call.uri, described)
    bounds = structure.Struct([(None, np.asarray(b)) for b in upper])
    partials = self._partials('bounded_sum', call, value,
                              upper_bounds=bounds, descriptions=described)
    return _at_server(call, arithmetic.total(partials, member_type,
                                             call.uri))

  def _aggregate(self, arg, call: _Call) -> FederatedValue:
    value, zero, accumulate, merge, report = arg
    parameter_types = call.type_signature.parameter
    if not self._session.shards:
      return _at_server(call, report(zero))  # No clients.
    accumulator_type = parameter_types[1]
    # Each worker folds its clients from zero and reports the accumulator.
    identity = bb.Lambda('accumulator', accumulator_type,
                         bb.Reference('accumulator', accumulator_type))
    partial_type = intrinsic_defs.specialize('federated_aggregate', {
        'T': value.type_signature.member,
        'U': accumulator_type,
        'R': accumulator_type
    })
    leaves = [(value, value.wire_type()), (zero, accumulator_type)]
    parameter_type = ct.StructType([(None, t) for _, t in leaves])
    parameter = bb.Reference('arguments', parameter_type)
    function = bb.Lambda('arguments', parameter_type, bb.Call(
        bb.Intrinsic('federated_aggregate', partial_type),
        bb.Struct([
            bb.Selection(parameter, index=0),
            bb.Selection(parameter, index=1),
            accumulate.closed_block(),
            merge.closed_block(), identity
        ])))
    partials = self._session.run(function, _arguments_for(leaves),
                                 store=False)
    accumulators = [p.members[0] for p in partials]
    accumulator = accumulators[0]
    for other in accumulators[1:]:
      accumulator = merge(_args(parameter_types[3], accumulator, other))
    return _at_server(call, report(accumulator))

  # -------------------------------------------------------------------------
  # Placing, and work at the server.

  def _value_at_clients(self, arg, call: _Call) -> cv.ClientsValue:
    return self._clients(call, shared=arg)

  def _broadcast(self, arg: FederatedValue, call: _Call) -> cv.ClientsValue:
    return self._clients(call, shared=arg.members[0])

  def _value_at_server(self, arg, call: _Call) -> FederatedValue:
    return _at_server(call, arg)

  def _eval_at_server(self, fn: cv.Function, call: _Call) -> FederatedValue:
    return _at_server(call, fn(None))

  def _apply(self, arg, call: _Call) -> FederatedValue:
    fn, value = arg
    return _at_server(call, fn(value.members[0]))

  def _zip_at_server(self, arg, call: _Call) -> FederatedValue:
    return _at_server(call, _member(arg, lambda v: v.members[0]))

  def _sequence_map(self, arg, call: _Call):
    fn, sequence = arg
    element_type = call.type_signature.parameter[1].element
    elements = value_conversions.dataset_elements(sequence, element_type)
    return value_conversions.to_dataset([fn(e) for e in elements],
                                        call.type_signature.result.element)

  def _sequence_reduce(self, arg, call: _Call):
    sequence, zero, op = arg
    element_type = call.type_signature.parameter[0].element
    accumulator = zero
    for element in value_conversions.dataset_elements(sequence, element_type):
      accumulator = op(_args(call.type_signature.parameter[2], accumulator,
                             element))
    return accumulator

  def _sequence_sum(self, sequence, call: _Call):
    element_type = call.type_signature.result
    elements = value_conversions.dataset_elements(sequence, element_type)
    return arithmetic.total(elements, element_type, call.uri)


_HANDLERS = {
    'federated_aggregate': ControllerInterpreter._aggregate,
    'federated_apply': ControllerInterpreter._apply,
    'federated_broadcast': ControllerInterpreter._broadcast,
    'federated_eval_at_clients': ControllerInterpreter._on_workers,
    'federated_eval_at_server': ControllerInterpreter._eval_at_server,
    'federated_map': ControllerInterpreter._on_workers,
    'federated_map_all_equal': ControllerInterpreter._map_all_equal,
    'federated_max': ControllerInterpreter._max,
    'federated_mean': ControllerInterpreter._mean,
    'federated_min': ControllerInterpreter._min,
    'federated_secure_select': ControllerInterpreter._on_workers,
    'federated_secure_sum': ControllerInterpreter._secure_sum,
    'federated_secure_sum_bitwidth': ControllerInterpreter._secure_sum,
    'federated_select': ControllerInterpreter._on_workers,
    'federated_sum': ControllerInterpreter._sum,
    'federated_value_at_clients': ControllerInterpreter._value_at_clients,
    'federated_value_at_server': ControllerInterpreter._value_at_server,
    'federated_weighted_mean': ControllerInterpreter._weighted_mean,
    'federated_zip_at_clients': ControllerInterpreter._zip_at_clients,
    'federated_zip_at_server': ControllerInterpreter._zip_at_server,
    'sequence_map': ControllerInterpreter._sequence_map,
    'sequence_reduce': ControllerInterpreter._sequence_reduce,
    'sequence_sum': ControllerInterpreter._sequence_sum,
}

assert set(_HANDLERS) == set(intrinsic_defs.BY_URI), (
    'The controller must handle exactly the intrinsics of intrinsic_defs.')


# ---------------------------------------------------------------------------
# Helpers.


def _at_server(call: _Call, member: Any) -> FederatedValue:
  return FederatedValue(call.type_signature.result, [member])


def _args(fn_type: ct.FunctionType, *values) -> structure.Struct:
  """The struct argument of `fn_type`, named after its parameter's elements."""
  return structure.Struct(list(zip(fn_type.parameter.names(), values)))


def _member(value: Any, member_of) -> Any:
  """`member_of(v)` for every federated value v of a struct nest."""
  if isinstance(value, (cv.ClientsValue, FederatedValue)):
    return member_of(value)
  return structure.Struct([(n, _member(v, member_of))
                           for n, v in value.items()])


def _clients_values(value: Any) -> List[cv.ClientsValue]:
  if isinstance(value, cv.ClientsValue):
    return [value]
  if isinstance(value, structure.Struct):
    return [c for v in value.values() for c in _clients_values(v)]
  return []


def _contains_placed_or_functional(type_spec: ct.Type) -> bool:
  if isinstance(type_spec, (ct.FederatedType, ct.FunctionType)):
    return True
  if isinstance(type_spec, ct.StructType):
    return any(_contains_placed_or_functional(t) for t in type_spec)
  return False


def _template(value: Any, type_spec: ct.Type, leaves: list) -> Any:
  """Splits an intrinsic's argument into blocks and parameter leaves.

  Returns a nest of ('block', block), ('leaf', index) and ('struct', [(name,
  nest)], container); appends (value, type) to `leaves` for each leaf.
  """
  if isinstance(value, cv.Function):
    return ('block', value.closed_block())
  if (isinstance(value, structure.Struct) and
      isinstance(type_spec, ct.StructType) and
      _contains_placed_or_functional(type_spec)):
    return ('struct', [(name, _template(v, t, leaves)) for (name, t), v in zip(
        type_spec.items(), value.values())], type_spec.python_container)
  if isinstance(value, cv.ClientsValue):
    leaves.append((value, value.wire_type()))
  elif isinstance(value, FederatedValue):
    leaves.append((value, value.type_signature))
  else:
    leaves.append((value, type_spec))
  return ('leaf', len(leaves) - 1)


def _instantiate(template: Any,
                 parameter: bb.Reference) -> bb.ComputationBuildingBlock:
  kind = template[0]
  if kind == 'block':
    return template[1]
  if kind == 'leaf':
    return bb.Selection(parameter, index=template[1])
  return bb.Struct([(name, _instantiate(t, parameter))
                    for name, t in template[1]], template[2])


def _arguments_for(leaves: list):
  """Gives each shard its arguments; values that are not per client are
  serialized once for all shards."""
  fixed: Dict[int, remote_pb2.Argument] = {}
  for i, (value, type_spec) in enumerate(leaves):
    if not isinstance(value, cv.ClientsValue):
      fixed[i] = remote_pb2.Argument(
          value=value_serialization.serialize_value(value, type_spec))

  def arguments(shard: worker_session.Shard) -> List[remote_pb2.Argument]:
    return [fixed[i] if i in fixed else value.argument(shard)
            for i, (value, _) in enumerate(leaves)]

  return arguments
