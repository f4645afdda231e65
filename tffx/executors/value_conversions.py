"""Conversions between Python values and executor values, guided by types.

    type                 Python value (caller side)         executor value
    -------------------  ---------------------------------  -------------------
    T (tensor)           1.5, np.float32(1.5), [1., 2.],    np.ndarray
                         np.ndarray, eager tf.Tensor        (0-d for scalars)
    <a=T,b=U> (struct)   Struct, list, tuple, dict,         structure.Struct
                         namedtuple, attrs, dataclass       (names of the type)
    T* (sequence)        tf.data.Dataset, list of elements  tf.data.Dataset
    {T}@CLIENTS          [m_1, ..., m_n], one per client    FederatedValue, n
    T@CLIENTS, T@SERVER  m, the member itself               members (m repeated)
    (T -> U)             a Computation or building block    the building block
    placement            tffx.CLIENTS / tffx.SERVER         the literal

Going back (`to_python_value`), tensors become numpy arrays (numpy scalars
for 0-d; strings `bytes`, in object arrays, as TensorFlow gives them), structs their type's Python container (`Struct` when it has none),
sequences lists of elements, `{T}@CLIENTS` a list of members, and all-equal
or server values their single member.

Tensor leaves: numpy values must have the declared dtype or one that casts
to it safely (int32 -> int64, float32 -> float64); Python scalars and lists
convert by value (1 fits float32, 1.5 does not fit int32, 2**40 does not fit
int32). Shapes must fit the declared shape, whose `None` dimensions match any
size.

`count_clients` finds the number of clients an argument implies and
`to_executor_value` converts it; `to_dataset` and `dataset_elements` move
between datasets and lists of executor values. This module does not evaluate
computations.
"""

import functools
from typing import Any, List, Optional

import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks
from tffx.executors import dataset_values
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import python_containers
from tffx.types import structure
from tffx.types import type_conversions

# Python scalar dtype kinds and the tensor dtype kinds they convert to by value.
_PYTHON_KIND_TARGETS = {'b': 'b', 'i': 'iufc', 'f': 'fc', 'c': 'c'}
_STRING_KINDS = 'USO'


class _Mismatch(Exception):
  """A value does not fit a type; `to_executor_value` turns it into an error."""

  def __init__(self, path: str, expected: Any, value: Any, reason: str = ''):
    where = f'at {path}' if path else 'at the top level'
    found = _short_repr(value)
    super().__init__(f'{where}: expected {expected}, found {found}'
                     f'{"; " + reason if reason else ""}')


def _short_repr(value: Any) -> str:
  text = repr(value)
  if len(text) > 80:
    text = text[:77] + '...'
  return f'{text} ({type(value).__name__})'


# ---------------------------------------------------------------------------
# Counting clients.


def count_clients(value: Any, type_spec: Optional[ct.Type]) -> Optional[int]:
  """Returns the number of clients that the `{T}@CLIENTS` parts of `value` give.

  Only non-all-equal client values (Python lists, one member per client)
  say how many clients there are. Parts that do not fit the type are
  skipped here; `to_executor_value` reports them.

  Returns:
    The number of clients, or None when `value` has no such part.

  Raises:
    ClientCountError: if two client values have different lengths.
  """
  counts = []
  if type_spec is not None:
    _collect_counts(value, type_spec, '', counts)
  distinct = sorted({count for _, count in counts})
  if len(distinct) > 1:
    found = ', '.join(f'{path or "the argument"} has {count}'
                      for path, count in counts)
    raise errors.ClientCountError(
        f'Expected every client value to have one member per client, but '
        f'they give different numbers of clients ({distinct}): {found}. '
        f'Tip: a value that is the same on every client can be given once '
        f'only if its type is all-equal (T@CLIENTS).')
  return distinct[0] if distinct else None


def _collect_counts(value: Any, type_spec: ct.Type, path: str,
                    counts: list) -> None:
  if isinstance(type_spec, ct.FederatedType):
    if (type_spec.placement is placements.CLIENTS and
        not type_spec.all_equal and isinstance(value, list)):
      counts.append((path, len(value)))
  elif isinstance(type_spec, ct.StructType):
    try:
      values = _struct_values(value, type_spec, path)
    except _Mismatch:
      return
    for (label, element_type), element in zip(_labels(type_spec), values):
      _collect_counts(element, element_type, f'{path}[{label}]', counts)


def _labels(struct_type: ct.StructType):
  return [(repr(n) if n is not None else str(i), t)
          for i, (n, t) in enumerate(struct_type.items())]


# ---------------------------------------------------------------------------
# Python -> executor values.


def to_executor_value(value: Any, type_spec: Optional[ct.Type],
                      num_clients: int = 0) -> Any:
  """Converts a Python argument to an executor value of type `type_spec`.

  Args:
    value: The Python value (see the module docstring for the forms).
    type_spec: The parameter type; None for a computation of no parameter,
      in which case `value` must be None.
    num_clients: How many members all-equal client values get.

  Returns:
    The executor value.

  Raises:
    ArgumentTypeError: if `value` does not fit `type_spec`; the message names
      the expected type, the type the value seems to have, and where they
      first differ.
    ClientCountError: if a client value does not have `num_clients` members.
  """
  if type_spec is None:
    if value is not None:
      raise errors.ArgumentTypeError(
          f'Expected no argument, found {_short_repr(value)}.')
    return None
  try:
    return _convert(value, type_spec, num_clients, '')
  except _Mismatch as e:
    raise errors.ArgumentTypeError(
        f'Expected an argument of type {type_spec}, found one of type '
        f'{_guess_type(value, type_spec)}: {e}.') from None


def _convert(value: Any, type_spec: ct.Type, num_clients: int,
             path: str) -> Any:
  """Converts `value` to `type_spec`; raises `_Mismatch` if it does not fit."""
  if isinstance(type_spec, ct.TensorType):
    return _to_array(value, type_spec, path)
  if isinstance(type_spec, ct.StructType):
    values = _struct_values(value, type_spec, path)
    return structure.Struct([
        (name, _convert(v, t, num_clients, f'{path}[{label}]'))
        for (name, _), (label, t), v in zip(type_spec.items(),
                                            _labels(type_spec), values)
    ])
  if isinstance(type_spec, ct.SequenceType):
    return _to_sequence(value, type_spec, path)
  if isinstance(type_spec, ct.FederatedType):
    return _to_federated(value, type_spec, num_clients, path)
  if isinstance(type_spec, ct.FunctionType):
    block = value
    if hasattr(value, 'to_building_block'):
      block = value.to_building_block()
    if not isinstance(block, building_blocks.ComputationBuildingBlock):
      raise _Mismatch(path, type_spec, value, 'expected a computation')
    if not type_spec.is_assignable_from(block.type_signature):
      raise _Mismatch(path, type_spec, value,
                      f'the computation has type {block.type_signature}')
    return block
  if isinstance(type_spec, ct.PlacementType):
    if not isinstance(value, placements.PlacementLiteral):
      raise _Mismatch(path, type_spec, value)
    return value
  raise _Mismatch(path, type_spec, value, 'no value has an abstract type')


def _struct_values(value: Any, type_spec: ct.StructType, path: str) -> list:
  """Returns the elements of a struct-like `value` in `type_spec`'s order."""
  if isinstance(value, structure.Struct):
    pairs = list(value.items())
  elif python_containers.is_container(value):
    pairs = python_containers.elements(value)
  else:
    raise _Mismatch(path, type_spec, value, 'expected a struct or container')
  if len(pairs) != len(type_spec):
    raise _Mismatch(path, type_spec, value,
                    f'it has {len(pairs)} elements, the type {len(type_spec)}')
  names = type_spec.names()
  if isinstance(value, dict):
    # Dicts are matched by name, so their insertion order does not matter.
    if set(value) != set(names):
      raise _Mismatch(path, type_spec, value,
                      f'its keys {sorted(map(str, value))} differ from the '
                      f'element names {names}')
    return [value[n] for n in names]
  for i, ((value_name, _), name) in enumerate(zip(pairs, names)):
    if value_name is not None and value_name != name:
      raise _Mismatch(path, type_spec, value,
                      f'element {i} is named {value_name!r}, the type names '
                      f'it {name!r}')
  return [v for _, v in pairs]


def _to_array(value: Any, type_spec: ct.TensorType, path: str) -> np.ndarray:
  """Converts a tensor leaf; see the module docstring for the dtype rules."""
  dtype = type_spec.dtype
  if isinstance(value, (tf.Tensor, tf.Variable)):
    value = value.numpy()
  if isinstance(value, (np.ndarray, np.generic)):
    array = np.asarray(value)
    if dtype.kind in _STRING_KINDS:
      if array.dtype.kind not in _STRING_KINDS:
        raise _Mismatch(path, type_spec, value)
    elif array.dtype != dtype:
      if not np.can_cast(array.dtype, dtype, 'safe'):
        raise _Mismatch(
            path, type_spec, value,
            f'numpy dtype {array.dtype} does not cast safely to {dtype}. '
            f'Tip: convert it first, e.g. value.astype(np.{dtype.name})')
      array = array.astype(dtype)
  elif _is_python_scalars(value):
    array = _python_to_array(value, type_spec, path)
  else:
    raise _Mismatch(path, type_spec, value)
  shape = type_spec.shape
  if shape is not None and (len(shape) != array.ndim or any(
      d is not None and d != s for d, s in zip(shape, array.shape))):
    raise _Mismatch(path, type_spec, value, f'its shape is {array.shape}')
  return array


def _is_python_scalars(value: Any) -> bool:
  if isinstance(value, (bool, int, float, complex, str, bytes)):
    return True
  return isinstance(value, (list, tuple)) and all(
      _is_python_scalars(v) for v in value)


def _python_to_array(value: Any, type_spec: ct.TensorType,
                     path: str) -> np.ndarray:
  """Converts Python scalars (or nested lists of them) by value."""
  dtype = type_spec.dtype
  try:
    array = np.asarray(value)
  except ValueError:
    raise _Mismatch(path, type_spec, value, 'it is ragged') from None
  kind = array.dtype.kind
  if array.size == 0 and isinstance(value, (list, tuple)):
    return array.astype(dtype)  # An empty list has no dtype of its own.
  if dtype.kind in _STRING_KINDS:
    if kind not in 'US':
      raise _Mismatch(path, type_spec, value)
    return array
  if dtype.kind not in _PYTHON_KIND_TARGETS.get(kind, ''):
    raise _Mismatch(path, type_spec, value)
  converted = array.astype(dtype)
  if kind == 'i' and not np.array_equal(converted, array):
    raise _Mismatch(path, type_spec, value, f'it does not fit {dtype}')
  return converted


def _to_sequence(value: Any, type_spec: ct.SequenceType,
                 path: str) -> tf.data.Dataset:
  if isinstance(value, tf.data.Dataset):
    _check_dataset_fits(value, type_spec, path)
    return dataset_values.as_value(value)
  if not isinstance(value, (list, tuple)):
    raise _Mismatch(path, type_spec, value,
                    'expected a tf.data.Dataset or a list of elements')
  elements = [
      _convert(v, type_spec.element, 0, f'{path}[element {i}]')
      for i, v in enumerate(value)
  ]
  return to_dataset(elements, type_spec.element)


@functools.lru_cache(maxsize=256)
def _flat_specs(element_type: ct.Type) -> tuple:
  return tuple(tf.nest.flatten(type_conversions.to_tf_spec(element_type)))


def _check_dataset_fits(dataset: tf.data.Dataset, type_spec: ct.SequenceType,
                        path: str) -> None:
  """Compares the dataset's tensor leaves with the element type's, in order."""
  expected = _flat_specs(type_spec.element)
  found = tf.nest.flatten(dataset.element_spec)
  # Equal specs fit (the common case, checked first: ~10x faster).
  fits = len(expected) == len(found) and all(
      isinstance(f, tf.TensorSpec) and (f == e or ct.TensorType(
          e.dtype, e.shape).is_assignable_from(ct.TensorType(f.dtype, f.shape)))
      for e, f in zip(expected, found))
  if not fits:
    raise _Mismatch(path, type_spec, dataset,
                    f'its element spec is {dataset.element_spec}')


def _to_federated(value: Any, type_spec: ct.FederatedType, num_clients: int,
                  path: str) -> federated_value.FederatedValue:
  member_type = type_spec.member
  if type_spec.placement is placements.CLIENTS and not type_spec.all_equal:
    if not isinstance(value, list):
      raise _Mismatch(
          path, type_spec, value,
          'Tip: give a value placed at CLIENTS as a list with one member per '
          'client')
    if len(value) != num_clients:
      raise errors.ClientCountError(
          f'Expected {num_clients} clients at {path or "the argument"}, '
          f'found a list of {len(value)}.')
    members = [
        _convert(v, member_type, num_clients, f'{path}[client {i}]')
        for i, v in enumerate(value)
    ]
  else:
    member = _convert(value, member_type, num_clients, path)
    count = num_clients if type_spec.placement is placements.CLIENTS else 1
    members = [member] * count
  return federated_value.FederatedValue(type_spec, members)


def _guess_type(value: Any, type_spec: ct.Type) -> str:
  """The type `value` seems to have, shaped like `type_spec` where it can be."""
  try:
    return str(_infer_like(value, type_spec))
  except (TypeError, ValueError):
    return f'Python {type(value).__name__}'


def _infer_like(value: Any, type_spec: ct.Type) -> ct.Type:
  if isinstance(type_spec, ct.FederatedType):
    if type_spec.placement is placements.CLIENTS and not type_spec.all_equal:
      if not isinstance(value, list):
        return type_conversions.infer_type(value)
      member = _infer_like(value[0], type_spec.member) if value else (
          type_spec.member)
      return ct.FederatedType(member, placements.CLIENTS)
    return ct.FederatedType(_infer_like(value, type_spec.member),
                            type_spec.placement, type_spec.all_equal)
  if isinstance(type_spec, ct.StructType) and (
      isinstance(value, structure.Struct) or
      python_containers.is_container(value)):
    pairs = (list(value.items()) if isinstance(value, structure.Struct) else
             python_containers.elements(value))
    if len(pairs) == len(type_spec):
      return ct.StructType([(n, _infer_like(v, t))
                            for (n, v), t in zip(pairs, type_spec)])
  if isinstance(type_spec, ct.SequenceType) and isinstance(value, list):
    element = _infer_like(value[0], type_spec.element) if value else (
        type_spec.element)
    return ct.SequenceType(element)
  return type_conversions.infer_type(value)


# ---------------------------------------------------------------------------
# Executor values -> Python.


def to_python_value(value: Any, type_spec: Optional[ct.Type]) -> Any:
  """Converts an executor result of type `type_spec` to a Python value.

  Raises:
    ClientCountError: for an all-equal client result when there are no
      clients, so that there is no member to return.
  """
  if isinstance(type_spec, ct.TensorType):
    array = np.asarray(value)
    if array.dtype.kind in _STRING_KINDS:
      array = _as_bytes(array)
    return array[()] if array.ndim == 0 else array
  if isinstance(type_spec, ct.StructType):
    pairs = [(name, to_python_value(v, t))
             for (name, t), v in zip(type_spec.items(), value)]
    container = type_spec.python_container
    if container is None:
      return structure.Struct(pairs)
    return python_containers.build(container, pairs)
  if isinstance(type_spec, ct.SequenceType):
    if isinstance(value, tf.data.Dataset):
      value = dataset_elements(value, type_spec.element)
    return [to_python_value(e, type_spec.element) for e in value]
  if isinstance(type_spec, ct.FederatedType):
    if type_spec.placement is placements.CLIENTS and not type_spec.all_equal:
      return [to_python_value(m, type_spec.member) for m in value.members]
    if not value.members:
      raise errors.ClientCountError(
          f'Expected a member to return for the result of type {type_spec}, '
          f'but the computation ran with 0 clients. Tip: pass client values '
          f'or set default_num_clients on the execution context.')
    return to_python_value(value.members[0], type_spec.member)
  return value


def _as_bytes(array: np.ndarray) -> np.ndarray:
  """Strings as TensorFlow returns them: `bytes` in an object array."""
  result = np.empty(array.shape, dtype=object)
  for index, s in np.ndenumerate(array):
    result[index] = s.encode('utf-8') if isinstance(s, str) else bytes(s)
  return result


# ---------------------------------------------------------------------------
# Datasets.


def to_dataset(elements: List[Any], element_type: ct.Type) -> tf.data.Dataset:
  """Builds a `tf.data.Dataset` from executor values of type `element_type`.

  The dataset's elements are nested like `type_conversions.to_tf_spec`
  (dicts for named structs, tuples otherwise), so TensorFlow graphs built
  for `element_type` read them.
  """
  nests = [_to_tf_nest(e, element_type) for e in elements]
  if not nests:
    return tf.data.Dataset.from_tensor_slices(_empty_batch(element_type))
  shapes = [[np.shape(leaf) for leaf in tf.nest.flatten(n)] for n in nests]
  if all(s == shapes[0] for s in shapes):
    stacked = tf.nest.map_structure(lambda *leaves: np.stack(leaves), *nests)
    return tf.data.Dataset.from_tensor_slices(stacked)
  # Elements of different shapes cannot be stacked; concatenating one-element
  # datasets relaxes the element shape to fit all of them.
  return functools.reduce(lambda a, b: a.concatenate(b),
                          [tf.data.Dataset.from_tensors(n) for n in nests])


def dataset_elements(dataset: tf.data.Dataset,
                     element_type: ct.Type) -> List[Any]:
  """Returns the elements of `dataset` as executor values of `element_type`."""
  return [_from_tf_nest(e, element_type) for e in dataset.as_numpy_iterator()]


def _to_tf_nest(value: Any, type_spec: ct.Type) -> Any:
  if not isinstance(type_spec, ct.StructType):
    return np.asarray(value)
  pairs = [(n, _to_tf_nest(v, t)) for (n, t), v in zip(type_spec.items(),
                                                        value)]
  container = type_spec.python_container
  if container is not None and (issubclass(container, dict) or
                                hasattr(container, '_fields') or
                                hasattr(container, '__attrs_attrs__')):
    return python_containers.build(container, pairs)
  if pairs and all(n is not None for n, _ in pairs) and container is None:
    return dict(pairs)
  # Lists would be read by tf.data as one stacked tensor, so use tuples.
  return tuple(v for _, v in pairs)


def _from_tf_nest(nest: Any, type_spec: ct.Type) -> Any:
  if not isinstance(type_spec, ct.StructType):
    return np.asarray(nest)
  if isinstance(nest, dict):
    values = [nest[n] for n in type_spec.names()]
  else:
    values = [v for _, v in python_containers.elements(nest)]
  return structure.Struct([(n, _from_tf_nest(v, t))
                           for (n, t), v in zip(type_spec.items(), values)])


def _empty_batch(type_spec: ct.Type) -> Any:
  """A nest of zero-length arrays whose slices have type `type_spec`."""
  if isinstance(type_spec, ct.TensorType):
    dims = (0,) if type_spec.shape is None else tuple(
        d or 0 for d in type_spec.shape)
    return np.zeros((0,) + dims, dtype=type_spec.dtype)
  return _to_tf_nest(
      structure.Struct([(n, _empty_batch(t)) for n, t in type_spec.items()]),
      type_spec)
