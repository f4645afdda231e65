"""Recognizes the Python containers that map to structs, and builds them back.

Containers: list, tuple, dict (and OrderedDict), namedtuple, attrs classes and
dataclasses. `elements` takes one apart into `(name, value)` pairs and `build`
puts one together from such pairs. Nothing here knows about tffx types.

attrs is not a dependency: an attrs class is recognized by the
`__attrs_attrs__` attribute that attrs puts on every class it decorates.
"""

import dataclasses
from typing import Any, Iterable, List, Optional, Tuple


def is_named_tuple(value) -> bool:
  """Whether `value` is an instance of a `collections.namedtuple` class."""
  return isinstance(value, tuple) and hasattr(type(value), '_fields')


def is_attrs(value) -> bool:
  """Whether `value` is an instance of an attrs class."""
  return hasattr(type(value), '__attrs_attrs__') and not isinstance(value, type)


def is_dataclass(value) -> bool:
  """Whether `value` is an instance of a dataclass."""
  return dataclasses.is_dataclass(value) and not isinstance(value, type)


def is_container(value) -> bool:
  """Whether `value` is a Python container that converts to a struct."""
  return isinstance(value, (list, tuple, dict)) or is_attrs(
      value) or is_dataclass(value)


def is_container_class(cls) -> bool:
  """Whether instances of the class `cls` are containers (`is_container`)."""
  return isinstance(cls, type) and (
      issubclass(cls, (list, tuple, dict)) or
      hasattr(cls, '__attrs_attrs__') or dataclasses.is_dataclass(cls))


def field_names(cls: type) -> Optional[List[str]]:
  """The element names fixed by a container class, or None if it fixes none.

  namedtuple, attrs and dataclass classes fix their field names and order;
  list, tuple and dict classes do not.
  """
  if issubclass(cls, tuple) and hasattr(cls, '_fields'):
    return list(cls._fields)
  if hasattr(cls, '__attrs_attrs__'):
    return [f.name for f in cls.__attrs_attrs__]
  if dataclasses.is_dataclass(cls):
    return [f.name for f in dataclasses.fields(cls)]
  return None


def needs_names(cls: type) -> bool:
  """Whether every element of a `cls` container must have a name."""
  return issubclass(cls, dict) or field_names(cls) is not None


def elements(container: Any) -> Optional[list]:
  """Returns `[(name, value), ...]` for a Python container, or None."""
  if isinstance(container, dict):
    return list(container.items())
  if is_named_tuple(container):
    return list(zip(container._fields, container))
  if is_attrs(container) or is_dataclass(container):
    return [(n, getattr(container, n)) for n in field_names(type(container))]
  if isinstance(container, (list, tuple)):
    return [(None, v) for v in container]
  return None


def build(container_type: type, pairs: Iterable[Tuple[Optional[str], Any]]):
  """Builds an instance of `container_type` from `(name, value)` pairs.

  Lists and tuples ignore the names; the other containers need them.

  Raises:
    ValueError: if a container that needs names gets unnamed values.
  """
  pairs = list(pairs)
  if not needs_names(container_type):
    return container_type(v for _, v in pairs)
  names = [n for n, _ in pairs]
  if any(n is None for n in names):
    raise ValueError(
        f'Expected a name for every value of a {container_type.__name__}, '
        f'found names {names}.')
  if issubclass(container_type, dict):
    return container_type(pairs)
  return container_type(**dict(pairs))
