"""The values of the controller during a run: functions and CLIENTS values.

    closed_block   a function value (`client_strategy.Function`) as a
                   closed block, to send to workers
    ClientsValue   a CLIENTS-placed value: members held here (the user's
                   argument), one member shared by every client (broadcast),
                   or one handle per shard, held by the workers

`closed_block` binds a function's free references around it (`Block`), so a
function that captured tensors or structs of them can travel. A
`ClientsValue` held here travels to each worker as that worker's slice of
members; client datasets as their sources when a worker can open them
(`dataset_sources`), else as tf.data graphs when they can (`dataset_graphs`).
This module neither evaluates blocks (`remote_strategy`) nor talks
to workers.
"""

from typing import Any, Dict, List, Optional

import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.executors import client_strategy
from tffx.executors import dataset_sources
from tffx.executors import federated_value
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import dataset_graphs
from tffx.remote import worker_session
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure
from tffx.types import type_serialization

NOTHING = object()  # `shared` of a ClientsValue that is not shared.


def closed_block(fn: client_strategy.Function) -> bb.ComputationBuildingBlock:
  """The function's block with its free references bound, ready to travel.

  Raises:
    NotImplementedError: if it captures a value that cannot become a block
      (a sequence or a federated value).
  """
  free = free_references(fn.block)
  if not free:
    return fn.block
  return bb.Block([(name, value_block(fn.env.lookup(name), t, name))
                   for name, t in free.items()], fn.block)


class ClientsValue:
  """A value placed at CLIENTS during one run.

  Exactly one of: `members` (held here), `shared` (one member every client
  holds), `handles` (one per shard, held by the workers).
  """

  __slots__ = ('type_signature', 'num_clients', 'members', 'shared',
               'handles')

  def __init__(self, type_signature: ct.FederatedType, num_clients: int, *,
               members: Optional[tuple] = None, shared: Any = NOTHING,
               handles: Optional[List[str]] = None):
    self.type_signature = type_signature
    self.num_clients = num_clients
    self.members = members
    self.shared = shared
    self.handles = handles

  @property
  def is_shared(self) -> bool:
    return self.shared is not NOTHING

  def wire_type(self) -> ct.FederatedType:
    """Its type on the wire: all-equal when shared, so one member travels."""
    if self.is_shared:
      return ct.FederatedType(self.type_signature.member, placements.CLIENTS,
                              all_equal=True)
    return self.type_signature

  def argument(self, shard: worker_session.Shard) -> remote_pb2.Argument:
    """The shard's part of the value, as a request argument.

    Client datasets travel as graphs when they all can (`dataset_graphs`),
    otherwise as their elements.
    """
    if self.handles is not None:
      return remote_pb2.Argument(handle=self.handles[shard.index])
    if self.is_shared:
      members = [self.shared] * shard.size
    else:
      members = self.members[shard.start:shard.stop]
      sources = self._dataset_sources(members)
      if sources is not None:
        return sources
      graphs = self._dataset_graphs(members)
      if graphs is not None:
        argument = remote_pb2.Argument()
        type_serialization.write_type(self.type_signature,
                                      argument.dataset_graphs.type)
        argument.dataset_graphs.graph_def.extend(graphs)
        return argument
    wire_type = self.wire_type()
    value = federated_value.FederatedValue(wire_type, members)
    return remote_pb2.Argument(
        value=value_serialization.serialize_value(value, wire_type))

  def _dataset_sources(self, members) -> Optional[remote_pb2.Argument]:
    """The members as their sources, if they all have one of one kind."""
    sources = [dataset_sources.source_of(m) for m in members]
    if not sources or any(s is None for s in sources):
      return None
    first = sources[0]
    if any((s.kind, s.params_json, s.batch_size) !=
           (first.kind, first.params_json, first.batch_size)
           for s in sources):
      return None
    argument = remote_pb2.Argument()
    message = argument.dataset_sources
    type_serialization.write_type(self.type_signature, message.type)
    message.kind = first.kind
    message.params_json = first.params_json
    message.batch_size = first.batch_size
    message.client_id.extend(s.client_id for s in sources)
    return argument

  def _dataset_graphs(self, members) -> Optional[List[bytes]]:
    member_type = self.type_signature.member
    if not isinstance(member_type, ct.SequenceType):
      return None
    graphs = []
    for member in members:
      graph = None
      if isinstance(member, tf.data.Dataset):
        graph = dataset_graphs.to_graph(member, member_type.element)
      if graph is None:
        return None
      graphs.append(graph)
    return graphs


def free_references(block: bb.ComputationBuildingBlock) -> Dict[str, ct.Type]:
  """The names `block` refers to but does not bind, with their types."""
  free = {}

  def walk(b, bound):
    if isinstance(b, bb.Reference):
      if b.name not in bound:
        free.setdefault(b.name, b.type_signature)
    elif isinstance(b, bb.Lambda):
      walk(b.result, bound | {b.parameter_name} if b.parameter_name else bound)
    elif isinstance(b, bb.Block):
      for name, value in b.locals:
        walk(value, bound)
        bound = bound | {name}
      walk(b.result, bound)
    else:
      for child in b.children():
        walk(child, bound)

  walk(block, frozenset())
  return free


def value_block(value: Any, type_spec: ct.Type,
                 name: str) -> bb.ComputationBuildingBlock:
  """A closed block evaluating to `value`, for a captured name."""
  if isinstance(value, client_strategy.Function):
    return closed_block(value)
  if isinstance(type_spec, ct.TensorType):
    return bb.Literal(np.asarray(value), type_spec)
  if isinstance(type_spec, ct.StructType) and isinstance(value,
                                                         structure.Struct):
    return bb.Struct([(n, value_block(v, t, name))
                      for (n, t), v in zip(type_spec.items(), value.values())],
                     type_spec.python_container)
  raise NotImplementedError(
      f'A function sent to workers captures {name!r} of type {type_spec}, '
      f'which cannot travel inside a function. Tip: pass it to the '
      f'function as an argument instead.')
