"""`transform_args` / `transform_result`: eager TensorFlow values as numpy.

    transform_args(args)       every eager `tf.Tensor` / `tf.Variable` leaf
    transform_result(result)   of a nested structure becomes its numpy value

As TFF's `tff.tensorflow.transform_args` / `transform_result`, the hooks an
execution context applies to the arguments and results of TensorFlow
computations. Containers (lists, tuples, mappings, namedtuples, attrs
classes and dataclasses) are rebuilt with the same type and order (dicts
keep their insertion order), and any other leaf
(numpy values, Python numbers, datasets, symbolic tensors) is returned as
it is. tffx's contexts already accept eager tensors and return numpy
values, so these are for code that calls them directly.
"""

import collections.abc
from typing import Any

import tensorflow as tf

from tffx.types import python_containers
from tffx.types import structure


def _to_numpy(value: Any) -> Any:
  if isinstance(value, tf.Variable):
    return value.read_value().numpy()
  if isinstance(value, tf.Tensor) and not tf.is_symbolic_tensor(value):
    return value.numpy()
  if isinstance(value, structure.Struct):
    return structure.Struct([(n, _to_numpy(v))
                             for n, v in structure.iter_elements(value)])
  pairs = python_containers.elements(value)
  if pairs is not None:
    return python_containers.build(type(value),
                                   [(n, _to_numpy(v)) for n, v in pairs])
  if isinstance(value, collections.abc.Mapping):
    return type(value)((k, _to_numpy(v)) for k, v in value.items())
  return value


def transform_args(args: object) -> object:
  """Transforms the arguments of TensorFlow computations (see module doc)."""
  return _to_numpy(args)


def transform_result(result: object) -> object:
  """Transforms the results of TensorFlow computations (see module doc)."""
  return _to_numpy(result)
