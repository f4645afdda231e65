"""`Struct`: the value of a `StructType` inside tffx, plus helpers over nests.

Executors carry struct values as `Struct`s (ordered, optionally named
elements) rather than Python containers, because a `StructType` need not have
a container. `from_container` and `to_python` convert at the edges.

    Struct([('a', 1), (None, 2)])   ->  s.a == 1, s[1] == 2, len(s) == 2
"""

from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from tffx.types import computation_types
from tffx.types import python_containers
from tffx.types import struct_value

Struct = struct_value.Struct


def from_container(value: Any, recursive: bool = False) -> Any:
  """Turns a Python container (list, dict, namedtuple, ...) into a `Struct`.

  Non-containers are returned as they are. With `recursive`, nested
  containers are converted too.
  """
  if isinstance(value, Struct):
    if not recursive:
      return value
    return Struct([(n, from_container(v, True)) for n, v in value.items()])
  if not python_containers.is_container(value):
    return value
  pairs = python_containers.elements(value)
  if recursive:
    pairs = [(n, from_container(v, True)) for n, v in pairs]
  return Struct(pairs)


def to_python(value: Any, type_spec: computation_types.Type) -> Any:
  """Rebuilds the Python containers recorded in `type_spec` around `value`.

  Struct values whose type is a plain `StructType` stay `Struct`s; federated
  values are returned as they are (see the executors' value conversions).

  Raises:
    TypeError: if a struct value has a different number of elements than its
      type.
  """
  if isinstance(type_spec, computation_types.StructType):
    if not isinstance(value, Struct):
      value = from_container(value)
    if len(value) != len(type_spec):
      raise TypeError(f'Expected a value with {len(type_spec)} elements for '
                      f'type {type_spec}, found {len(value)} in {value!r}.')
    pairs = [(n, to_python(v, t)) for (n, v), t in zip(value.items(),
                                                      type_spec)]
    container = type_spec.python_container
    if container is None:
      return Struct([(tn, v) for tn, (_, v) in zip(type_spec.names(), pairs)])
    return python_containers.build(
        container, [(tn, v) for tn, (_, v) in zip(type_spec.names(), pairs)])
  return value


def map_structure(fn: Callable[..., Any], *structs: Any) -> Any:
  """Applies `fn` to the leaves of `Struct` nests with the same structure.

  Raises:
    ValueError: if the nests differ in names, lengths or nesting.
  """
  first = structs[0]
  for other in structs[1:]:
    if isinstance(other, Struct) != isinstance(first, Struct) or (
        isinstance(first, Struct) and other.names() != first.names()):
      raise ValueError(f'Structures differ: {first!r} vs {other!r}.')
  if isinstance(first, Struct):
    return Struct([
        (n, map_structure(fn, *(s[i] for s in structs)))
        for i, n in enumerate(first.names())
    ])
  return fn(*structs)


def flatten(value: Any) -> List[Any]:
  """Returns the leaves of a `Struct` nest in depth-first order."""
  if isinstance(value, Struct):
    result = []
    for v in value:
      result.extend(flatten(v))
    return result
  return [value]


def pack_sequence_as(structure: Any, flat: Sequence[Any]) -> Any:
  """Inverse of `flatten`: puts `flat` leaves back into `structure`'s shape.

  Raises:
    ValueError: if `structure` does not have `len(flat)` leaves.
  """
  leaves = iter(flat)
  expected = len(flatten(structure))
  if expected != len(flat):
    raise ValueError(f'Expected {expected} leaves for structure {structure}, '
                     f'found {len(flat)}.')

  def pack(s):
    if isinstance(s, Struct):
      return Struct([(n, pack(v)) for n, v in s.items()])
    return next(leaves)

  return pack(structure)
