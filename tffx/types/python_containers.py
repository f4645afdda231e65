"""Recognizes the Python containers that map to structs, and builds them back.

Containers: list, tuple, dict (and OrderedDict), namedtuple, attrs classes and
dataclasses. `elements` takes one apart into `(name, value)` pairs and `build`
puts one together from such pairs. Nothing here knows about tffx types.
"""

import dataclasses
from typing import Any, Iterable, Optional, Tuple


def is_named_tuple(value) -> bool:
  return isinstance(value, tuple) and hasattr(type(value), '_fields')


def is_attrs(value) -> bool:
  # attrs classes carry `__attrs_attrs__`; checking for it spares a dependency.
  return hasattr(type(value), '__attrs_attrs__') and not isinstance(value, type)


def is_dataclass(value) -> bool:
  return dataclasses.is_dataclass(value) and not isinstance(value, type)


def is_container(value) -> bool:
  """Whether `value` is a Python container that converts to a struct."""
  return isinstance(value, (list, tuple, dict)) or is_attrs(
      value) or is_dataclass(value)


def elements(container: Any) -> Optional[list]:
  """Returns `[(name, value), ...]` for a Python container, or None."""
  if isinstance(container, dict):
    return list(container.items())
  if is_named_tuple(container):
    return list(container._asdict().items())
  if is_attrs(container):
    return [(f.name, getattr(container, f.name))
            for f in type(container).__attrs_attrs__]
  if is_dataclass(container):
    return [(f.name, getattr(container, f.name))
            for f in dataclasses.fields(container)]
  if isinstance(container, (list, tuple)):
    return [(None, v) for v in container]
  return None


def build(container_type: type, pairs: Iterable[Tuple[Optional[str], Any]]):
  """Builds an instance of `container_type` from `(name, value)` pairs.

  Raises:
    ValueError: if a container that needs names gets unnamed values.
  """
  pairs = list(pairs)
  if issubclass(container_type, (list,)) or container_type is tuple:
    return container_type(v for _, v in pairs)
  names = [n for n, _ in pairs]
  if any(n is None for n in names):
    raise ValueError(
        f'Cannot build a {container_type.__name__} from unnamed values; '
        f'names: {names}.')
  if issubclass(container_type, dict):
    return container_type(pairs)
  if issubclass(container_type, tuple) and hasattr(container_type, '_fields'):
    return container_type(**dict(pairs))
  if issubclass(container_type, tuple):
    return container_type(v for _, v in pairs)
  return container_type(**dict(pairs))
