"""`Struct`: the value of a `StructType` inside tffx, plus helpers over nests.

Executors carry struct values as `Struct`s (ordered, optionally named
elements) rather than Python containers, because a `StructType` need not have
a container. `from_container` and `to_python` convert at the edges.

    Struct([('a', 1), (None, 2)])   ->  s.a == 1, s[1] == 2, len(s) == 2
"""

from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from tffx.types import computation_types
from tffx.types import python_containers


class Struct:
  """An immutable ordered sequence of values, each with an optional name."""

  __slots__ = ('_elements', '_name_to_index')

  def __init__(self, elements: Sequence[Tuple[Optional[str], Any]]):
    elements = tuple(elements)
    name_to_index = {}
    for i, element in enumerate(elements):
      if not isinstance(element, tuple) or len(element) != 2:
        raise TypeError(
            f'Expected (name, value) pairs, found {element!r} at index {i}.')
      name = element[0]
      if name is not None:
        if not isinstance(name, str) or not name:
          raise TypeError(f'Element names must be non-empty strings, found '
                          f'{name!r}.')
        if name in name_to_index:
          raise ValueError(f'Duplicate element name {name!r}.')
        name_to_index[name] = i
    object.__setattr__(self, '_elements', elements)
    object.__setattr__(self, '_name_to_index', name_to_index)

  @classmethod
  def unnamed(cls, *values) -> 'Struct':
    return cls([(None, v) for v in values])

  @classmethod
  def named(cls, **values) -> 'Struct':
    return cls(list(values.items()))

  def __setattr__(self, name, value):
    raise AttributeError('Struct is immutable.')

  def items(self) -> Iterator[Tuple[Optional[str], Any]]:
    return iter(self._elements)

  def names(self) -> List[Optional[str]]:
    return [n for n, _ in self._elements]

  def values(self) -> List[Any]:
    return [v for _, v in self._elements]

  def __len__(self):
    return len(self._elements)

  def __iter__(self):
    return (v for _, v in self._elements)

  def __getitem__(self, key):
    if isinstance(key, str):
      try:
        return self._elements[self._name_to_index[key]][1]
      except KeyError:
        raise KeyError(f'Struct has no element named {key!r}; names: '
                       f'{self.names()}.') from None
    if isinstance(key, slice):
      return [v for _, v in self._elements[key]]
    return self._elements[key][1]

  def __getattr__(self, name):
    if name.startswith('__'):
      raise AttributeError(name)
    index = self._name_to_index.get(name)
    if index is None:
      raise AttributeError(
          f'Struct has no element named {name!r}; names: {self.names()}.')
    return self._elements[index][1]

  def __eq__(self, other):
    if not isinstance(other, Struct) or len(self) != len(other):
      return False
    for (n1, v1), (n2, v2) in zip(self._elements, other._elements):
      if n1 != n2:
        return False
      equal = v1 == v2
      if not isinstance(equal, bool):
        equal = bool(getattr(equal, 'all', lambda: equal)())
      if not equal:
        return False
    return True

  def __hash__(self):
    return hash(tuple(n for n, _ in self._elements))

  def __repr__(self):
    return 'Struct([' + ', '.join(f'({n!r}, {v!r})'
                                  for n, v in self._elements) + '])'

  def __str__(self):
    return '<' + ','.join(str(v) if n is None else f'{n}={v}'
                          for n, v in self._elements) + '>'


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
  """
  if isinstance(type_spec, computation_types.StructType):
    if not isinstance(value, Struct):
      value = from_container(value)
    if len(value) != len(type_spec):
      raise TypeError(f'Value {value!r} has {len(value)} elements; type '
                      f'{type_spec} has {len(type_spec)}.')
    pairs = [(n, to_python(v, t)) for (n, v), t in zip(value.items(),
                                                      type_spec)]
    container = type_spec.python_container
    if container is None:
      return Struct([(tn, v) for tn, (_, v) in zip(type_spec.names(), pairs)])
    return python_containers.build(
        container, [(tn, v) for tn, (_, v) in zip(type_spec.names(), pairs)])
  return value


def map_structure(fn: Callable[..., Any], *structs: Any) -> Any:
  """Applies `fn` to the leaves of `Struct` nests with the same structure."""
  first = structs[0]
  if isinstance(first, Struct):
    for other in structs[1:]:
      if not isinstance(other, Struct) or other.names() != first.names():
        raise ValueError(f'Structures differ: {first!r} vs {other!r}.')
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
  """Inverse of `flatten`: puts `flat` leaves back into `structure`'s shape."""
  flat = list(flat)
  position = [0]

  def pack(s):
    if isinstance(s, Struct):
      return Struct([(n, pack(v)) for n, v in s.items()])
    leaf = flat[position[0]]
    position[0] += 1
    return leaf

  result = pack(structure)
  if position[0] != len(flat):
    raise ValueError(f'Structure has {position[0]} leaves; got {len(flat)}.')
  return result
