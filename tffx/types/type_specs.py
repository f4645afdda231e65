"""Recognizes and normalizes the pieces of type specs: dtypes, shapes, names.

`computation_types` builds types from loose specs (`np.int32`, `tf.float32`,
`[2, None]`, `[('a', spec), ...]`, a container class). This module turns
those pieces into the canonical values a type stores (a `np.dtype`, a tuple
shape, validated `(name, spec)` pairs, a checked container class), says
which spec is which, and writes dtypes and containers back as source text.
It knows nothing about the `Type` classes and converts no element spec into
a type.
"""

import collections
from typing import Any, List, Optional, Tuple

import numpy as np
import tensorflow as tf

from tffx.types import errors
from tffx.types import python_containers

Shape = Optional[Tuple[Optional[int], ...]]

# tffx has one string dtype, as TensorFlow does; numpy's many string and
# object dtypes all map to it.
STRING_DTYPE = np.dtype(np.str_)


def to_numpy_dtype(dtype: Any) -> np.dtype:
  """Normalizes numpy dtypes, numpy scalar classes, names and `tf.DType`s.

  Raises:
    InvalidTypeError: if `dtype` is not a dtype TensorFlow can hold.
  """
  if dtype is None:
    raise errors.InvalidTypeError(
        'Expected a numpy dtype or a tf.DType, found None.')
  if isinstance(dtype, tf.dtypes.DType):
    if dtype == tf.string:
      return STRING_DTYPE
    if not dtype.is_numpy_compatible:
      raise errors.InvalidTypeError(
          f'Expected a tf.DType with a numpy counterpart, found {dtype!r}.')
    dtype = dtype.as_numpy_dtype
  try:
    result = np.dtype(dtype)
  except TypeError:
    raise errors.InvalidTypeError(
        f'Expected a numpy dtype or a tf.DType, found {dtype!r}.') from None
  if result.kind in ('U', 'S', 'O'):
    return STRING_DTYPE
  # Structured dtypes stand for TensorFlow's quantized types, which tffx
  # does not support; TensorFlow refuses the rest (datetimes, longdouble).
  supported = result.fields is None
  try:
    tf.as_dtype(result)
  except TypeError:
    supported = False
  if not supported:
    raise errors.InvalidTypeError(
        f'Expected a tensor dtype (bool, a number or str), found {result!r}.')
  # Byte order is how numpy stores a value, not part of its type.
  return result.newbyteorder('=') if result.byteorder == '>' else result


def to_shape(shape: Any) -> Shape:
  """Normalizes a shape to a tuple of `int | None`, or `None` for unknown rank.

  Raises:
    InvalidTypeError: if `shape` is not a shape.
  """
  if shape is None:
    return None
  if isinstance(shape, tf.TensorShape):
    return None if shape.rank is None else tuple(shape.as_list())
  if _is_dim(shape):
    shape = (shape,)
  try:
    dims = tuple(shape)
  except TypeError:
    raise errors.InvalidTypeError(
        f'Expected a shape (a sequence of ints or None), found {shape!r}.'
    ) from None
  for d in dims:
    if not (d is None or _is_dim(d) and d >= 0):
      raise errors.InvalidTypeError(
          f'Expected shape dimensions to be non-negative ints or None, '
          f'found {d!r} in shape {shape!r}.')
  return tuple(None if d is None else int(d) for d in dims)


def _is_dim(value) -> bool:
  return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def dtype_name(dtype: np.dtype) -> str:
  """The name of `dtype` in type strings: `int32`, `float32`, `str`."""
  return 'str' if dtype == STRING_DTYPE else dtype.name


def dtype_repr(dtype: np.dtype) -> str:
  """Python source for `dtype`, evaluated with numpy imported as `np`."""
  if dtype == STRING_DTYPE:
    return 'np.str_'
  if getattr(np, dtype.name, None) is dtype.type:
    return f'np.{dtype.name}'
  # bfloat16 and friends come from ml_dtypes, registered by TensorFlow.
  return f'np.dtype({dtype.name!r})'


def is_dtype_spec(spec: Any) -> bool:
  """Whether `spec` is a `np.dtype`, a numpy scalar class or a `tf.DType`."""
  return isinstance(spec, (tf.dtypes.DType, np.dtype)) or (
      isinstance(spec, type) and issubclass(spec, np.generic))


def is_shape_spec(spec: Any) -> bool:
  """Whether `spec` is a shape: a TensorShape, an int, or ints and Nones."""
  if isinstance(spec, tf.TensorShape) or _is_dim(spec):
    return True
  if isinstance(spec, (list, tuple)) and not python_containers.is_named_tuple(
      spec):
    return all(d is None or _is_dim(d) for d in spec)
  return False


def is_tensor_pair(spec: Any) -> bool:
  """Whether `spec` is a `(dtype, shape)` tuple; a shape of None is unknown."""
  return (type(spec) is tuple and len(spec) == 2 and
          is_dtype_spec(spec[0]) and
          (spec[1] is None or is_shape_spec(spec[1])))


def is_name_value_pair(spec: Any) -> bool:
  """Whether `spec` is a `(name, value)` tuple with a string name."""
  return type(spec) is tuple and len(spec) == 2 and isinstance(spec[0], str)


def element_pairs(elements: Any) -> List[Tuple[Optional[str], Any]]:
  """Splits the elements of a struct spec into `(name, spec)` pairs.

  `elements` is a Python container (dict, namedtuple, attrs, dataclass), or
  a list or tuple whose items are `(name, spec)` pairs, `(None, spec)`
  pairs, or bare specs (unnamed elements).

  Raises:
    InvalidTypeError: if `elements` is not one of these, or if a name is
      not a non-empty string or appears twice.
  """
  if isinstance(elements, (list, tuple)) and (
      not python_containers.is_named_tuple(elements)):
    pairs = [e if is_name_value_pair(e) or _is_unnamed_pair(e) else (None, e)
             for e in elements]
  elif python_containers.is_container(elements):
    pairs = python_containers.elements(elements)
  else:
    raise errors.InvalidTypeError(
        f'Expected struct elements as a list or a Python container, found '
        f'{elements!r}.')
  seen = set()
  for name, _ in pairs:
    if name is None:
      continue
    if not isinstance(name, str) or not name:
      raise errors.InvalidTypeError(
          f'Expected struct element names to be non-empty strings, found '
          f'{name!r}.')
    if name in seen:
      raise errors.InvalidTypeError(
          f'Expected unique struct element names, found {name!r} more than '
          f'once in {[n for n, _ in pairs]}.')
    seen.add(name)
  return pairs


def _is_unnamed_pair(spec: Any) -> bool:
  return type(spec) is tuple and len(spec) == 2 and spec[0] is None


def check_container(container_type: Any, names: List[Optional[str]]) -> None:
  """Checks that `container_type` can hold struct elements named `names`.

  Raises:
    InvalidTypeError: if `container_type` is not a container class, if a dict
      class gets an unnamed element, or if a namedtuple, attrs or dataclass
      class gets names other than its fields, in order.
  """
  if not python_containers.is_container_class(container_type):
    raise errors.InvalidTypeError(
        f'Expected a Python container class (list, tuple, dict, a '
        f'namedtuple, attrs or dataclass class), found {container_type!r}.')
  fields = python_containers.field_names(container_type)
  if fields is not None and names != fields:
    raise errors.InvalidTypeError(
        f'Expected the elements of a {container_type.__name__} struct to be '
        f'named after its fields {fields}, found names {names}.')
  if issubclass(container_type, dict) and None in names:
    raise errors.InvalidTypeError(
        f'Expected every element of a {container_type.__name__} struct to be '
        f'named, found names {names}.')


def container_repr(container_type: Optional[type]) -> str:
  """How a struct's Python container is written in reprs and messages."""
  if container_type is None:
    return 'no container (Struct)'
  if container_type is collections.OrderedDict:
    return 'collections.OrderedDict'
  return container_type.__qualname__
