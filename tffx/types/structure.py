"""Functions over `Struct`s, the values of `StructType`s: TFF's `tff.structure`.

Executors carry struct values as `Struct`s (ordered, optionally named
elements) rather than Python containers, because a `StructType` need not have
a container. `from_container` and `to_python` convert at the edges.

    Struct([('a', 1), (None, 2)])   ->  s.a == 1, s[1] == 2, len(s) == 2

`Struct` itself is defined in `struct_value` and re-exported here.
"""

import collections
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import tensorflow as tf

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


# ---------------------------------------------------------------------------
# TFF's `tff.structure` functions over `Struct`s.


def _check_struct(value: Any, what: str = 'struct') -> None:
  if not isinstance(value, Struct):
    raise TypeError(f'Expected {what} to be a Struct, found {value!r} of '
                    f'Python type {type(value).__name__}.')


def to_elements(struct: Struct) -> List[Tuple[Optional[str], Any]]:
  """The `(name, value)` pairs of `struct`, in order (name None if unnamed)."""
  _check_struct(struct)
  return list(struct.items())


def iter_elements(struct: Struct) -> Iterator[Tuple[Optional[str], Any]]:
  """Iterates over the `(name, value)` pairs of `struct` (or a `StructType`)."""
  if isinstance(struct, computation_types.StructType):
    return struct.items()
  _check_struct(struct)
  return struct.items()


def name_list(struct: Struct) -> List[str]:
  """The names of the named elements of `struct`, in order."""
  return [n for n, _ in iter_elements(struct) if n is not None]


def name_list_with_nones(struct: Struct) -> List[Optional[str]]:
  """The names of all elements of `struct`, None for unnamed ones."""
  return [n for n, _ in iter_elements(struct)]


def name_to_index_map(struct: Struct) -> dict:
  """Maps the name of each named element of `struct` to its index."""
  return {n: i for i, (n, _) in enumerate(iter_elements(struct))
          if n is not None}


def has_field(struct: Struct, field: str) -> bool:
  """Whether `struct` has an element named `field`."""
  return field in name_list(struct)


def _to_container_recursive(value: Any, build: Callable[[list], Any]) -> Any:
  if not isinstance(value, Struct):
    return value
  return build([(n, _to_container_recursive(v, build))
                for n, v in value.items()])


def to_odict(struct: Struct, recursive: bool = False):
  """Converts `struct` (all elements named) to a `collections.OrderedDict`.

  Raises:
    ValueError: if an element (a nested one, with `recursive`) is unnamed.
  """
  _check_struct(struct)

  def build(pairs):
    if any(n is None for n, _ in pairs):
      raise ValueError(f'Cannot convert a Struct with unnamed elements to an '
                       f'OrderedDict: {struct!r}.')
    return collections.OrderedDict(pairs)

  if recursive:
    return _to_container_recursive(struct, build)
  return build(list(struct.items()))


def to_odict_or_tuple(struct: Struct, recursive: bool = True):
  """Converts `struct` to an `OrderedDict` (all named) or a tuple (none named).

  Raises:
    ValueError: if `struct` (or, with `recursive`, a nested struct) names
      some elements but not all.
  """
  _check_struct(struct)

  def build(pairs):
    named = [n is not None for n, _ in pairs]
    if all(named):
      return collections.OrderedDict(pairs)
    if not any(named):
      return tuple(v for _, v in pairs)
    raise ValueError(f'Cannot convert a Struct with both named and unnamed '
                     f'elements to an OrderedDict or a tuple: {struct!r}.')

  if recursive:
    return _to_container_recursive(struct, build)
  return build(list(struct.items()))


def is_same_structure(a: Struct, b: Struct) -> bool:
  """Whether `a` and `b` nest the same way, with the same names.

  Leaves compare by `tf.nest` structure (types included), not by value.
  """
  _check_struct(a, 'a')
  _check_struct(b, 'b')
  if len(a) != len(b) or a.names() != b.names():
    return False
  for value_a, value_b in zip(a, b):
    if isinstance(value_a, Struct) and isinstance(value_b, Struct):
      if not is_same_structure(value_a, value_b):
        return False
    elif isinstance(value_a, Struct) or isinstance(value_b, Struct):
      return False
    else:
      try:
        tf.nest.assert_same_structure(value_a, value_b, check_types=True)
      except (ValueError, TypeError):
        return False
  return True


def update_struct(structure: Any, **kwargs) -> Any:
  """Returns a copy of `structure` with the named fields replaced.

  `structure` is a `Struct`, a namedtuple, a dict (or OrderedDict), an
  attrs instance or a dataclass instance.

  Raises:
    KeyError: if `structure` has no field of one of the given names.
    TypeError: for any other kind of `structure`.
  """
  if isinstance(structure, Struct):
    pairs = list(structure.items())
  elif isinstance(structure, dict) or python_containers.is_named_tuple(
      structure) or python_containers.is_attrs(
          structure) or python_containers.is_dataclass(structure):
    pairs = python_containers.elements(structure)
  else:
    pairs = None
  if pairs is not None:
    missing = set(kwargs) - {n for n, _ in pairs}
    if missing:
      raise KeyError(f'`structure` does not contain fields named '
                     f'{sorted(missing)}.')
    updated = [(n, kwargs.get(n, v)) if n is not None else (n, v)
               for n, v in pairs]
    if isinstance(structure, Struct):
      return Struct(updated)
    return python_containers.build(type(structure), updated)
  raise TypeError(f'Expected a Struct, namedtuple, dict or attrs instance, '
                  f'found {structure!r} of Python type '
                  f'{type(structure).__name__}.')
