"""Serializes executor values to `computation_pb2.Value` and bytes, and back.

    value (+ type)  --serialize_value-->    computation_pb2.Value
    (value, type)   <--deserialize_value--  computation_pb2.Value

    tensor     numpy array, numpy or Python scalar, eager tf.Tensor   Array
    struct     structure.Struct or a Python container                StructValue
    sequence   tf.data.Dataset (or a list of elements), materialized  SequenceValue
    federated  FederatedValue (or a list of client members, or the
               server member)                                         FederatedValue
    function   ConcreteComputation or building block                  Computation

Deserialized values take the executor forms (see `federated_value`): numpy
arrays (string tensors as object arrays of bytes), `Struct`s, datasets with
the serialized element type, `FederatedValue`s and building blocks (what
`Executor.run` takes for a function inside its argument).
An all-equal CLIENTS value travels as one member and a client count, and
comes back with that member repeated. Python containers are not rebuilt
here; the edge does that from the result type.

This module neither runs computations nor talks to the network; the remote
executor sends the bytes of `serialize_value_to_bytes`.
"""

from typing import Any, Iterable, List, Optional, Tuple

import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks
from tffx.computations import computation_impl
from tffx.computations import serialization
from tffx.executors import federated_value
from tffx.proto import computation_pb2
from tffx.types import computation_types
from tffx.types import errors
from tffx.types import placements
from tffx.types import python_containers
from tffx.types import structure
from tffx.types import type_conversions
from tffx.types import type_serialization

SerializationError = errors.SerializationError

# Bounds the list an all-equal CLIENTS value expands to, so that a malformed
# count cannot exhaust memory.
_MAX_MEMBER_COUNT = 10_000_000


# ---------------------------------------------------------------------------
# Values to protos.


def serialize_value(value: Any,
                    type_spec: Any = None) -> computation_pb2.Value:
  """Returns the wire form of an executor value.

  Args:
    value: A value in one of the forms listed in the module docstring.
    type_spec: The value's type (anything `to_type` accepts); inferred from
      the value when None.

  Raises:
    TypeError: if `value` does not match `type_spec`.
    SerializationError: if the value cannot travel: an abstract or placement
      type, an infinite dataset, a dtype without a wire form, or nesting
      deeper than the protobuf runtime can parse back.
  """
  if type_spec is None:
    type_spec = type_conversions.infer_type(value)
  type_spec = computation_types.to_type(type_spec)
  proto = computation_pb2.Value()
  try:
    _write_value(value, type_spec, proto, 'value')
  except RecursionError:
    raise SerializationError(
        f'The value of type {str(type_spec)[:200]} is nested too deeply to '
        f'serialize.') from None
  type_serialization.check_nesting_depth(proto, f'The value of type '
                                         f'{str(type_spec)[:200]}')
  return proto


def serialize_value_to_bytes(value: Any, type_spec: Any = None) -> bytes:
  """Like `serialize_value`, returning deterministic bytes."""
  return serialize_value(value, type_spec).SerializeToString(deterministic=True)


def _write_value(value: Any, type_spec: computation_types.Type,
                 proto: computation_pb2.Value, where: str) -> None:
  """Fills the empty message `proto`; `where` names the value in errors."""
  if isinstance(type_spec, computation_types.TensorType):
    serialization.write_array(_to_array(value, type_spec, where), proto.array)
  elif isinstance(type_spec, computation_types.StructType):
    _write_struct(value, type_spec, proto.struct, where)
  elif isinstance(type_spec, computation_types.SequenceType):
    _write_sequence(value, type_spec, proto.sequence, where)
  elif isinstance(type_spec, computation_types.FederatedType):
    _write_federated(value, type_spec, proto.federated, where)
  elif isinstance(type_spec, computation_types.FunctionType):
    block = _to_function_block(value, type_spec, where)
    serialization.write_building_block(block, proto.computation)
  else:
    raise SerializationError(
        f'Cannot serialize {where} of type {type_spec}: values of '
        f'{type(type_spec).__name__} do not travel between executors.')


def _to_array(value: Any, type_spec: computation_types.TensorType,
              where: str) -> np.ndarray:
  """Returns `value` as an array of `type_spec`'s dtype and shape."""
  if isinstance(value, (tf.Tensor, tf.Variable)):
    value = value.numpy()
  is_string = type_spec.dtype.kind == 'U'
  if isinstance(value, (np.ndarray, np.generic)):
    array = np.asarray(value)
    value_is_string = array.dtype.kind in ('U', 'S', 'O')
    if value_is_string != is_string or (not is_string and
                                        array.dtype != type_spec.dtype):
      raise TypeError(
          f'Expected {where} to be a {type_spec} array, found dtype '
          f'{array.dtype}.')
  elif is_string:
    array = np.asarray(value, dtype=object)
  else:
    try:
      array = np.asarray(value)
      if not np.can_cast(array.dtype, type_spec.dtype, 'same_kind'):
        raise TypeError(f'{array.dtype} does not convert to {type_spec.dtype}')
      array = np.asarray(value, dtype=type_spec.dtype)
    except (TypeError, ValueError, OverflowError) as e:
      raise TypeError(f'Expected {where} to be a {type_spec} value, found '
                      f'{value!r}: {e}.') from None
  if not type_spec.is_assignable_from(
      computation_types.TensorType(type_spec.dtype, array.shape)):
    raise TypeError(f'Expected {where} to have type {type_spec}, found an '
                    f'array of shape {list(array.shape)}.')
  return array


def _write_struct(value: Any, type_spec: computation_types.StructType,
                  proto: computation_pb2.StructValue, where: str) -> None:
  proto.SetInParent()  # An empty struct must still set the oneof.
  value = structure.from_container(value)
  if not isinstance(value, structure.Struct):
    raise TypeError(f'Expected {where} to be a struct of type {type_spec}, '
                    f'found {type(value).__name__}.')
  if len(value) != len(type_spec):
    raise TypeError(f'Expected {where} to have the {len(type_spec)} elements '
                    f'of {type_spec}, found {len(value)}.')
  names = type_spec.names()
  by_name = None not in names and None not in value.names()
  if by_name and set(names) != set(value.names()):
    raise TypeError(f'Expected {where} to have the elements {names} of '
                    f'{type_spec}, found {value.names()}.')
  for i, (name, element_type) in enumerate(type_spec.items()):
    value_name = value.names()[i]
    if not by_name and None not in (name, value_name) and name != value_name:
      raise TypeError(f'Expected element {i} of {where} to be named {name!r} '
                      f'as in {type_spec}, found {value_name!r}.')
    element = value[name] if by_name else value[i]
    element_proto = proto.element.add()
    if name is not None:
      element_proto.name = name
    label = name if name is not None else i
    _write_value(element, element_type, element_proto.value,
                 f'{where}[{label!r}]')


def _write_sequence(value: Any, type_spec: computation_types.SequenceType,
                    proto: computation_pb2.SequenceValue, where: str) -> None:
  type_serialization.write_type(type_spec.element, proto.element_type)
  for i, element in enumerate(_sequence_elements(value, where)):
    _write_value(element, type_spec.element, proto.element.add(),
                 f'{where}[{i}]')


def _sequence_elements(value: Any, where: str) -> Iterable[Any]:
  if isinstance(value, tf.data.Dataset):
    if value.cardinality() == tf.data.INFINITE_CARDINALITY:
      raise SerializationError(
          f'Cannot serialize {where}: the dataset is infinite. Tip: '
          f'dataset.take(n) bounds it.')
    return value.as_numpy_iterator()
  if isinstance(value, (list, tuple)):
    return value
  raise TypeError(f'Expected {where} to be a tf.data.Dataset or a list of '
                  f'elements, found {type(value).__name__}.')


def _write_federated(value: Any, type_spec: computation_types.FederatedType,
                     proto: computation_pb2.FederatedValue,
                     where: str) -> None:
  """Writes members; an all-equal CLIENTS value writes one and a count."""
  if isinstance(value, federated_value.FederatedValue):
    if not type_spec.is_assignable_from(value.type_signature):
      raise TypeError(f'Expected {where} to have type {type_spec}, found a '
                      f'federated value of type {value.type_signature}.')
    members = list(value.members)
  elif type_spec.placement is placements.SERVER:
    members = [value]
  elif isinstance(value, (list, tuple)):
    members = list(value)
  else:
    raise TypeError(
        f'Expected {where} of type {type_spec} to be a FederatedValue or a '
        f'list of client members, found {type(value).__name__}.')
  type_serialization.write_type(type_spec, proto.type)
  if (type_spec.placement is placements.CLIENTS and type_spec.all_equal and
      members and all(m is members[0] for m in members)):
    proto.member_count = len(members)
    members = members[:1]
  for i, member in enumerate(members):
    _write_value(member, type_spec.member, proto.member.add(),
                 f'{where}.member[{i}]')


def _to_function_block(value: Any, type_spec: computation_types.FunctionType,
                       where: str) -> building_blocks.ComputationBuildingBlock:
  if isinstance(value, building_blocks.ComputationBuildingBlock):
    block = value
  elif isinstance(value, computation_impl.ConcreteComputation):
    block = value.to_building_block()
  else:
    raise TypeError(
        f'Expected {where} of type {type_spec} to be a concrete computation '
        f'or a building block, found {type(value).__name__}. Tip: Python '
        f'callables do not travel; trace them with tffx.tf_computation or '
        f'tffx.federated_computation.')
  if not type_spec.is_assignable_from(block.type_signature):
    raise TypeError(f'Expected {where} to have type {type_spec}, found a '
                    f'computation of type {block.type_signature}.')
  return block


# ---------------------------------------------------------------------------
# Protos to values.


def deserialize_value(
    proto: computation_pb2.Value,
    type_hint: Any = None) -> Tuple[Any, computation_types.Type]:
  """Returns `(value, type)` for a serialized value.

  The type is read from the message: arrays give their exact shape, structs
  their names, sequences, federated values and computations their stored
  types. With `type_hint`, the read type must be assignable to the hint, and
  the hint is returned as the type.

  Raises:
    SerializationError: if `proto` is not a valid value, or does not fit
      `type_hint`; the message says where.
  """
  if not isinstance(proto, computation_pb2.Value):
    raise TypeError(
        f'Expected a computation_pb2.Value, found {type(proto).__name__}.')
  type_serialization.check_nesting_depth(proto, 'The value')
  return _read_top_level(proto, type_hint)


def deserialize_value_from_bytes(
    data: bytes, type_hint: Any = None) -> Tuple[Any, computation_types.Type]:
  """Like `deserialize_value`, for the bytes of `serialize_value_to_bytes`."""
  # The parser enforces the nesting limit, so no `check_nesting_depth` here.
  proto = type_serialization.parse_message(computation_pb2.Value, data,
                                           'a value')
  return _read_top_level(proto, type_hint)


def _read_top_level(proto: computation_pb2.Value,
                    type_hint: Any) -> Tuple[Any, computation_types.Type]:
  value, value_type = _read_value(proto, 'value')
  if type_hint is None:
    return value, value_type
  type_hint = computation_types.to_type(type_hint)
  if not type_hint.is_assignable_from(value_type):
    raise SerializationError(
        f'Expected a value of type {type_hint}, found one of type '
        f'{value_type}.')
  return value, type_hint


def _read_value(proto: computation_pb2.Value,
                where: str) -> Tuple[Any, computation_types.Type]:
  kind = proto.WhichOneof('value')
  reader = _READERS.get(kind)
  if reader is None:
    raise SerializationError(
        f'The value at {where} has no kind set (its `value` oneof is '
        f'empty); expected one of {sorted(_READERS)}.')
  return reader(getattr(proto, kind), f'{where}.{kind}')


def _read_array(proto: computation_pb2.Array, where: str):
  array = serialization.deserialize_array(proto, where)
  return array, computation_types.TensorType(array.dtype, array.shape)


def _read_struct(proto: computation_pb2.StructValue, where: str):
  names = [e.name or None for e in proto.element]
  named = [n for n in names if n is not None]
  if len(set(named)) != len(named):
    raise SerializationError(
        f'The struct at {where} repeats element names: {named}.')
  values, types = [], []
  for i, element in enumerate(proto.element):
    if not element.HasField('value'):
      raise SerializationError(
          f'The struct element at {where}.element[{i}] has no value.')
    value, value_type = _read_value(element.value,
                                    f'{where}.element[{i}].value')
    values.append(value)
    types.append(value_type)
  return (structure.Struct(list(zip(names, values))),
          computation_types.StructType(list(zip(names, types))))


def _read_sequence(proto: computation_pb2.SequenceValue, where: str):
  if not proto.HasField('element_type'):
    raise SerializationError(f'The sequence at {where} has no element_type.')
  element_type = type_serialization.read_type(proto.element_type,
                                              f'{where}.element_type')
  sequence_type = _fail_as_serialization(
      where, lambda: computation_types.SequenceType(element_type))
  elements = []
  for i, element in enumerate(proto.element):
    value, value_type = _read_value(element, f'{where}.element[{i}]')
    if not element_type.is_assignable_from(value_type):
      raise SerializationError(
          f'The sequence element at {where}.element[{i}] has type '
          f'{value_type}; the sequence holds {element_type}.')
    elements.append(value)
  return make_dataset(elements, element_type), sequence_type


def _read_federated(proto: computation_pb2.FederatedValue, where: str):
  if not proto.HasField('type'):
    raise SerializationError(f'The federated value at {where} has no type.')
  type_spec = type_serialization.read_type(proto.type, f'{where}.type')
  if not isinstance(type_spec, computation_types.FederatedType):
    raise SerializationError(
        f'The federated value at {where} has non-federated type {type_spec}.')
  members = []
  for i, member in enumerate(proto.member):
    value, value_type = _read_value(member, f'{where}.member[{i}]')
    if not type_spec.member.is_assignable_from(value_type):
      raise SerializationError(
          f'The member at {where}.member[{i}] has type {value_type}; the '
          f'federated value has type {type_spec}.')
    members.append(value)
  if proto.member_count:
    if not (type_spec.placement is placements.CLIENTS and
            type_spec.all_equal and len(members) == 1):
      raise SerializationError(
          f'The federated value at {where} has member_count '
          f'{proto.member_count}, which only an all-equal CLIENTS value with '
          f'one member may have; found {len(members)} members of type '
          f'{type_spec}.')
    if proto.member_count > _MAX_MEMBER_COUNT:
      raise SerializationError(
          f'The federated value at {where} has member_count '
          f'{proto.member_count}; at most {_MAX_MEMBER_COUNT} is accepted.')
    members = members * proto.member_count
  if type_spec.placement is placements.SERVER and len(members) != 1:
    raise SerializationError(
        f'The federated value at {where} of type {type_spec} needs exactly '
        f'one member; found {len(members)}.')
  return federated_value.FederatedValue(type_spec, members), type_spec


def _read_computation(proto: computation_pb2.Computation, where: str):
  block = serialization.read_building_block(
      proto, where, allow_free_references=False)
  if not isinstance(block.type_signature, computation_types.FunctionType):
    raise SerializationError(
        f'The computation at {where} has non-function type '
        f'{block.type_signature}.')
  return block, block.type_signature


_READERS = {
    'array': _read_array,
    'struct': _read_struct,
    'sequence': _read_sequence,
    'federated': _read_federated,
    'computation': _read_computation,
}


def _fail_as_serialization(where: str, build):
  try:
    return build()
  except (TypeError, ValueError) as e:
    raise SerializationError(f'Invalid value at {where}: {e}') from None


# ---------------------------------------------------------------------------
# Datasets from elements.


def make_dataset(elements: List[Any],
                 element_type: computation_types.Type) -> tf.data.Dataset:
  """Returns a dataset of `elements` whose element spec is `element_type`'s.

  Elements are executor values (arrays and `Struct`s). The dataset's
  elements are nests of tensors in the containers of
  `type_conversions.to_tf_spec(element_type)`, and unknown dimensions of the
  type stay unknown in the spec even when every element has the same shape.
  Elements are stacked per distinct shape, so this costs a few dataset ops,
  not one per element.
  """
  leaf_types = _leaf_types(element_type)
  groups = {}  # Leaf shapes -> (group index, [flat elements]).
  choices = []
  for element in elements:
    leaves = [np.asarray(leaf) for leaf in structure.flatten(element)]
    key = tuple(leaf.shape for leaf in leaves)
    index, members = groups.setdefault(key, (len(groups), []))
    members.append(leaves)
    choices.append(index)
  if not groups:
    groups[None] = (0, [])
  datasets = []
  for key, (_, members) in groups.items():
    columns = []
    for j, leaf_type in enumerate(leaf_types):
      if members:
        column = np.stack([m[j] for m in members])
      else:
        column = np.empty([0] + [d or 0 for d in (leaf_type.shape or ())],
                          dtype=object if leaf_type.dtype.kind == 'U' else
                          leaf_type.dtype)
      columns.append(tf.constant(column, dtype=leaf_type.tf_dtype))
    datasets.append(tf.data.Dataset.from_tensor_slices(tuple(columns)))
  if len(datasets) == 1:
    dataset = datasets[0]
  else:
    choice = tf.data.Dataset.from_tensor_slices(
        tf.constant(choices, dtype=tf.int64))
    dataset = tf.data.Dataset.choose_from_datasets(datasets, choice)
  specs = [t.shape for t in leaf_types]

  def relax_and_pack(*leaves):
    relaxed = [tf.compat.v1.placeholder_with_default(leaf, shape)
               for leaf, shape in zip(leaves, specs)]
    return _pack(element_type, iter(relaxed))

  return dataset.map(relax_and_pack)


def _leaf_types(type_spec: computation_types.Type) -> list:
  if isinstance(type_spec, computation_types.StructType):
    return [leaf for t in type_spec for leaf in _leaf_types(t)]
  if not isinstance(type_spec, computation_types.TensorType):
    raise SerializationError(
        f'A sequence element must be made of tensors; found {type_spec}.')
  return [type_spec]


def _pack(type_spec: computation_types.Type, leaves) -> Any:
  """Nests tensors like `type_conversions.to_tf_spec(type_spec)` nests specs."""
  if isinstance(type_spec, computation_types.StructType):
    pairs = [(n, _pack(t, leaves)) for n, t in type_spec.items()]
    container = type_spec.python_container
    if container is None:
      if all(n is not None for n, _ in pairs):
        return dict(pairs)
      return tuple(v for _, v in pairs)
    return python_containers.build(container, pairs)
  return next(leaves)
