"""The federated type system: tensors, structs, sequences, functions, placement.

    Type
     |-- TensorType(dtype, shape)            int32, float32[2,?]
     |-- StructType([(name, Type), ...])     <a=int32,b=float32>
     |     `-- StructWithPythonType(..., container)   (remembers list/dict/...)
     |-- SequenceType(element)               float32*
     |-- FunctionType(parameter, result)     (int32 -> float32), ( -> int32)
     |-- AbstractType(label)                 T
     |-- PlacementType()                     placement
     `-- FederatedType(member, placement, all_equal)   {float32}@CLIENTS

Types are immutable, hashable and interned: constructing the same type twice
returns the same object, so `==` is identity. Invalid types (a federated value
inside a federated value, a function inside a sequence, ...) are refused when
built. Every constructor argument that is a type also accepts a spec that
`to_type` converts (`np.int32`, `tf.TensorSpec`, `[('a', np.int32)]`, ...).

The relations between types are `is_assignable_from`, `is_equivalent_to` and
`is_identical_to`; each has a `check_*` twin that raises an error naming both
types and, for structs, the first element that differs
(`type_relation_messages` words those errors).

This module does not infer types from values (see `type_conversions`) and
does not serialize types (see `type_serialization`).
"""

from typing import Any, Iterator, List, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from tffx.types import errors
from tffx.types import interning
from tffx.types import placements
from tffx.types import python_containers
from tffx.types import struct_value
from tffx.types import type_relation_messages
from tffx.types import type_specs


class Type(metaclass=interning.Interned):
  """Base class of all tffx types. Instances are interned and immutable."""

  _key: tuple

  @classmethod
  def _normalize(cls, *args, **kwargs) -> tuple:
    raise TypeError(f'{cls.__name__} is abstract; construct a TensorType, '
                    f'StructType, FederatedType, ... instead.')

  def _finish_init(self) -> None:
    """Derives cached attributes from `_key`, once, when interned."""

  def __setattr__(self, name, value):
    raise AttributeError(f'{type(self).__name__} is immutable.')

  def __delattr__(self, name):
    raise AttributeError(f'{type(self).__name__} is immutable.')

  def __reduce__(self):
    # Unpickling calls the constructor again, which returns the interned type.
    return (type(self), self._key)

  def children(self) -> Iterator['Type']:
    """Yields the types directly nested in this one."""
    return iter(())

  # Interning makes identity the same as structural equality (containers
  # included), so the default `__eq__` and `__hash__` are the right ones.

  def is_assignable_from(self, source: 'Type') -> bool:
    """Whether a value of type `source` can be used where `self` is expected."""
    raise NotImplementedError

  def check_assignable_from(self, source: 'Type') -> None:
    """Raises `TypeNotAssignableError` unless `is_assignable_from(source)`."""
    if not self.is_assignable_from(source):
      raise errors.TypeNotAssignableError(
          type_relation_messages.assignable_message(self, source), self, source)

  def is_equivalent_to(self, other: 'Type') -> bool:
    """Whether each of `self` and `other` is assignable from the other."""
    return self.is_assignable_from(other) and other.is_assignable_from(self)

  def check_equivalent_to(self, other: 'Type') -> None:
    """Raises `TypesNotEquivalentError` unless `is_equivalent_to(other)`."""
    if not self.is_equivalent_to(other):
      raise errors.TypesNotEquivalentError(
          type_relation_messages.equivalent_message(self, other), self, other)

  def is_identical_to(self, other: 'Type') -> bool:
    """Whether the types are the same, Python containers included."""
    return self is other

  def check_identical_to(self, other: 'Type') -> None:
    """Raises `TypesNotIdenticalError` unless `self.is_identical_to(other)`."""
    if not self.is_identical_to(other):
      raise errors.TypesNotIdenticalError(
          type_relation_messages.identical_message(self, other), self, other)

  def _aligned_parts(self, other: 'Type') -> Optional[List[Tuple[str, 'Type',
                                                                'Type']]]:
    """Pairs the types nested in `self` with those in `other`, for messages.

    Returns `[(path label, part of self, part of other), ...]`, or None when
    `other` is not laid out like `self`. See `type_relation_messages`.
    """
    return None

  def _mismatch_note(self, other: 'Type') -> str:
    """A sentence on how `other` differs from `self` beyond their parts."""
    return ''

  def compact_representation(self) -> str:
    """The one-line string form, e.g. `<a=int32,b=float32[2]>@SERVER`."""
    return str(self)

  def formatted_representation(self) -> str:
    """The multi-line form: one struct element a line, indented by nesting."""
    return '\n'.join(self._lines())

  def _lines(self) -> List[str]:
    """The lines of `formatted_representation`; one line unless nested."""
    return [str(self)]

  def __str__(self) -> str:
    raise NotImplementedError


class TensorType(Type):
  """The type of a tensor: a dtype and a shape.

  `dtype` is a numpy dtype or scalar class, a `tf.DType` or a dtype name;
  every string dtype becomes the one tffx string dtype (`str`). `shape=()`
  (the default) is a scalar; a dimension of `None` is unknown; `shape=None`
  is a tensor of unknown rank.
  """

  @classmethod
  def _normalize(cls, dtype, shape=()):
    return (type_specs.to_numpy_dtype(dtype), type_specs.to_shape(shape))

  @property
  def dtype(self) -> np.dtype:
    return self._key[0]

  @property
  def shape(self) -> type_specs.Shape:
    """A tuple of `int | None`, or None when the rank is unknown."""
    return self._key[1]

  @property
  def tf_dtype(self) -> tf.dtypes.DType:
    if self.dtype == type_specs.STRING_DTYPE:
      return tf.string
    return tf.as_dtype(self.dtype)

  def is_assignable_from(self, source: Type) -> bool:
    if not isinstance(source, TensorType) or self.dtype != source.dtype:
      return False
    if self.shape is None:
      return True
    if source.shape is None or len(self.shape) != len(source.shape):
      return False
    return all(t is None or t == s for t, s in zip(self.shape, source.shape))

  def __str__(self):
    name = type_specs.dtype_name(self.dtype)
    if self.shape is None:
      return f'{name}[?]'
    if not self.shape:
      return name
    dims = ('?' if d is None else str(d) for d in self.shape)
    return f'{name}[{",".join(dims)}]'

  def __repr__(self):
    dtype = type_specs.dtype_repr(self.dtype)
    if self.shape == ():
      return f'TensorType({dtype})'
    return f'TensorType({dtype}, {self.shape!r})'


class StructType(Type):
  """The type of a struct: an ordered sequence of optionally named elements.

  Elements are given as a Python container of type specs, or as a list whose
  items are `(name, spec)` pairs or bare specs (unnamed elements). Element
  names, where given, are unique non-empty strings.

  Elements are reachable by index (`t[0]`), by name (`t['a']` or `t.a`), and
  by iteration (over the element types).
  """

  @classmethod
  def _normalize(cls, elements):
    return (_convert_elements(elements),)

  def _finish_init(self):
    object.__setattr__(self, '_name_to_index', {
        n: i for i, (n, _) in enumerate(self._key[0]) if n is not None})

  @property
  def python_container(self) -> Optional[type]:
    """The Python container values of this type convert to (None: `Struct`)."""
    return None

  def items(self) -> Iterator[Tuple[Optional[str], Type]]:
    return iter(self._key[0])

  def names(self) -> List[Optional[str]]:
    return [n for n, _ in self._key[0]]

  def children(self):
    return (t for _, t in self._key[0])

  def __len__(self):
    return len(self._key[0])

  def __iter__(self):
    return self.children()

  def __getitem__(self, key: Union[int, str, slice]):
    if isinstance(key, str):
      if key not in self._name_to_index:
        raise KeyError(f'{self} has no element named {key!r}.')
      key = self._name_to_index[key]
    if isinstance(key, slice):
      return [t for _, t in self._key[0][key]]
    return self._key[0][key][1]

  def __getattr__(self, name: str):
    # Only called for names that are not attributes, i.e. element names.
    index = self.__dict__.get('_name_to_index', {}).get(name)
    if index is None:
      raise AttributeError(f'{self} has no element named {name!r}.')
    return self._key[0][index][1]

  def __dir__(self):
    return list(super().__dir__()) + list(self._name_to_index)

  def is_assignable_from(self, source: Type) -> bool:
    if not isinstance(source, StructType) or len(self) != len(source):
      return False
    for (t_name, t_type), (s_name, s_type) in zip(self.items(),
                                                  source.items()):
      if s_name is not None and s_name != t_name:
        return False
      if not t_type.is_assignable_from(s_type):
        return False
    return True

  def _aligned_parts(self, other):
    if not isinstance(other, StructType) or len(self) != len(other):
      return None
    return [(f'[{i}]' if n is None else f'[{n!r}]', t, s)
            for i, ((n, t), s) in enumerate(zip(self.items(), other))]

  def _mismatch_note(self, other):
    if not isinstance(other, StructType):
      return ''
    if len(self) != len(other):
      return f'The structs have {len(self)} and {len(other)} elements.'
    if self.names() != other.names():
      return f'The element names differ: {self.names()} vs {other.names()}.'
    if self.python_container is not other.python_container:
      return (f'The Python containers differ: '
              f'{type_specs.container_repr(self.python_container)} vs '
              f'{type_specs.container_repr(other.python_container)}.')
    return ''

  def __str__(self):
    return '<' + ','.join(str(t) if n is None else f'{n}={t}'
                          for n, t in self.items()) + '>'

  def _lines(self):
    if not len(self):
      return ['<>']
    lines = ['<']
    for i, (name, t) in enumerate(self.items()):
      element = t._lines()
      if name is not None:
        element = [f'{name}={element[0]}'] + element[1:]
      if i < len(self) - 1:
        element[-1] += ','
      lines.extend('  ' + line for line in element)
    return lines + ['>']

  def __repr__(self):
    return f'StructType({_elements_repr(self.items())})'


class StructWithPythonType(StructType):
  """A `StructType` that remembers the Python container of its values.

  Containers: list, tuple, dict, OrderedDict, namedtuple classes, attrs and
  dataclass classes. Assignability ignores the container; identity does not.
  The elements of a dict struct must all be named, and those of a namedtuple,
  attrs or dataclass struct must be named after its fields, in order.
  """

  @classmethod
  def _normalize(cls, elements, container_type):
    elements = _convert_elements(elements)
    type_specs.check_container(container_type, [n for n, _ in elements])
    return (elements, container_type)

  @property
  def python_container(self) -> type:
    return self._key[1]

  def __repr__(self):
    return (f'StructType({_elements_repr(self.items())}) as '
            f'{self.python_container.__name__}')


def _join_lines(*parts: List[str]) -> List[str]:
  """Concatenates line lists, each joining the last line of the one before."""
  lines = ['']
  for part in parts:
    lines[-1] += part[0]
    lines.extend(part[1:])
  return lines


def _elements_repr(elements) -> str:
  parts = [repr(t) if n is None else f'({n!r}, {t!r})' for n, t in elements]
  return '[' + ', '.join(parts) + ']'


def _convert_elements(elements) -> Tuple[Tuple[Optional[str], Type], ...]:
  """Turns the `elements` argument of `StructType` into ((name, Type), ...)."""
  if isinstance(elements, StructType):
    return elements._key[0]
  return tuple((n, to_type(v)) for n, v in type_specs.element_pairs(elements))


class SequenceType(Type):
  """The type of a sequence (a `tf.data.Dataset`) of `element` values.

  Elements are tensors or structs of tensors; a sequence cannot hold
  functions, sequences, placements or federated values. List structs in the
  element become tuple structs, as `tf.data` reads a list as one tensor.
  """

  @classmethod
  def _normalize(cls, element):
    element = to_type(element)
    _check_contains_only(element, (TensorType, StructType, AbstractType),
                         'the element of a sequence type')
    return (_lists_to_tuples(element),)

  @property
  def element(self) -> Type:
    return self._key[0]

  def children(self):
    yield self.element

  def _aligned_parts(self, other):
    if not isinstance(other, SequenceType):
      return None
    return [('.element', self.element, other.element)]

  def is_assignable_from(self, source: Type) -> bool:
    return isinstance(source, SequenceType) and (
        self.element.is_assignable_from(source.element))

  def _lines(self):
    lines = self.element._lines()
    return lines[:-1] + [lines[-1] + '*']

  def __str__(self):
    return f'{self.element}*'

  def __repr__(self):
    return f'SequenceType({self.element!r})'


def _lists_to_tuples(type_spec: Type) -> Type:
  """`type_spec` with every list struct in it made a tuple struct."""
  if not isinstance(type_spec, StructType):
    return type_spec
  elements = [(n, _lists_to_tuples(t)) for n, t in type_spec.items()]
  container = type_spec.python_container
  if container is None:
    return StructType(elements)
  if issubclass(container, list):
    container = tuple
  return StructWithPythonType(elements, container)


class FunctionType(Type):
  """The type of a function; `parameter` is None for a no-argument function."""

  @classmethod
  def _normalize(cls, parameter, result):
    return (None if parameter is None else to_type(parameter), to_type(result))

  @property
  def parameter(self) -> Optional[Type]:
    return self._key[0]

  @property
  def result(self) -> Type:
    return self._key[1]

  def children(self):
    if self.parameter is not None:
      yield self.parameter
    yield self.result

  def is_assignable_from(self, source: Type) -> bool:
    if not isinstance(source, FunctionType):
      return False
    if (self.parameter is None) != (source.parameter is None):
      return False
    # Parameters are contravariant: the source function must accept every
    # argument the target accepts. Results are covariant.
    if self.parameter is not None and not source.parameter.is_assignable_from(
        self.parameter):
      return False
    return self.result.is_assignable_from(source.result)

  def _lines(self):
    parameter = [''] if self.parameter is None else self.parameter._lines()
    return _join_lines(['('], parameter, [' -> '], self.result._lines(), [')'])

  def __str__(self):
    parameter = '' if self.parameter is None else str(self.parameter)
    return f'({parameter} -> {self.result})'

  def __repr__(self):
    return f'FunctionType({self.parameter!r}, {self.result!r})'


class AbstractType(Type):
  """A type variable, such as `T` in the signature `(T -> T)`.

  An abstract type is assignable only from itself: tffx does not unify.
  """

  @classmethod
  def _normalize(cls, label):
    if not isinstance(label, str) or not label:
      raise errors.InvalidTypeError(
          f'Expected a non-empty string label, found {label!r}.')
    return (label,)

  @property
  def label(self) -> str:
    return self._key[0]

  def is_assignable_from(self, source: Type) -> bool:
    return self is source

  def __str__(self):
    return self.label

  def __repr__(self):
    return f'AbstractType({self.label!r})'


class PlacementType(Type):
  """The type of a placement literal such as `CLIENTS`."""

  @classmethod
  def _normalize(cls):
    return ()

  def is_assignable_from(self, source: Type) -> bool:
    return isinstance(source, PlacementType)

  def __str__(self):
    return 'placement'

  def __repr__(self):
    return 'PlacementType()'


class FederatedType(Type):
  """The type of a value placed at `CLIENTS` or `SERVER`.

  `all_equal` says whether every participant holds the same member value; it
  defaults to the placement's default (True at SERVER, False at CLIENTS).
  The member cannot itself contain federated, function or placement types.
  """

  @classmethod
  def _normalize(cls, member, placement, all_equal=None):
    if not isinstance(placement, placements.PlacementLiteral):
      raise errors.InvalidTypeError(
          f'Expected a placement (tffx.CLIENTS or tffx.SERVER), found '
          f'{placement!r}.')
    if all_equal is None:
      all_equal = placement.default_all_equal
    if not isinstance(all_equal, (bool, np.bool_)):
      raise errors.InvalidTypeError(
          f'Expected all_equal to be a bool or None, found {all_equal!r}.')
    member = to_type(member)
    _check_contains_only(
        member, (TensorType, StructType, SequenceType, AbstractType),
        f'the member of a federated type placed at {placement}')
    return (member, placement, bool(all_equal))

  @property
  def member(self) -> Type:
    return self._key[0]

  @property
  def placement(self) -> placements.PlacementLiteral:
    return self._key[1]

  @property
  def all_equal(self) -> bool:
    return self._key[2]

  def children(self):
    yield self.member

  def _aligned_parts(self, other):
    if not isinstance(other, FederatedType) or (
        self.placement is not other.placement):
      return None
    return [('.member', self.member, other.member)]

  def _mismatch_note(self, other):
    if not isinstance(other, FederatedType):
      return ''
    if self.placement is not other.placement:
      return (f'The placements differ: {self.placement} vs '
              f'{other.placement}.')
    if self.all_equal and not other.all_equal:
      return ('Tip: the expected value is the same at every participant '
              '(all-equal), but the given one may differ across them; '
              'aggregate it first (e.g. federated_mean).')
    if other.all_equal and not self.all_equal:
      return 'The given value is all-equal; the expected one is not.'
    return ''

  def is_assignable_from(self, source: Type) -> bool:
    return (isinstance(source, FederatedType) and
            self.placement is source.placement and
            (not self.all_equal or source.all_equal) and
            self.member.is_assignable_from(source.member))

  def _lines(self):
    lines = self.member._lines()
    if self.all_equal:
      return lines[:-1] + [f'{lines[-1]}@{self.placement}']
    lines = ['{' + lines[0]] + lines[1:]
    return lines[:-1] + [f'{lines[-1]}}}@{self.placement}']

  def __str__(self):
    if self.all_equal:
      return f'{self.member}@{self.placement}'
    return f'{{{self.member}}}@{self.placement}'

  def __repr__(self):
    return (f'FederatedType({self.member!r}, {self.placement!r}, '
            f'{self.all_equal})')


def at_clients(type_spec: Any, all_equal: bool = False) -> FederatedType:
  """Returns `{T}@CLIENTS` (or `T@CLIENTS` when `all_equal`) for `type_spec`."""
  return FederatedType(type_spec, placements.CLIENTS, all_equal)


def at_server(type_spec: Any) -> FederatedType:
  """Returns `T@SERVER` for `type_spec`."""
  return FederatedType(type_spec, placements.SERVER)


# TFF's older names, still used by its tutorials.
type_at_clients = at_clients
type_at_server = at_server


def _check_contains_only(type_spec: Type, allowed: tuple, where: str) -> None:
  """Refuses `type_spec` if it or any nested type is not of an allowed class."""
  pending = [type_spec]
  while pending:
    t = pending.pop()
    if not isinstance(t, allowed):
      inside = '' if t is type_spec else f' inside {type_spec}'
      raise errors.InvalidTypeError(
          f'Expected only {", ".join(c.__name__ for c in allowed)} in {where}, '
          f'found {t}{inside}.')
    pending.extend(t.children())


def to_type(spec: Any) -> Type:
  """Converts a type spec to a tffx `Type`.

  Accepts: tffx types; numpy dtypes and scalar classes (`np.int32`);
  `tf.DType`s; `tf.TensorSpec`s; `tf.data.DatasetSpec`s (the element specs
  of datasets of datasets); `(dtype, shape)` pairs such as
  `(np.float32, [2, None])`, where a shape of None means unknown rank; and
  Python containers (list, tuple, dict, OrderedDict, namedtuple, attrs,
  dataclass) of these, which become `StructWithPythonType`s. A list or tuple
  holding `(name, spec)` pairs becomes a plain `StructType` (names where
  given, unnamed elements elsewhere), a lone `('a', spec)` pair the tuple
  struct `<a=spec>`, and a `Struct` of specs a plain `StructType`.

  Raises:
    UnsupportedTypeSpecError: if `spec` cannot be converted.
    InvalidTypeError: if `spec` describes a type that cannot exist.
  """
  if isinstance(spec, Type):
    return spec
  if isinstance(spec, struct_value.Struct):
    return StructType(list(spec.items()))
  if type_specs.is_dtype_spec(spec):
    return TensorType(spec)
  if isinstance(spec, tf.TensorSpec):
    return TensorType(spec.dtype, spec.shape)
  if isinstance(spec, tf.data.DatasetSpec):
    return SequenceType(spec.element_spec)
  if type_specs.is_tensor_pair(spec):
    return TensorType(*spec)
  if type_specs.is_name_value_pair(spec):
    return StructWithPythonType([spec], tuple)
  if isinstance(spec, (list, tuple)) and not python_containers.is_named_tuple(
      spec) and any(type_specs.is_name_value_pair(e) for e in spec):
    return StructType(spec)
  if python_containers.is_container(spec):
    return StructWithPythonType(spec, type(spec))
  raise errors.UnsupportedTypeSpecError(
      f'Expected a tffx type, a numpy dtype, a tf.DType, a tf.TensorSpec, a '
      f'tf.data.DatasetSpec, a (dtype, shape) pair, or a Python container of '
      f'these; found {spec!r} of Python type {type(spec).__name__}.')
