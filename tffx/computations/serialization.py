"""Serializes building blocks and computations to protobuf and bytes, and back.

    ConcreteComputation --serialize_computation--> bytes (deterministic)
         ^                                           |
         `------------deserialize_computation--------'

    building block <--(de)serialize_building_block--> computation_pb2.Computation
    numpy array    <--(de)serialize_array-----------> computation_pb2.Array

Every node is written with its type. Reading checks everything a peer could
get wrong: each node's stored type against the type its parts give, that
references are bound (for whole computations), that calls type-check, that
selections are in range, that intrinsic and placement uris are known, that
arrays hold as many bytes as their dtype and shape need, and that TensorFlow
graphs parse and name tensors that exist. Any problem raises
`SerializationError` saying what was wrong and where, as a path of proto
fields such as `computation.lambda.result.call.argument`.

Struct containers follow `type_serialization`: list, tuple, dict and
OrderedDict come back; other containers come back as plain structs.
A Lambda's Python name does not travel (TensorFlow blocks keep theirs).
This module does not serialize executor values (see
`tffx.executors.value_serialization`) and never imports user code.
"""

import math
from typing import Any, Callable, Dict, Optional, Union

from google.protobuf import message as message_lib
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb_lib
from tffx.computations import computation_impl
from tffx.computations import intrinsic_defs
from tffx.proto import computation_pb2
from tffx.types import computation_types
from tffx.types import errors
from tffx.types import type_serialization

SerializationError = errors.SerializationError

_STRING = 'str'


# ---------------------------------------------------------------------------
# Arrays.


def serialize_array(value: Any) -> computation_pb2.Array:
  """Returns the wire form of a numpy array, numpy scalar or Python scalar.

  Numeric arrays travel as little-endian raw bytes; string arrays (unicode,
  bytes or object arrays of str/bytes) as one UTF-8 byte string per element.

  Raises:
    SerializationError: for a dtype without a wire form, or a string array
      holding something other than str or bytes.
  """
  proto = computation_pb2.Array()
  write_array(np.asarray(value), proto)
  return proto


def write_array(array: np.ndarray, proto: computation_pb2.Array) -> None:
  """Fills the empty message `proto` with the wire form of `array`."""
  proto.dtype = type_serialization.dtype_to_name(array.dtype)
  proto.shape.extend(array.shape)
  if proto.dtype == _STRING:
    proto.string_value.extend(_to_bytes(x) for x in array.ravel())
  else:
    little_endian = array.dtype.newbyteorder('<')
    proto.content = np.ascontiguousarray(array, dtype=little_endian).tobytes()


def _to_bytes(element: Any) -> bytes:
  if isinstance(element, bytes):
    return element
  if isinstance(element, str):
    return element.encode('utf-8')
  raise SerializationError(
      f'Expected the elements of a string array to be str or bytes, found '
      f'{type(element).__name__}: {element!r}.')


def deserialize_array(proto: computation_pb2.Array,
                      where: str = 'array') -> np.ndarray:
  """Returns the numpy array described by `proto` (a new, writable array).

  String arrays come back as object arrays of `bytes`, as TensorFlow gives
  them; a scalar comes back as a 0-d array.

  Raises:
    SerializationError: for an unknown dtype, a negative dimension, or
      content whose size does not match dtype and shape.
  """
  dtype = type_serialization.name_to_dtype(proto.dtype, f'{where}.dtype')
  shape = tuple(proto.shape)
  if any(d < 0 for d in shape):
    raise SerializationError(
        f'The array at {where} has shape {list(shape)}; expected '
        f'non-negative dimensions.')
  size = math.prod(shape)
  if proto.dtype == _STRING:
    if proto.content:
      raise SerializationError(
          f'The string array at {where} has {len(proto.content)} bytes of '
          f'numeric content; string elements belong in string_value.')
    if len(proto.string_value) != size:
      raise SerializationError(
          f'The string array at {where} of shape {list(shape)} needs {size} '
          f'elements; found {len(proto.string_value)}.')
    flat = np.empty(size, dtype=object)
    flat[:] = list(proto.string_value)
  else:
    if proto.string_value:
      raise SerializationError(
          f'The {proto.dtype} array at {where} has '
          f'{len(proto.string_value)} string elements; only dtype "str" '
          f'arrays have them.')
    needed = size * dtype.itemsize
    if len(proto.content) != needed:
      raise SerializationError(
          f'The {proto.dtype} array at {where} of shape {list(shape)} needs '
          f'{needed} bytes of content; found {len(proto.content)}.')
    flat = np.frombuffer(proto.content,
                         dtype=dtype.newbyteorder('<')).astype(dtype)
  try:
    return flat.reshape(shape)
  except ValueError as e:
    raise SerializationError(
        f'The array at {where} has an unusable shape {list(shape)}: {e}.'
    ) from None


# ---------------------------------------------------------------------------
# Building blocks to protos.


def serialize_building_block(
    block: bb_lib.ComputationBuildingBlock) -> computation_pb2.Computation:
  """Returns the wire form of a building block and everything inside it.

  Raises:
    SerializationError: if the block cannot be represented: an unknown
      building block class, a literal of an unsupported dtype, or a tree
      nested deeper than the protobuf runtime can parse back.
  """
  if not isinstance(block, bb_lib.ComputationBuildingBlock):
    raise TypeError(
        f'Expected a building block, found {type(block).__name__}.')
  proto = computation_pb2.Computation()
  try:
    write_building_block(block, proto)
  except RecursionError:
    raise SerializationError(
        'The building block is nested too deeply to serialize. Tip: bind '
        'intermediate results to Block locals instead of nesting calls.'
    ) from None
  type_serialization.check_nesting_depth(proto, 'The building block')
  return proto


def write_building_block(block: bb_lib.ComputationBuildingBlock,
                         proto: computation_pb2.Computation) -> None:
  """Fills the empty message `proto` with the wire form of `block`."""
  writer = _WRITERS.get(type(block))
  if writer is None:
    raise SerializationError(
        f'Cannot serialize a building block of unknown class '
        f'{type(block).__name__}; expected one of '
        f'{sorted(c.__name__ for c in _WRITERS)}.')
  type_serialization.write_type(block.type_signature, proto.type)
  writer(block, proto)


def _write_reference(block: bb_lib.Reference, proto) -> None:
  proto.reference.name = block.name


def _write_selection(block: bb_lib.Selection, proto) -> None:
  write_building_block(block.source, proto.selection.source)
  proto.selection.index = block.index


def _write_struct(block: bb_lib.Struct, proto) -> None:
  proto.struct.SetInParent()  # An empty struct must still set the oneof.
  for name, value in block.items():
    element = proto.struct.element.add()
    if name is not None:
      element.name = name
    write_building_block(value, element.value)


def _write_call(block: bb_lib.Call, proto) -> None:
  write_building_block(block.function, proto.call.function)
  if block.argument is not None:
    write_building_block(block.argument, proto.call.argument)


def _write_lambda(block: bb_lib.Lambda, proto) -> None:
  getattr(proto, 'lambda').SetInParent()
  if block.parameter_name is not None:
    getattr(proto, 'lambda').parameter_name = block.parameter_name
  write_building_block(block.result, getattr(proto, 'lambda').result)


def _write_block(block: bb_lib.Block, proto) -> None:
  for name, value in block.locals:
    local = proto.block.local.add()
    local.name = name
    write_building_block(value, local.value)
  write_building_block(block.result, proto.block.result)


def _write_intrinsic(block: bb_lib.Intrinsic, proto) -> None:
  proto.intrinsic.uri = block.uri


def _write_data(block: bb_lib.Data, proto) -> None:
  proto.data.uri = block.uri


def _write_placement(block: bb_lib.Placement, proto) -> None:
  proto.placement.uri = block.placement.uri


def _write_literal(block: bb_lib.Literal, proto) -> None:
  write_array(block.value, proto.literal.value)


def _write_tensorflow(block: bb_lib.TensorFlow, proto) -> None:
  proto.tensorflow.CopyFrom(block.proto)


_WRITERS: Dict[type, Callable[[Any, computation_pb2.Computation], None]] = {
    bb_lib.Reference: _write_reference,
    bb_lib.Selection: _write_selection,
    bb_lib.Struct: _write_struct,
    bb_lib.Call: _write_call,
    bb_lib.Lambda: _write_lambda,
    bb_lib.Block: _write_block,
    bb_lib.Intrinsic: _write_intrinsic,
    bb_lib.Data: _write_data,
    bb_lib.Placement: _write_placement,
    bb_lib.Literal: _write_literal,
    bb_lib.TensorFlow: _write_tensorflow,
}


# ---------------------------------------------------------------------------
# Protos to building blocks.


def deserialize_building_block(
    proto: computation_pb2.Computation) -> bb_lib.ComputationBuildingBlock:
  """Returns the building block described by `proto`, checked node by node.

  References that no enclosing Lambda or Block binds are allowed here (the
  proto may be part of a larger program); `deserialize_computation` refuses
  them.

  Raises:
    SerializationError: if `proto` is not a valid building block.
  """
  if not isinstance(proto, computation_pb2.Computation):
    raise TypeError(f'Expected a computation_pb2.Computation, found '
                    f'{type(proto).__name__}.')
  type_serialization.check_nesting_depth(proto, 'The computation')
  return read_building_block(proto, 'computation', allow_free_references=True)


def read_building_block(proto: computation_pb2.Computation, where: str,
                        allow_free_references: bool
                       ) -> bb_lib.ComputationBuildingBlock:
  """Like `deserialize_building_block`, for a message found at path `where`.

  Other deserializers call this after checking the nesting depth of their
  whole message (see `type_serialization.check_nesting_depth`).
  """
  return _Reader(allow_free_references).read(proto, where, {})


def _fail_on(where: str, build: Callable[[], Any]) -> Any:
  """Calls `build`, turning a building block's refusal into SerializationError."""
  try:
    return build()
  except (TypeError, ValueError, IndexError) as e:
    raise SerializationError(f'Invalid computation at {where}: {e}') from None


class _Reader:
  """Reads a `Computation` tree, tracking the names bound around each node."""

  def __init__(self, allow_free_references: bool):
    self._allow_free_references = allow_free_references
    self._handlers = {
        'reference': self._reference,
        'selection': self._selection,
        'struct': self._struct,
        'call': self._call,
        'lambda': self._lambda,
        'block': self._block,
        'intrinsic': self._intrinsic,
        'data': self._data,
        'placement': self._placement,
        'literal': self._literal,
        'tensorflow': self._tensorflow,
    }

  def read(self, proto: computation_pb2.Computation, where: str,
           scope: Dict[str, computation_types.Type]
          ) -> bb_lib.ComputationBuildingBlock:
    kind = proto.WhichOneof('computation')
    handler = self._handlers.get(kind)
    if handler is None:
      raise SerializationError(
          f'The computation at {where} has no kind set (its `computation` '
          f'oneof is empty); expected one of {sorted(self._handlers)}.')
    if not proto.HasField('type'):
      raise SerializationError(
          f'The {kind} at {where} has no type; every computation node '
          f'carries its type.')
    stored = type_serialization.read_type(proto.type, f'{where}.type')
    where = f'{where}.{kind}'
    block = handler(getattr(proto, kind), stored, where, scope)
    if not block.type_signature.is_identical_to(stored):
      raise SerializationError(
          f'The {kind} at {where} is stored with type {stored}, but its '
          f'parts give type {block.type_signature}.')
    return block

  def _reference(self, proto, stored, where, scope):
    if not proto.name:
      raise SerializationError(f'The reference at {where} has an empty name.')
    bound_type = scope.get(proto.name)
    if bound_type is None:
      if not self._allow_free_references:
        raise SerializationError(
            f'The reference {proto.name!r} at {where} is not bound by any '
            f'enclosing Lambda or Block; bound names: {sorted(scope)}.')
    elif not stored.is_assignable_from(bound_type):
      raise SerializationError(
          f'The reference {proto.name!r} at {where} has type {stored}, but '
          f'its binding has type {bound_type}.')
    return _fail_on(where, lambda: bb_lib.Reference(proto.name, stored))

  def _selection(self, proto, stored, where, scope):
    _require(proto, 'source', where)
    source = self.read(proto.source, f'{where}.source', scope)
    return _fail_on(where, lambda: bb_lib.Selection(source, index=proto.index))

  def _struct(self, proto, stored, where, scope):
    if not isinstance(stored, computation_types.StructType):
      raise SerializationError(
          f'The struct at {where} is stored with non-struct type {stored}.')
    elements = [(e.name or None,
                 self.read(e.value, f'{where}.element[{i}].value', scope))
                for i, e in enumerate(proto.element)]
    return _fail_on(
        where, lambda: bb_lib.Struct(elements, stored.python_container))

  def _call(self, proto, stored, where, scope):
    _require(proto, 'function', where)
    function = self.read(proto.function, f'{where}.function', scope)
    argument = None
    if proto.HasField('argument'):
      argument = self.read(proto.argument, f'{where}.argument', scope)
    return _fail_on(where, lambda: bb_lib.Call(function, argument))

  def _lambda(self, proto, stored, where, scope):
    if not isinstance(stored, computation_types.FunctionType):
      raise SerializationError(
          f'The lambda at {where} is stored with non-function type {stored}.')
    name = proto.parameter_name or None
    if (name is None) != (stored.parameter is None):
      raise SerializationError(
          f'The lambda at {where} has parameter name {proto.parameter_name!r} '
          f'but type {stored}; a parameter needs both a name and a type.')
    _require(proto, 'result', where)
    if name is not None:
      scope = {**scope, name: stored.parameter}
    result = self.read(proto.result, f'{where}.result', scope)
    return _fail_on(where,
                    lambda: bb_lib.Lambda(name, stored.parameter, result))

  def _block(self, proto, stored, where, scope):
    local_symbols = []
    for i, local in enumerate(proto.local):
      local_where = f'{where}.local[{i}]'
      if not local.name:
        raise SerializationError(f'The local at {local_where} has no name.')
      _require(local, 'value', local_where)
      value = self.read(local.value, f'{local_where}.value', scope)
      local_symbols.append((local.name, value))
      scope = {**scope, local.name: value.type_signature}
    _require(proto, 'result', where)
    result = self.read(proto.result, f'{where}.result', scope)
    return _fail_on(where, lambda: bb_lib.Block(local_symbols, result))

  def _intrinsic(self, proto, stored, where, scope):
    if proto.uri not in intrinsic_defs.BY_URI:
      raise SerializationError(
          f'Unknown intrinsic uri {proto.uri!r} at {where}.uri; expected one '
          f'of {sorted(intrinsic_defs.BY_URI)}.')
    if not isinstance(stored, computation_types.FunctionType):
      raise SerializationError(
          f'The intrinsic {proto.uri!r} at {where} is stored with '
          f'non-function type {stored}.')
    return _fail_on(where, lambda: bb_lib.Intrinsic(proto.uri, stored))

  def _data(self, proto, stored, where, scope):
    if not proto.uri:
      raise SerializationError(f'The data at {where} has an empty uri.')
    return _fail_on(where, lambda: bb_lib.Data(proto.uri, stored))

  def _placement(self, proto, stored, where, scope):
    placement = type_serialization.read_placement_uri(proto.uri,
                                                      f'{where}.uri')
    return bb_lib.Placement(placement)

  def _literal(self, proto, stored, where, scope):
    _require(proto, 'value', where)
    array = deserialize_array(proto.value, f'{where}.value')
    if not isinstance(stored, computation_types.TensorType):
      raise SerializationError(
          f'The literal at {where} is stored with non-tensor type {stored}.')
    value_type = computation_types.TensorType(array.dtype, array.shape)
    if value_type.dtype != stored.dtype:
      raise SerializationError(
          f'The literal at {where} holds a {proto.value.dtype} array, but is '
          f'stored with type {stored}.')
    return _fail_on(where, lambda: bb_lib.Literal(array, stored))

  def _tensorflow(self, proto, stored, where, scope):
    if not isinstance(stored, computation_types.FunctionType):
      raise SerializationError(
          f'The TensorFlow computation at {where} is stored with '
          f'non-function type {stored}.')
    _check_graph(proto, stored, where)
    copy = computation_pb2.TensorFlow()
    copy.CopyFrom(proto)
    return bb_lib.TensorFlow(copy, stored)


def _require(proto: message_lib.Message, field: str, where: str) -> None:
  if not proto.HasField(field):
    raise SerializationError(
        f'The message at {where} is missing its required field {field!r}.')


def _check_graph(proto: computation_pb2.TensorFlow,
                 type_signature: computation_types.FunctionType,
                 where: str) -> None:
  """Checks that the graph parses and binds one tensor per type leaf."""
  try:
    graph_def = tf.compat.v1.GraphDef.FromString(proto.graph_def)
  except message_lib.DecodeError as e:
    raise SerializationError(
        f'The graph_def at {where}.graph_def ({len(proto.graph_def)} bytes) '
        f'does not parse as a TensorFlow GraphDef: {e}.') from None
  ops = {node.name for node in graph_def.node}
  for field, names, leaf_type in (
      ('parameter_names', proto.parameter_names, type_signature.parameter),
      ('result_names', proto.result_names, type_signature.result)):
    leaves = _count_leaves(leaf_type)
    if len(names) != leaves:
      raise SerializationError(
          f'The TensorFlow computation at {where} has {len(names)} '
          f'{field}, but its type {type_signature} has {leaves} leaves there.')
    for i, name in enumerate(names):
      op = _op_name(name)
      if op not in ops:
        raise SerializationError(
            f'{where}.{field}[{i}] names tensor {name!r}, but the graph has '
            f'no op {op!r}.')
  if proto.initialize_op and proto.initialize_op not in ops:
    raise SerializationError(
        f'{where}.initialize_op names op {proto.initialize_op!r}, which the '
        f'graph does not have.')


def _op_name(tensor_name: str) -> str:
  op, _, index = tensor_name.rpartition(':')
  return op if op and index.isdigit() else tensor_name


def _count_leaves(type_spec: Optional[computation_types.Type]) -> int:
  if type_spec is None:
    return 0
  if isinstance(type_spec, computation_types.StructType):
    return sum(_count_leaves(t) for t in type_spec)
  return 1


# ---------------------------------------------------------------------------
# Computations to bytes.


def _to_building_block(
    comp: Union[computation_impl.Computation, bb_lib.ComputationBuildingBlock]
) -> bb_lib.ComputationBuildingBlock:
  if isinstance(comp, bb_lib.ComputationBuildingBlock):
    return comp
  to_building_block = getattr(comp, 'to_building_block', None)
  if isinstance(comp, computation_impl.Computation) and to_building_block:
    return to_building_block()
  tip = ''
  if isinstance(comp, computation_impl.Computation):
    tip = (' Tip: a polymorphic computation has no single program; give the '
           'decorator a type spec, or serialize comp.concrete(spec).')
  raise TypeError(
      f'Expected a concrete computation or a function-typed building block, '
      f'found {type(comp).__name__}.{tip}')


def serialize_computation(
    comp: Union[computation_impl.Computation, bb_lib.ComputationBuildingBlock]
) -> bytes:
  """Returns the bytes of a computation: its program, graphs and types.

  The same program always gives the same bytes (deterministic serialization).

  Args:
    comp: A `ConcreteComputation` or a function-typed building block.

  Raises:
    TypeError: if `comp` is not a concrete computation.
    SerializationError: if the program cannot be represented (see
      `serialize_building_block`).
  """
  block = _to_building_block(comp)
  if not isinstance(block.type_signature, computation_types.FunctionType):
    raise TypeError(f'A computation has a function type; found a building '
                    f'block of type {block.type_signature}.')
  return serialize_building_block(block).SerializeToString(deterministic=True)


def deserialize_computation(data: bytes) -> computation_impl.ConcreteComputation:
  """Returns the computation serialized in `data`, checked node by node.

  Raises:
    SerializationError: if `data` is not the bytes of a valid, closed
      (no unbound references), function-typed computation.
  """
  # The parser enforces the nesting limit, so no `check_nesting_depth` here.
  proto = type_serialization.parse_message(computation_pb2.Computation, data,
                                           'a computation')
  block = read_building_block(proto, 'computation', allow_free_references=False)
  if not isinstance(block.type_signature, computation_types.FunctionType):
    raise SerializationError(
        f'Expected a computation of function type, found a '
        f'{proto.WhichOneof("computation")} of type {block.type_signature}.')
  name = block.name if isinstance(block, bb_lib.TensorFlow) else None
  return computation_impl.ConcreteComputation(block, name=name or None)


def round_trip(
    comp: Union[computation_impl.Computation, bb_lib.ComputationBuildingBlock]
) -> computation_impl.ConcreteComputation:
  """Serializes `comp` to bytes and back; a helper for tests."""
  return deserialize_computation(serialize_computation(comp))
