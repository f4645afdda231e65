"""Conversions between tffx types and Python, numpy and TensorFlow values.

`infer_type(value)` gives the type of a value; `to_tf_spec(type)` gives the
`tf.TypeSpec` nest for a type. This module does not serialize anything.
"""

from typing import Any

import numpy as np
import tensorflow as tf

from tffx.types import computation_types
from tffx.types import errors
from tffx.types import python_containers
from tffx.types import structure

_INT32 = np.iinfo(np.int32)
_INT64 = np.iinfo(np.int64)


def infer_type(value: Any) -> computation_types.Type:
  """Returns the tffx type of a Python, numpy or TensorFlow value.

  Python ints become int32 (int64 when out of int32's range), floats float32,
  bools bool, str/bytes str; numpy values and tensors keep their dtype and
  shape. Containers become `StructWithPythonType`s,
  `Struct`s plain `StructType`s, datasets `SequenceType`s, and objects with a
  `type_signature` (computations, traced values) that type.

  Raises:
    UnsupportedTypeSpecError: if no type fits (None, objects, ints beyond
      int64).
    InvalidTypeError: if the value's type cannot exist (a dataset of
      datasets).
  """
  type_signature = getattr(value, 'type_signature', None)
  if isinstance(type_signature, computation_types.Type):
    return type_signature
  if isinstance(value, computation_types.Type):
    raise errors.UnsupportedTypeSpecError(
        f'Expected a value, found the type {value}; use to_type for specs.')
  if isinstance(value, (tf.Tensor, tf.Variable)):
    return computation_types.TensorType(value.dtype, value.shape)
  # Other objects with `__tf_tensor__` (TensorFlow's conversion protocol),
  # e.g. Keras 3 variables such as a Keras model's `trainable_variables`.
  if hasattr(type(value), '__tf_tensor__'):
    if hasattr(value, 'dtype') and hasattr(value, 'shape'):
      return computation_types.TensorType(
          tf.as_dtype(value.dtype), tf.TensorShape(value.shape))
    tensor = tf.convert_to_tensor(value)
    return computation_types.TensorType(tensor.dtype, tensor.shape)
  if isinstance(value, tf.data.Dataset):
    return computation_types.SequenceType(
        computation_types.to_type(value.element_spec))
  # Before the Python scalars: np.float64 is a subclass of float.
  if isinstance(value, (np.ndarray, np.generic)):
    return computation_types.TensorType(value.dtype, value.shape)
  if isinstance(value, bool):
    return computation_types.TensorType(np.bool_)
  if isinstance(value, int):
    if _INT32.min <= value <= _INT32.max:
      return computation_types.TensorType(np.int32)
    if _INT64.min <= value <= _INT64.max:
      return computation_types.TensorType(np.int64)
    raise errors.UnsupportedTypeSpecError(
        f'Expected an int within the range of int64, found {value}.')
  if isinstance(value, float):
    return computation_types.TensorType(np.float32)
  if isinstance(value, (str, bytes)):
    return computation_types.TensorType(np.str_)
  if isinstance(value, structure.Struct):
    return computation_types.StructType([(n, infer_type(v))
                                         for n, v in value.items()])
  if isinstance(value, dict):
    # A dict, not pairs, so that non-string keys are refused as names.
    return computation_types.StructWithPythonType(
        {k: infer_type(v) for k, v in value.items()}, type(value))
  if python_containers.is_container(value):
    return computation_types.StructWithPythonType(
        [(n, infer_type(v)) for n, v in python_containers.elements(value)],
        type(value))
  raise errors.UnsupportedTypeSpecError(
      f'Expected a tensor-like value (number, bool, str, numpy array, '
      f'tf.Tensor), a dataset, or a Python container of these; found '
      f'{value!r} of Python type {type(value).__name__}.')


def to_tf_spec(type_spec: computation_types.Type) -> Any:
  """Returns the `tf.TensorSpec`/`tf.data.DatasetSpec` nest for a type.

  Structs become their Python containers; plain `StructType`s become dicts
  when every element is named and tuples otherwise (dropping any names).

  Raises:
    TypeError: for types with no TensorFlow counterpart (federated,
      function, abstract and placement types).
  """
  if isinstance(type_spec, computation_types.TensorType):
    return tf.TensorSpec(type_spec.shape, type_spec.tf_dtype)
  if isinstance(type_spec, computation_types.SequenceType):
    return tf.data.DatasetSpec(to_tf_spec(type_spec.element))
  if isinstance(type_spec, computation_types.StructType):
    pairs = [(n, to_tf_spec(t)) for n, t in type_spec.items()]
    container = type_spec.python_container
    if container is None:
      if all(n is not None for n, _ in pairs):
        return dict(pairs)
      return tuple(v for _, v in pairs)
    return python_containers.build(container, pairs)
  raise TypeError(
      f'Expected a tensor, struct or sequence type, found {type_spec}, which '
      f'has no TensorFlow spec.')


def tensorflow_to_type(obj: Any) -> computation_types.Type:
  """Returns the type for `obj` holding TensorFlow type specs.

  `tf.DType`s, `(dtype, tf.TensorShape)` pairs, `tf.TensorSpec`s and
  `tf.data.DatasetSpec`s, alone or in Python containers (TFF's
  `tff.types.tensorflow_to_type`; `to_type` accepts all of these).
  """
  return computation_types.to_type(obj)


def type_to_tf_tensor_specs(type_spec: Any) -> Any:
  """Returns the `tf.TensorSpec` nest for a tensor or struct type (spec)."""
  return to_tf_spec(computation_types.to_type(type_spec))


def type_from_tensors(tensors: Any) -> computation_types.Type:
  """Returns the type of a tensor, or of a nest of tensors and `Struct`s."""
  return infer_type(tensors)


def structure_from_tensor_type_tree(fn, type_spec: computation_types.Type
                                   ) -> Any:
  """Applies `fn` to each `TensorType` leaf of `type_spec`, keeping the nesting.

  Structs become their type's Python container (`Struct` for a plain
  `StructType`), as `type_to_py_container` makes them.

  Raises:
    ValueError: if `type_spec` holds anything but tensors and structs.
  """

  def build(spec):
    if isinstance(spec, computation_types.TensorType):
      return fn(spec)
    if isinstance(spec, computation_types.StructType):
      return structure.Struct([(name, build(element))
                               for name, element in spec.items()])
    raise ValueError(f'Expected a structure of tensor types, found {spec} '
                     f'in {type_spec}.')

  return type_to_py_container(build(type_spec), type_spec)


def type_to_py_container(value: Any, type_spec: computation_types.Type) -> Any:
  """Rebuilds the Python containers recorded in `type_spec` around `value`.

  Struct values become their type's container (plain `StructType`s stay
  `Struct`s); the members of a federated value are converted one by one
  (a list of them when the value is not all-equal).
  """
  if isinstance(type_spec, computation_types.FederatedType):
    if type_spec.all_equal:
      return type_to_py_container(value, type_spec.member)
    return [type_to_py_container(v, type_spec.member) for v in value]
  return structure.to_python(value, type_spec)
