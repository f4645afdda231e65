"""`RemoteStrategy`: the controller's client strategy; client work on workers.

    RemoteExecutor.run(comp, arg, n)
      `-- Interpreter(RemoteStrategy(session, n), tensorflow).run(comp, arg)
            map, eval, zip, select   one `session.run` per call, in which
                                     every worker's executor runs the
                                     intrinsic on its shard; the CLIENTS
                                     result stays there (handles)
            place                    a `ClientsValue` shared by all clients
            aggregate                each worker accumulates its shard
                                     (`aggregations.for_wire_kind`, or a
                                     federated_aggregate with no report);
                                     the accumulators merge here, in order
            server work              here, in the interpreter

A request is a closed Lambda `(arguments -> intrinsic(...))` (`_request`).
This module does not talk to workers itself (`worker_session`) and does not
retry (`remote_executor`).
"""

import functools
from typing import Any, Dict, List

import numpy as np

from tffx.computations import building_blocks as bb
from tffx.computations import intrinsic_defs
from tffx.executors import aggregations
from tffx.executors import client_strategy
from tffx.executors import federated_value
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import controller_values as cv
from tffx.remote import worker_session
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure
from tffx.types import type_analysis

Call = client_strategy.Call
FederatedValue = federated_value.FederatedValue


class RemoteStrategy(client_strategy.ClientStrategy):
  """CLIENTS values as `ClientsValue`s, mostly held by the workers.

  Args:
    session: The run's `worker_session.WorkerSession`; its shards cover
      `num_clients` clients.
    num_clients: The number of clients of the run.
  """

  def __init__(self, session: worker_session.WorkerSession,
               num_clients: int):
    super().__init__(num_clients)
    self._session = session

  def enter(self, value: Any) -> Any:

    def held_here(v):
      if not (isinstance(v, FederatedValue) and
              v.placement is placements.CLIENTS):
        return v
      if v.type_signature.all_equal and v.members:
        return cv.ClientsValue(v.type_signature, len(v), shared=v.members[0])
      return cv.ClientsValue(v.type_signature, len(v), members=v.members)

    return structure.map_structure(held_here, value)

  def leave(self, value: Any) -> Any:

    def executor_value(v):
      if isinstance(v, cv.ClientsValue):
        return FederatedValue(v.type_signature, self._members(v))
      if isinstance(v, client_strategy.Function):
        return cv.closed_block(v)
      return v

    return structure.map_structure(executor_value, value)

  def _members(self, value: cv.ClientsValue) -> tuple:
    if value.members is None:
      if value.is_shared:
        value.members = (value.shared,) * value.num_clients
      else:
        value.members = tuple(self._session.fetch(value.handles))
    return value.members

  def _clients(self, call: Call, **kwargs) -> cv.ClientsValue:
    return cv.ClientsValue(call.type_signature.result, self.num_clients,
                           **kwargs)

  def _on_workers(self, arg: Any, call: Call) -> cv.ClientsValue:
    """Runs the intrinsic on every shard; its CLIENTS result stays there."""
    if not self._session.shards:
      return self._clients(call, members=())
    function, arguments = _request(call.uri, arg, call.type_signature)
    handles = self._session.run(function, arguments, store=True)
    return self._clients(call, handles=handles)

  def place(self, member, call):
    return self._clients(call, shared=member)

  def map(self, fn, value, call):
    if call.type_signature.result.all_equal and value.is_shared:
      # Every client holds the same member, so the function runs once.
      return self._clients(call, shared=fn(value.shared))
    return self._on_workers(structure.Struct([(None, fn), (None, value)]),
                            call)

  def eval(self, fn, call):
    return self._on_workers(fn, call)

  def zip(self, nest, call):
    values = structure.flatten(nest)  # Every one a ClientsValue.
    if values and all(v.is_shared for v in values):
      return self._clients(call, shared=structure.map_structure(
          lambda v: v.shared, nest))
    # Zipped on the workers, so that a shared part (a broadcast model)
    # travels once per worker, and client datasets as graphs, rather than
    # both inside one struct per client.
    return self._on_workers(nest, call)

  def select(self, keys, max_key, server_member, select_fn, call):
    parameter = call.type_signature.parameter
    return self._on_workers(structure.Struct([
        (None, keys), (None, FederatedValue(parameter[1], [max_key])),
        (None, FederatedValue(parameter[2], [server_member])),
        (None, select_fn)]), call)

  def aggregate(self, aggregation, values, call):
    if not self.num_clients:
      return aggregation.zero()
    if isinstance(aggregation, aggregations.UserAggregate):
      partials = self._user_partials(aggregation, values[0], call)
    elif all(v.handles is None for v in values):  # Held here.
      return aggregation.of_values([self.leave(v) for v in values])
    else:
      bounds = aggregation.upper_bounds
      partials = [aggregation.from_wire(p) for p in self._session.aggregate(
          aggregation.wire_kind, call.uri, values[0].argument,
          weight=values[1].argument if len(values) > 1 else None,
          upper_bounds=None if bounds is None else structure.Struct(
              [(None, np.asarray(b)) for b in bounds]),
          descriptions=aggregation.descriptions)]
    return functools.reduce(aggregation.merge, partials)

  def _user_partials(self, aggregation: aggregations.UserAggregate,
                     value: cv.ClientsValue, call: Call) -> List[Any]:
    """Each worker folds its clients from zero and reports the accumulator."""
    accumulator_type = call.type_signature.parameter[1]
    identity = bb.Lambda('accumulator', accumulator_type,
                         bb.Reference('accumulator', accumulator_type))
    partial_type = intrinsic_defs.specialize('federated_aggregate', {
        'T': value.type_signature.member,
        'U': accumulator_type,
        'R': accumulator_type
    })
    accumulate, merge, _ = aggregation.functions
    function, arguments = _request('federated_aggregate', structure.Struct([
        (None, value), (None, aggregation.zero()), (None, accumulate),
        (None, merge), (None, identity)]), partial_type)
    partials = self._session.run(function, arguments, store=False)
    return [p.members[0] for p in partials]


def _request(uri: str, arg: Any, intrinsic_type: ct.FunctionType):
  """The function of a request running an intrinsic, and shard arguments.

  The function is `(arguments -> intrinsic(arg))`: the functions (and
  blocks) in `arg` are built into it, every other value is an element of
  its parameter `arguments`, sent with the request (per shard for a CLIENTS
  value, see `_arguments_for`).
  """
  leaves = []

  def split(value: Any, type_spec: ct.Type):
    """`build(arguments)`: the block of `value`; records its leaves."""
    if isinstance(value, client_strategy.Function):
      value = cv.closed_block(value)
    if isinstance(value, bb.ComputationBuildingBlock):
      return lambda arguments: value
    if (isinstance(value, structure.Struct) and
        isinstance(type_spec, ct.StructType) and
        type_analysis.contains(type_spec, lambda t: isinstance(
            t, (ct.FederatedType, ct.FunctionType)))):
      parts = [(name, split(v, t)) for (name, t), v in zip(
          type_spec.items(), value.values())]
      return lambda arguments: bb.Struct(
          [(name, build(arguments)) for name, build in parts],
          type_spec.python_container)
    if isinstance(value, cv.ClientsValue):
      type_spec = value.wire_type()
    elif isinstance(value, FederatedValue):
      type_spec = value.type_signature
    leaves.append((value, type_spec))
    index = len(leaves) - 1
    return lambda arguments: bb.Selection(arguments, index=index)

  build = split(arg, intrinsic_type.parameter)
  parameter_type = ct.StructType([(None, t) for _, t in leaves])
  function = bb.Lambda('arguments', parameter_type, bb.Call(
      bb.Intrinsic(uri, intrinsic_type),
      build(bb.Reference('arguments', parameter_type))))
  return function, _arguments_for(leaves)


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
