"""`Struct`: the value of a `StructType` inside tffx.

An immutable ordered sequence of values, each with an optional name:

    Struct([('a', 1), (None, 2)])   ->  s.a == 1, s[1] == 2, len(s) == 2

This module defines only the class; `structure` holds the functions over
structs (TFF's `tff.structure`) and re-exports `Struct`.
"""

from typing import Any, Iterator, List, Optional, Sequence, Tuple

import numpy as np


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

  def __delattr__(self, name):
    raise AttributeError('Struct is immutable.')

  def __reduce__(self):
    # The default protocol would restore the slots through `__setattr__`.
    return (Struct, (self._elements,))

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
    return all(n1 == n2 and _values_equal(v1, v2) for (n1, v1), (n2, v2) in
               zip(self._elements, other._elements))

  def __hash__(self):
    return hash(tuple(n for n, _ in self._elements))

  def __repr__(self):
    return 'Struct([' + ', '.join(f'({n!r}, {v!r})'
                                  for n, v in self._elements) + '])'

  def __str__(self):
    return '<' + ','.join(str(v) if n is None else f'{n}={v}'
                          for n, v in self._elements) + '>'


def _values_equal(a: Any, b: Any) -> bool:
  """`a == b` for leaves that may be arrays or tensors of any shape."""
  if isinstance(a, Struct) or isinstance(b, Struct):
    return a == b
  # `==` on arrays and tensors compares elementwise, broadcasts, and may
  # raise on shapes that do not broadcast; compare them whole instead.
  if hasattr(a, '__array__') or hasattr(b, '__array__'):
    return bool(np.array_equal(a, b))
  if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
    return type(a) is type(b) and len(a) == len(b) and all(
        _values_equal(x, y) for x, y in zip(a, b))
  return bool(a == b)
