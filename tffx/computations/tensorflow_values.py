"""How values meet the leaves of TensorFlow graphs, for tracing and running.

    struct_elements(value, type)   a struct's elements in the type's order,
                                   matched by name when the value has names
    leaf_array(value, tensor type) a Python/numpy value for a tensor leaf,
                                   refusing lossy casts (1.5 or 2**40 to int32)
    conform_dataset(ds, element)   a dataset whose element spec flattens the
                                   way a graph built for `element` reads it
    build_struct(type, pairs)      a struct value: its Python container, or a
                                   `Struct` for a plain `StructType`

Used by `tensorflow_computation` (arguments of nested calls while tracing)
and `tffx.executors.tensorflow_runner` (arguments of graph runs). Nothing
here builds or runs graphs.
"""

import collections.abc
from typing import Any

import numpy as np
import tensorflow as tf

from tffx.types import computation_types as ct
from tffx.types import python_containers
from tffx.types import structure
from tffx.types import type_conversions


def build_struct(type_spec: ct.StructType, pairs: list) -> Any:
  """The value of a struct: its Python container, else a `Struct`."""
  container = type_spec.python_container
  if container is None:
    return structure.Struct(pairs)
  return python_containers.build(container, pairs)


def describe(value: Any) -> str:
  """A short description of a value for error messages."""
  text = repr(value)
  if len(text) > 80:
    text = text[:77] + '...'
  return f'{type(value).__name__} {text}'


def leaf_array(value: Any, type_spec: ct.TensorType, where: str) -> Any:
  """Converts a Python or numpy value for a tensor leaf, refusing lossy casts.

  numpy values must have the leaf's dtype or one that casts to it safely
  (int32 -> int64); Python scalars and lists convert by value (1 fits
  float32; 1.5 and 2**40 do not fit int32). String leaves take str and
  bytes values. Returns a numpy array (or the value, for strings).

  Raises:
    TypeError: if the value does not fit.
  """
  target = type_spec.dtype
  if target.kind not in 'biufc':
    return value
  if isinstance(value, (np.ndarray, np.generic)):
    if not np.can_cast(value.dtype, target, 'safe'):
      raise TypeError(f'expected {type_spec} at {where}, found a numpy value '
                      f'of dtype {value.dtype}, which does not cast safely')
    return np.asarray(value, target)
  if isinstance(value, (structure.Struct, tf.data.Dataset, dict, str, bytes)):
    raise TypeError(f'expected {type_spec} at {where}, found '
                    f'{describe(value)}')
  try:
    array = np.asarray(value)
  except (TypeError, ValueError) as e:
    raise TypeError(f'expected {type_spec} at {where}, found '
                    f'{describe(value)}') from e
  if not _fits_by_value(array, target):
    raise TypeError(f'expected {type_spec} at {where}, found '
                    f'{describe(value)}, which does not fit')
  return array.astype(target)


def _fits_by_value(array: np.ndarray, target: np.dtype) -> bool:
  source = array.dtype.kind
  if target.kind == 'b':
    return source == 'b'
  if target.kind in 'iu':
    if source not in 'biu':
      return False
    info = np.iinfo(target)
    return array.size == 0 or (array.min() >= info.min and
                               array.max() <= info.max)
  if target.kind == 'f':
    return source in 'biuf'
  return source in 'biufc'


def conform_dataset(dataset: tf.data.Dataset,
                    element_type: ct.Type) -> tf.data.Dataset:
  """Returns `dataset` with elements shaped as `element_type`'s tf spec says.

  A graph reads a dataset's components in the order in which its element
  spec flattens them (`tf.nest` order: dicts by sorted key, other containers
  by position). A dataset whose elements use another container (say a
  namedtuple where the type has a dict) is mapped to the expected one,
  matching struct elements by name when both sides have names.

  Raises:
    TypeError: if the elements do not fit `element_type`.
  """
  expected = type_conversions.to_tf_spec(element_type)
  actual = dataset.element_spec
  if _same_layout(expected, actual):
    _check_flat_specs(expected, actual, element_type)
    return dataset
  unpack = type(actual) is tuple  # pylint: disable=unidiomatic-typecheck

  def restructure(*components):
    element = components if unpack else components[0]
    return _as_spec_structure(element, element_type)

  result = dataset.map(restructure)
  _check_flat_specs(expected, result.element_spec, element_type)
  return result


def _same_layout(expected, actual) -> bool:
  """Whether two element specs nest alike, so that they flatten alike."""
  if isinstance(expected, tf.TypeSpec) or isinstance(actual, tf.TypeSpec):
    return isinstance(expected, tf.TypeSpec) and isinstance(actual, tf.TypeSpec)
  expected_pairs = python_containers.elements(expected)
  actual_pairs = python_containers.elements(actual)
  if (expected_pairs is None or actual_pairs is None or
      len(expected_pairs) != len(actual_pairs) or
      isinstance(expected, collections.abc.Mapping) != isinstance(
          actual, collections.abc.Mapping)):
    return False
  if isinstance(expected, collections.abc.Mapping):
    # `tf.nest` flattens every mapping in sorted key order.
    return set(expected) == set(actual) and all(
        _same_layout(v, actual[k]) for k, v in expected.items())
  expected_names = [n for n, _ in expected_pairs]
  actual_names = [n for n, _ in actual_pairs]
  if None not in expected_names and None not in actual_names and (
      expected_names != actual_names):
    return False
  return all(_same_layout(e, a) for (_, e), (_, a) in zip(expected_pairs,
                                                          actual_pairs))


def _as_spec_structure(value: Any, type_spec: ct.Type) -> Any:
  if not isinstance(type_spec, ct.StructType):
    return value
  values = struct_elements(value, type_spec)
  pairs = [(n, _as_spec_structure(v, t))
           for (n, t), v in zip(type_spec.items(), values)]
  if type_spec.python_container is None:
    # Mirrors `type_conversions.to_tf_spec` for plain structs.
    if all(n is not None for n, _ in pairs):
      return dict(pairs)
    return tuple(v for _, v in pairs)
  return python_containers.build(type_spec.python_container, pairs)


def _check_flat_specs(expected, actual, element_type: ct.Type) -> None:
  expected_flat = tf.nest.flatten(expected)
  actual_flat = tf.nest.flatten(actual)
  if len(expected_flat) != len(actual_flat) or any(
      not isinstance(a, tf.TensorSpec) or e.dtype != a.dtype or
      not e.shape.is_compatible_with(a.shape)
      for e, a in zip(expected_flat, actual_flat)):
    raise TypeError(f'expected a dataset of {element_type}, found one with '
                    f'element spec {actual!r}')


def struct_elements(value: Any, type_spec: ct.StructType) -> list:
  """The element values of a struct value, in the order of `type_spec`.

  `value` is a `Struct` or a Python container. Elements are matched by name
  when the value names every element with the type's names, else by
  position.

  Raises:
    TypeError: if `value` is not a struct of `len(type_spec)` elements.
  """
  if isinstance(value, structure.Struct):
    pairs = list(value.items())
  else:
    pairs = python_containers.elements(value)
    if pairs is None or isinstance(value, (str, bytes)):
      raise TypeError(f'expected a struct of type {type_spec}, found '
                      f'{describe(value)}')
  if len(pairs) != len(type_spec):
    raise TypeError(f'expected a struct of {len(type_spec)} elements '
                    f'({type_spec}), found {len(pairs)}: {describe(value)}')
  names = type_spec.names()
  value_names = [n for n, _ in pairs]
  if value_names != names and None not in names and sorted(
      value_names, key=str) == sorted(names):
    by_name = dict(pairs)
    return [by_name[n] for n in names]
  return [v for _, v in pairs]
