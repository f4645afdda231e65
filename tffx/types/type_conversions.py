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

_INT32_RANGE = (np.iinfo(np.int32).min, np.iinfo(np.int32).max)


def infer_type(value: Any) -> computation_types.Type:
  """Returns the tffx type of a Python, numpy or TensorFlow value.

  Python ints become int32 (int64 when out of int32's range), floats float32,
  bools bool, str/bytes str. Containers become `StructWithPythonType`s,
  `Struct`s plain `StructType`s, datasets `SequenceType`s, and objects with a
  `type_signature` (computations, traced values) that type.

  Raises:
    UnsupportedTypeSpecError: if no type fits.
  """
  type_signature = getattr(value, 'type_signature', None)
  if isinstance(type_signature, computation_types.Type):
    return type_signature
  if isinstance(value, computation_types.Type):
    raise errors.UnsupportedTypeSpecError(
        f'Expected a value, found the type {value}; use to_type for specs.')
  if isinstance(value, (tf.Tensor, tf.Variable)):
    return computation_types.TensorType(value.dtype, value.shape)
  if isinstance(value, tf.data.Dataset):
    return computation_types.SequenceType(
        computation_types.to_type(value.element_spec))
  if isinstance(value, bool):
    return computation_types.TensorType(np.bool_)
  if isinstance(value, int):
    lo, hi = _INT32_RANGE
    return computation_types.TensorType(np.int32 if lo <= value <= hi else
                                        np.int64)
  if isinstance(value, float):
    return computation_types.TensorType(np.float32)
  if isinstance(value, (str, bytes)):
    return computation_types.TensorType(np.str_)
  if isinstance(value, (np.ndarray, np.generic)):
    return computation_types.TensorType(value.dtype, value.shape)
  if isinstance(value, structure.Struct):
    return computation_types.StructType([(n, infer_type(v))
                                         for n, v in value.items()])
  if python_containers.is_container(value):
    return computation_types.StructWithPythonType(
        [(n, infer_type(v)) for n, v in python_containers.elements(value)],
        type(value))
  raise errors.UnsupportedTypeSpecError(
      f'Cannot infer a tffx type for {value!r} of Python type '
      f'{type(value).__name__}.')


def to_tf_spec(type_spec: computation_types.Type) -> Any:
  """Returns the `tf.TensorSpec`/`tf.data.DatasetSpec` nest for a type.

  Structs become their Python containers (a `Struct`-free nest: plain
  `StructType`s become lists or OrderedDict-like dicts by names).

  Raises:
    TypeError: for types with no TensorFlow counterpart (federated, ...).
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
  raise TypeError(f'Type {type_spec} has no TensorFlow spec.')
