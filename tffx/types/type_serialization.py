"""Converts tffx types to and from their wire form, `computation_pb2.Type`.

    serialize_type(TensorType(np.float32, [None]))  ->  Type{tensor{dtype: "float32", dims: [-1]}}
    deserialize_type(proto)                          ->  the same interned type

Python containers of struct types travel as follows:

    list, tuple, dict, OrderedDict        `container`: rebuilt exactly
    namedtuple, attrs, dataclass, other   `container_name` (module.qualname):
                                          recorded for humans, never imported;
                                          the type comes back as a plain
                                          `StructType` with the same names

so bytes from a remote peer can never make tffx import a module.

The module also holds the wire helpers that computation and value
serialization share: dtype names (`dtype_to_name`, `name_to_dtype`), parsing
bytes (`parse_message`) and the nesting limit (`check_nesting_depth`).
It does not serialize values or computations (see
`tffx.computations.serialization` and `tffx.executors.value_serialization`).
"""

import collections
from typing import Optional, Type as PyType, TypeVar

from google.protobuf import message as message_lib
import numpy as np
import tensorflow as tf

from tffx.proto import computation_pb2
from tffx.types import computation_types
from tffx.types import errors
from tffx.types import placements

# Python's protobuf runtime (upb) refuses to parse messages nested deeper than
# 100 levels, counting the outermost message as level 1. Serializers refuse to
# produce such messages, so that whatever tffx writes, tffx can read.
MAX_NESTING_DEPTH = 100

# The numeric dtypes on the wire: TensorFlow's dtypes with a numpy form
# (the narrow float and int types come from ml_dtypes, through TensorFlow).
# A fixed list: wire names are looked up here, never passed to `np.dtype`.
_NUMERIC_DTYPE_NAMES = (
    'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32',
    'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128',
    'bfloat16', 'float8_e5m2', 'float8_e4m3fn', 'float8_e4m3fnuz',
    'float8_e4m3b11fnuz', 'float8_e5m2fnuz', 'float4_e2m1fn', 'int4', 'uint4',
    'int2', 'uint2')


def _numeric_dtypes() -> dict:
  result = {}
  for name in _NUMERIC_DTYPE_NAMES:
    try:
      result[name] = np.dtype(tf.as_dtype(name).as_numpy_dtype)
    except TypeError:
      pass  # Not in this TensorFlow version.
  return result


_DTYPES_BY_NAME = _numeric_dtypes()
_STRING_NAME = 'str'
_STRING_DTYPE = np.dtype(np.str_)

# Containers rebuilt from their wire name; anything else travels by name only.
_CONTAINERS_BY_NAME = {
    'list': list,
    'tuple': tuple,
    'dict': dict,
    'OrderedDict': collections.OrderedDict,
}
_NAMES_BY_CONTAINER = {c: n for n, c in _CONTAINERS_BY_NAME.items()}

_Message = TypeVar('_Message', bound=message_lib.Message)


# ---------------------------------------------------------------------------
# Wire helpers shared by every serializer.


def dtype_to_name(dtype: np.dtype) -> str:
  """Returns the wire name of a tensor dtype ('float32', 'str', ...).

  Raises:
    SerializationError: if the dtype has no wire form (e.g. float128).
  """
  dtype = np.dtype(dtype)
  if dtype.kind in ('U', 'S', 'O'):
    return _STRING_NAME
  name = dtype.name
  if _DTYPES_BY_NAME.get(name) != dtype.newbyteorder('='):
    raise errors.SerializationError(
        f'Tensor dtype {dtype!r} has no wire form; expected one of '
        f'{sorted(_DTYPES_BY_NAME) + [_STRING_NAME]}.')
  return name


def name_to_dtype(name: str, where: str = 'dtype') -> np.dtype:
  """Returns the numpy dtype with wire name `name` (`np.str_` for 'str').

  Only the dtypes tffx tensors support are accepted; nothing is looked up
  dynamically.

  Raises:
    SerializationError: for any other name, saying `where` it was found.
  """
  if name == _STRING_NAME:
    return _STRING_DTYPE
  dtype = _DTYPES_BY_NAME.get(name)
  if dtype is None:
    raise errors.SerializationError(
        f'Unknown dtype name {name!r} at {where}; expected one of '
        f'{sorted(_DTYPES_BY_NAME) + [_STRING_NAME]}.')
  return dtype


def parse_message(message_class: PyType[_Message], data: bytes,
                  what: str) -> _Message:
  """Parses `data` as a `message_class`, refusing anything malformed.

  Args:
    message_class: The generated message class, e.g. `computation_pb2.Value`.
    data: The serialized bytes.
    what: What the bytes should hold, for error messages ('a computation').

  Raises:
    SerializationError: if `data` is not bytes, does not parse (random or
      truncated bytes), or nests deeper than `MAX_NESTING_DEPTH`.
  """
  if not isinstance(data, (bytes, bytearray, memoryview)):
    raise TypeError(
        f'Expected the serialized bytes of {what}, found '
        f'{type(data).__name__}.')
  try:
    return message_class.FromString(bytes(data))
  except message_lib.DecodeError as e:
    tip = ''
    if 'MaxDepth' in str(e) or 'depth' in str(e).lower():
      tip = (f' The message nests deeper than {MAX_NESTING_DEPTH} levels, '
             'the limit of the protobuf runtime.')
    raise errors.SerializationError(
        f'Cannot parse {len(data)} bytes as {what} '
        f'({message_class.DESCRIPTOR.full_name}): {e}.{tip} Tip: the bytes '
        f'may be truncated, corrupted, or of another kind of message.'
    ) from None


def check_nesting_depth(message: message_lib.Message, what: str) -> None:
  """Refuses a message nested deeper than `MAX_NESTING_DEPTH` levels.

  Raises:
    SerializationError: naming `what` and the depth found.
  """
  pending = [(message, 1)]
  while pending:
    current, depth = pending.pop()
    if depth > MAX_NESTING_DEPTH:
      raise errors.SerializationError(
          f'{what} nests protobuf messages more than {MAX_NESTING_DEPTH} '
          f'levels deep, which the protobuf runtime cannot parse back. Tip: '
          f'flatten deeply nested structures, or bind intermediate results '
          f'to Block locals instead of nesting calls.')
    for field, value in current.ListFields():
      if field.type != field.TYPE_MESSAGE:
        continue
      if field.is_repeated:
        pending.extend((v, depth + 1) for v in value)
      else:
        pending.append((value, depth + 1))


# ---------------------------------------------------------------------------
# Types.


def serialize_type(
    type_spec: Optional[computation_types.Type]) -> computation_pb2.Type:
  """Returns the wire form of `type_spec` (anything `to_type` accepts).

  Raises:
    SerializationError: for a dtype without a wire form, or a type nested
      deeper than `MAX_NESTING_DEPTH` messages.
  """
  type_spec = computation_types.to_type(type_spec)
  proto = computation_pb2.Type()
  try:
    write_type(type_spec, proto)
  except RecursionError:
    raise errors.SerializationError(
        f'Type nested too deeply to serialize: {str(type_spec)[:200]}...'
    ) from None
  check_nesting_depth(proto, f'Type {str(type_spec)[:200]}')
  return proto


def write_type(type_spec: computation_types.Type,
               proto: computation_pb2.Type) -> None:
  """Fills the empty message `proto` with the wire form of `type_spec`.

  Serializers of larger messages call this to write in place, which avoids
  copying nested messages.
  """
  if isinstance(type_spec, computation_types.TensorType):
    tensor = proto.tensor
    tensor.dtype = dtype_to_name(type_spec.dtype)
    if type_spec.shape is None:
      tensor.unknown_rank = True
    else:
      tensor.dims.extend(-1 if d is None else d for d in type_spec.shape)
  elif isinstance(type_spec, computation_types.StructType):
    struct = proto.struct
    struct.SetInParent()  # An empty struct must still set the oneof.
    for name, element_type in type_spec.items():
      element = struct.element.add()
      if name is not None:
        element.name = name
      write_type(element_type, element.value)
    container = type_spec.python_container
    if container is not None:
      if container in _NAMES_BY_CONTAINER:
        struct.container = _NAMES_BY_CONTAINER[container]
      else:
        struct.container_name = f'{container.__module__}.{container.__qualname__}'
  elif isinstance(type_spec, computation_types.SequenceType):
    write_type(type_spec.element, proto.sequence.element)
  elif isinstance(type_spec, computation_types.FunctionType):
    function = proto.function
    if type_spec.parameter is not None:
      write_type(type_spec.parameter, function.parameter)
    write_type(type_spec.result, function.result)
  elif isinstance(type_spec, computation_types.AbstractType):
    proto.abstract.label = type_spec.label
  elif isinstance(type_spec, computation_types.PlacementType):
    proto.placement.SetInParent()
  elif isinstance(type_spec, computation_types.FederatedType):
    federated = proto.federated
    write_type(type_spec.member, federated.member)
    federated.placement = type_spec.placement.uri
    federated.all_equal = type_spec.all_equal
  else:
    raise errors.SerializationError(
        f'Cannot serialize type {type_spec!r} of unknown class '
        f'{type(type_spec).__name__}.')


def deserialize_type(proto: computation_pb2.Type) -> computation_types.Type:
  """Returns the type described by `proto`.

  Struct containers other than list, tuple, dict and OrderedDict come back as
  plain `StructType`s (see the module docstring).

  Raises:
    SerializationError: if `proto` is not a valid type, saying where.
  """
  if not isinstance(proto, computation_pb2.Type):
    raise TypeError(
        f'Expected a computation_pb2.Type, found {type(proto).__name__}.')
  check_nesting_depth(proto, 'The type')
  return read_type(proto, 'type')


def read_type(proto: computation_pb2.Type, where: str) -> computation_types.Type:
  """Like `deserialize_type`, for a message found at path `where`.

  Deserializers of larger messages call this; they check the nesting depth
  of the whole message once.
  """
  kind = proto.WhichOneof('type')
  reader = _READERS.get(kind)
  if reader is None:
    raise errors.SerializationError(
        f'The type at {where} has no kind set (its `type` oneof is empty); '
        f'expected one of {sorted(_READERS)}.')
  where = f'{where}.{kind}'
  try:
    return reader(getattr(proto, kind), where)
  except errors.InvalidTypeError as e:
    raise errors.SerializationError(
        f'Invalid type at {where}: {e}') from None


def _read_tensor(proto: computation_pb2.TensorType,
                 where: str) -> computation_types.Type:
  dtype = name_to_dtype(proto.dtype, f'{where}.dtype')
  if proto.unknown_rank:
    if proto.dims:
      raise errors.SerializationError(
          f'The tensor type at {where} has unknown rank but also '
          f'{len(proto.dims)} dims; expected no dims.')
    return computation_types.TensorType(dtype, None)
  for d in proto.dims:
    if d < -1:
      raise errors.SerializationError(
          f'The tensor type at {where} has dimension {d}; expected a '
          f'non-negative size, or -1 for an unknown one.')
  return computation_types.TensorType(
      dtype, [None if d == -1 else d for d in proto.dims])


def _read_struct(proto: computation_pb2.StructType,
                 where: str) -> computation_types.Type:
  elements = [
      (e.name or None, read_type(e.value, f'{where}.element[{i}].value'))
      for i, e in enumerate(proto.element)
  ]
  if proto.container and proto.container_name:
    raise errors.SerializationError(
        f'The struct type at {where} sets both container '
        f'{proto.container!r} and container_name {proto.container_name!r}; '
        f'expected at most one.')
  if not proto.container:
    return computation_types.StructType(elements)
  container = _CONTAINERS_BY_NAME.get(proto.container)
  if container is None:
    raise errors.SerializationError(
        f'Unknown container {proto.container!r} at {where}.container; '
        f'expected one of {sorted(_CONTAINERS_BY_NAME)}. Other containers '
        f'travel by name in container_name and come back as plain structs.')
  if issubclass(container, dict) and any(n is None for n, _ in elements):
    raise errors.SerializationError(
        f'The struct type at {where} has container {proto.container!r} but '
        f'unnamed elements; a dict needs a name for every element.')
  return computation_types.StructWithPythonType(elements, container)


def _read_sequence(proto: computation_pb2.SequenceType,
                   where: str) -> computation_types.Type:
  _require(proto, 'element', where)
  return computation_types.SequenceType(
      read_type(proto.element, f'{where}.element'))


def _read_function(proto: computation_pb2.FunctionType,
                   where: str) -> computation_types.Type:
  parameter = None
  if proto.HasField('parameter'):
    parameter = read_type(proto.parameter, f'{where}.parameter')
  _require(proto, 'result', where)
  return computation_types.FunctionType(
      parameter, read_type(proto.result, f'{where}.result'))


def _read_abstract(proto: computation_pb2.AbstractType,
                   where: str) -> computation_types.Type:
  if not proto.label:
    raise errors.SerializationError(
        f'The abstract type at {where} has an empty label.')
  return computation_types.AbstractType(proto.label)


def _read_placement(proto: computation_pb2.PlacementType,
                    where: str) -> computation_types.Type:
  del proto, where  # A placement type has no fields.
  return computation_types.PlacementType()


def _read_federated(proto: computation_pb2.FederatedType,
                    where: str) -> computation_types.Type:
  _require(proto, 'member', where)
  member = read_type(proto.member, f'{where}.member')
  placement = read_placement_uri(proto.placement, f'{where}.placement')
  return computation_types.FederatedType(member, placement, proto.all_equal)


def read_placement_uri(uri: str,
                       where: str) -> placements.PlacementLiteral:
  """Returns the placement with wire name `uri` ('clients', 'server').

  Raises:
    SerializationError: for an unknown uri, saying `where` it was found.
  """
  try:
    return placements.uri_to_placement(uri)
  except ValueError as e:
    raise errors.SerializationError(f'At {where}: {e}') from None


def _require(proto: message_lib.Message, field: str, where: str) -> None:
  if not proto.HasField(field):
    raise errors.SerializationError(
        f'The message at {where} is missing its required field {field!r}.')


_READERS = {
    'tensor': _read_tensor,
    'struct': _read_struct,
    'sequence': _read_sequence,
    'function': _read_function,
    'abstract': _read_abstract,
    'placement': _read_placement,
    'federated': _read_federated,
}
