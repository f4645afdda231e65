"""The federated type system: tensors, structs, sequences, functions, placements.

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
returns the same object. Invalid types (a federated value inside a federated
value, a function inside a sequence, ...) are refused when built.

The relations between types are `is_assignable_from`, `is_equivalent_to` and
`is_identical_to`; each has a `check_*` twin that raises an error naming both
types and, for structs, the first element that differs.

This module does not convert Python values to types (see `type_conversions`)
and does not serialize types (see `type_serialization`).
"""

import collections
import threading
from typing import Any, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from tffx.types import errors
from tffx.types import placements
from tffx.types import python_containers

Shape = Optional[Tuple[Optional[int], ...]]


class _Interned(type):
  """Metaclass that returns one shared instance per distinct constructor key."""

  def __init__(cls, name, bases, namespace):
    super().__init__(name, bases, namespace)
    cls._instances = {}
    cls._lock = threading.Lock()

  def __call__(cls, *args, **kwargs):
    key = cls._normalize(*args, **kwargs)
    instance = cls._instances.get(key)
    if instance is None:
      with cls._lock:
        instance = cls._instances.get(key)
        if instance is None:
          instance = cls.__new__(cls)
          instance._init_from_key(key)
          instance._frozen = True
          cls._instances[key] = instance
    return instance


class Type(metaclass=_Interned):
  """Base class of all tffx types. Instances are interned and immutable."""

  _frozen = False

  @classmethod
  def _normalize(cls, *args, **kwargs) -> tuple:
    raise NotImplementedError

  def _init_from_key(self, key: tuple) -> None:
    raise NotImplementedError

  def __setattr__(self, name, value):
    if self._frozen:
      raise AttributeError(f'{type(self).__name__} is immutable.')
    object.__setattr__(self, name, value)

  def __reduce__(self):
    return (_rebuild, (type(self), self._key()))

  def _key(self) -> tuple:
    raise NotImplementedError

  def children(self) -> Iterator['Type']:
    """Yields the types directly nested in this one."""
    return iter(())

  # Interning makes identity the same as structural equality (containers
  # included), so the default `__eq__` and `__hash__` are the right ones.

  def is_assignable_from(self, source: 'Type') -> bool:
    """Whether a value of type `source` can be used where `self` is expected."""
    raise NotImplementedError

  def check_assignable_from(self, source: 'Type') -> None:
    """Raises `TypeNotAssignableError` unless `self.is_assignable_from(source)`."""
    if not self.is_assignable_from(source):
      raise errors.TypeNotAssignableError(
          _relation_message(self, source, 'to be assignable from',
                            lambda t, s: t.is_assignable_from(s)),
          self, source)

  def is_equivalent_to(self, other: 'Type') -> bool:
    """Whether each of `self` and `other` is assignable from the other."""
    return self.is_assignable_from(other) and other.is_assignable_from(self)

  def check_equivalent_to(self, other: 'Type') -> None:
    """Raises `TypesNotEquivalentError` unless `self.is_equivalent_to(other)`."""
    if not self.is_equivalent_to(other):
      raise errors.TypesNotEquivalentError(
          _relation_message(self, other, 'to be equivalent to',
                            lambda t, s: t.is_equivalent_to(s)),
          self, other)

  def is_identical_to(self, other: 'Type') -> bool:
    """Whether the types are the same, Python containers included."""
    return self is other

  def check_identical_to(self, other: 'Type') -> None:
    """Raises `TypesNotIdenticalError` unless `self.is_identical_to(other)`."""
    if not self.is_identical_to(other):
      raise errors.TypesNotIdenticalError(
          _relation_message(self, other, 'to be identical to',
                            lambda t, s: t.is_identical_to(s)),
          self, other)

  def compact_representation(self) -> str:
    return _compact(self)

  def __str__(self) -> str:
    return _compact(self)


def _rebuild(cls, key):
  return cls._from_key(key)


# ---------------------------------------------------------------------------
# Tensors.

_STRING_DTYPE = np.dtype(np.str_)


def _to_numpy_dtype(dtype: Any) -> np.dtype:
  """Normalizes numpy dtypes, numpy scalar classes and `tf.DType`s."""
  if isinstance(dtype, tf.dtypes.DType):
    if dtype == tf.string:
      return _STRING_DTYPE
    if dtype.is_numpy_compatible and dtype not in (tf.resource, tf.variant):
      return np.dtype(dtype.as_numpy_dtype)
    raise errors.InvalidTypeError(
        f'TensorFlow dtype {dtype!r} has no tffx tensor type.')
  if dtype in (str, bytes, np.bytes_, np.object_):
    return _STRING_DTYPE
  try:
    result = np.dtype(dtype)
  except TypeError:
    raise errors.InvalidTypeError(
        f'Expected a numpy dtype or a tf.DType, found {dtype!r}.') from None
  if result.kind in ('U', 'S', 'O'):
    return _STRING_DTYPE
  if result.kind not in ('b', 'i', 'u', 'f', 'c', 'V') or result.kind == 'V' and (
      result.name != 'bfloat16'):
    raise errors.InvalidTypeError(f'Unsupported tensor dtype {result!r}.')
  return result


def _to_shape(shape: Any) -> Shape:
  """Normalizes a shape to a tuple of `int | None`, or `None` for unknown rank."""
  if shape is None:
    return None
  if isinstance(shape, tf.TensorShape):
    if shape.rank is None:
      return None
    return tuple(shape.as_list())
  if isinstance(shape, (int, np.integer)):
    shape = (shape,)
  try:
    dims = tuple(shape)
  except TypeError:
    raise errors.InvalidTypeError(
        f'Expected a shape (a sequence of ints or None), found {shape!r}.'
    ) from None
  result = []
  for d in dims:
    if d is None:
      result.append(None)
    elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
      result.append(int(d))
    else:
      raise errors.InvalidTypeError(
          f'Expected shape dimensions to be non-negative ints or None, '
          f'found {d!r} in shape {shape!r}.')
  return tuple(result)


def _dtype_name(dtype: np.dtype) -> str:
  return 'str' if dtype == _STRING_DTYPE else dtype.name


class TensorType(Type):
  """The type of a tensor: a dtype and a shape.

  `shape=()` (the default) is a scalar; a dimension of `None` is unknown;
  `shape=None` is a tensor of unknown rank.
  """

  @classmethod
  def _normalize(cls, dtype, shape=()):
    return (_to_numpy_dtype(dtype), _to_shape(shape))

  @classmethod
  def _from_key(cls, key):
    return cls(*key)

  def _init_from_key(self, key):
    self._dtype, self._shape = key

  def _key(self):
    return (self._dtype, self._shape)

  @property
  def dtype(self) -> np.dtype:
    return self._dtype

  @property
  def shape(self) -> Shape:
    return self._shape

  @property
  def tf_dtype(self) -> tf.dtypes.DType:
    return tf.string if self._dtype == _STRING_DTYPE else tf.as_dtype(self._dtype)

  def is_assignable_from(self, source: Type) -> bool:
    if not isinstance(source, TensorType) or self._dtype != source._dtype:
      return False
    if self._shape is None:
      return True
    if source._shape is None or len(self._shape) != len(source._shape):
      return False
    return all(t is None or t == s for t, s in zip(self._shape, source._shape))

  def __repr__(self):
    dtype = 'np.str_' if self._dtype == _STRING_DTYPE else f'np.{self._dtype.name}'
    if self._shape == ():
      return f'TensorType({dtype})'
    shape = None if self._shape is None else list(self._shape)
    return f'TensorType({dtype}, {shape!r})'


# ---------------------------------------------------------------------------
# Structs.


class StructType(Type):
  """The type of a struct: an ordered sequence of optionally named elements.

  Elements are given as a Python container of types, or as a list whose
  items are `(name, type)` pairs or bare types (unnamed elements). Element
  names, where given, are unique non-empty strings.

  Elements are reachable by index (`t[0]`), by name (`t['a']` or `t.a`), and
  by iteration (over the element types).
  """

  @classmethod
  def _normalize(cls, elements, convert=True):
    return (_normalize_elements(elements, convert),)

  @classmethod
  def _from_key(cls, key):
    return cls(list(key[0]))

  def _init_from_key(self, key):
    self._elements = key[0]
    self._name_to_index = {
        n: i for i, (n, _) in enumerate(self._elements) if n is not None}

  def _key(self):
    return (self._elements,)

  @property
  def python_container(self) -> Optional[type]:
    """The Python container values of this type convert to (None: `Struct`)."""
    return None

  def items(self) -> Iterator[Tuple[Optional[str], Type]]:
    return iter(self._elements)

  def names(self) -> list:
    return [n for n, _ in self._elements]

  def children(self):
    return (t for _, t in self._elements)

  def __len__(self):
    return len(self._elements)

  def __iter__(self):
    return self.children()

  def __getitem__(self, key: Union[int, str, slice]):
    if isinstance(key, str):
      try:
        return self._elements[self._name_to_index[key]][1]
      except KeyError:
        raise KeyError(f'{self} has no element named {key!r}.') from None
    if isinstance(key, slice):
      return [t for _, t in self._elements[key]]
    return self._elements[key][1]

  def __getattr__(self, name: str):
    if name.startswith('_'):
      raise AttributeError(name)
    index = self.__dict__.get('_name_to_index', {}).get(name)
    if index is None:
      raise AttributeError(f'{self} has no element named {name!r}.')
    return self._elements[index][1]

  def __dir__(self):
    return list(super().__dir__()) + list(self._name_to_index)

  def is_assignable_from(self, source: Type) -> bool:
    if not isinstance(source, StructType) or len(self) != len(source):
      return False
    for (t_name, t_type), (s_name, s_type) in zip(self._elements,
                                                  source._elements):
      if s_name is not None and s_name != t_name:
        return False
      if not t_type.is_assignable_from(s_type):
        return False
    return True

  def __repr__(self):
    return f'StructType({_elements_repr(self._elements)})'


class StructWithPythonType(StructType):
  """A `StructType` that remembers the Python container of its values.

  Containers: list, tuple, dict, OrderedDict, namedtuple classes, attrs and
  dataclass classes. Assignability ignores the container; identity does not.
  """

  @classmethod
  def _normalize(cls, elements, container_type):
    if not isinstance(container_type, type):
      raise errors.InvalidTypeError(
          f'Expected a Python container class, found {container_type!r}.')
    return (_normalize_elements(elements, True), container_type)

  @classmethod
  def _from_key(cls, key):
    return cls(list(key[0]), key[1])

  def _init_from_key(self, key):
    super()._init_from_key(key)
    self._container = key[1]

  def _key(self):
    return (self._elements, self._container)

  @property
  def python_container(self) -> type:
    return self._container

  def __repr__(self):
    return (f'StructWithPythonType({_elements_repr(self._elements)}, '
            f'{_container_repr(self._container)})')


def _container_repr(container: type) -> str:
  if container is collections.OrderedDict:
    return 'collections.OrderedDict'
  return container.__qualname__


def _elements_repr(elements) -> str:
  parts = [repr(t) if n is None else f'({n!r}, {t!r})' for n, t in elements]
  return '[' + ', '.join(parts) + ']'


def _normalize_elements(elements, convert: bool) -> tuple:
  """Turns the `elements` argument of `StructType` into ((name, Type), ...)."""
  if isinstance(elements, StructType):
    return elements._elements
  pairs = None
  if isinstance(elements, dict) or python_containers.is_named_tuple(elements) or python_containers.is_attrs(
      elements) or python_containers.is_dataclass(elements):
    pairs = python_containers.elements(elements)
  elif isinstance(elements, (list, tuple)):
    pairs = []
    for e in elements:
      if (isinstance(e, tuple) and len(e) == 2 and
          (e[0] is None or isinstance(e[0], str)) and not python_containers.is_named_tuple(e)):
        pairs.append(e)
      else:
        pairs.append((None, e))
  else:
    raise errors.InvalidTypeError(
        f'Expected struct elements as a list or a Python container, found '
        f'{elements!r}.')
  result = []
  seen = set()
  for name, value in pairs:
    if name is not None:
      if not isinstance(name, str) or not name:
        raise errors.InvalidTypeError(
            f'Struct element names must be non-empty strings, found {name!r}.')
      if name in seen:
        raise errors.InvalidTypeError(
            f'Struct element name {name!r} appears more than once.')
      seen.add(name)
    result.append((name, to_type(value) if convert else value))
  for _, t in result:
    if not isinstance(t, Type):
      raise errors.InvalidTypeError(f'Expected a tffx type, found {t!r}.')
  return tuple(result)


# ---------------------------------------------------------------------------
# Sequences, functions, abstract and placement types.


class SequenceType(Type):
  """The type of a sequence (a `tf.data.Dataset`) of `element` values.

  Elements are tensors or structs of tensors; a sequence cannot hold
  functions, sequences, placements or federated values.
  """

  @classmethod
  def _normalize(cls, element):
    element = to_type(element)
    _check_contains_only(element, (TensorType, StructType, AbstractType),
                         f'the element of a sequence type <{element}>')
    return (element,)

  @classmethod
  def _from_key(cls, key):
    return cls(*key)

  def _init_from_key(self, key):
    (self._element,) = key

  def _key(self):
    return (self._element,)

  @property
  def element(self) -> Type:
    return self._element

  def children(self):
    yield self._element

  def is_assignable_from(self, source: Type) -> bool:
    return isinstance(source, SequenceType) and self._element.is_assignable_from(
        source._element)

  def __repr__(self):
    return f'SequenceType({self._element!r})'


class FunctionType(Type):
  """The type of a function; `parameter` is None for a no-argument function."""

  @classmethod
  def _normalize(cls, parameter, result):
    return (None if parameter is None else to_type(parameter), to_type(result))

  @classmethod
  def _from_key(cls, key):
    return cls(*key)

  def _init_from_key(self, key):
    self._parameter, self._result = key

  def _key(self):
    return (self._parameter, self._result)

  @property
  def parameter(self) -> Optional[Type]:
    return self._parameter

  @property
  def result(self) -> Type:
    return self._result

  def children(self):
    if self._parameter is not None:
      yield self._parameter
    yield self._result

  def is_assignable_from(self, source: Type) -> bool:
    if not isinstance(source, FunctionType):
      return False
    if (self._parameter is None) != (source._parameter is None):
      return False
    # Parameters are contravariant, results covariant.
    if self._parameter is not None and not source._parameter.is_assignable_from(
        self._parameter):
      return False
    return self._result.is_assignable_from(source._result)

  def __repr__(self):
    return f'FunctionType({self._parameter!r}, {self._result!r})'


class AbstractType(Type):
  """A type variable, such as `T` in the signature `(T -> T)`."""

  @classmethod
  def _normalize(cls, label):
    if not isinstance(label, str) or not label:
      raise errors.InvalidTypeError(
          f'Expected a non-empty string label, found {label!r}.')
    return (label,)

  @classmethod
  def _from_key(cls, key):
    return cls(*key)

  def _init_from_key(self, key):
    (self._label,) = key

  def _key(self):
    return (self._label,)

  @property
  def label(self) -> str:
    return self._label

  def is_assignable_from(self, source: Type) -> bool:
    return self is source

  def __repr__(self):
    return f'AbstractType({self._label!r})'


class PlacementType(Type):
  """The type of a placement literal such as `CLIENTS`."""

  @classmethod
  def _normalize(cls):
    return ()

  @classmethod
  def _from_key(cls, key):
    return cls()

  def _init_from_key(self, key):
    pass

  def _key(self):
    return ()

  def is_assignable_from(self, source: Type) -> bool:
    return isinstance(source, PlacementType)

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
    member = to_type(member)
    _check_contains_only(
        member, (TensorType, StructType, SequenceType, AbstractType),
        f'the member of a federated type placed at {placement}')
    if all_equal is None:
      all_equal = placement.default_all_equal
    return (member, placement, bool(all_equal))

  @classmethod
  def _from_key(cls, key):
    return cls(*key)

  def _init_from_key(self, key):
    self._member, self._placement, self._all_equal = key

  def _key(self):
    return (self._member, self._placement, self._all_equal)

  @property
  def member(self) -> Type:
    return self._member

  @property
  def placement(self) -> placements.PlacementLiteral:
    return self._placement

  @property
  def all_equal(self) -> bool:
    return self._all_equal

  def children(self):
    yield self._member

  def is_assignable_from(self, source: Type) -> bool:
    return (isinstance(source, FederatedType) and
            self._placement is source._placement and
            (not self._all_equal or source._all_equal) and
            self._member.is_assignable_from(source._member))

  def __repr__(self):
    if self._all_equal == self._placement.default_all_equal:
      return f'FederatedType({self._member!r}, {self._placement!r})'
    return (f'FederatedType({self._member!r}, {self._placement!r}, '
            f'all_equal={self._all_equal})')


def type_at_clients(type_spec: Any, all_equal: bool = False) -> FederatedType:
  """Returns `{T}@CLIENTS` (or `T@CLIENTS` when `all_equal`) for `type_spec`."""
  return FederatedType(type_spec, placements.CLIENTS, all_equal)


def type_at_server(type_spec: Any) -> FederatedType:
  """Returns `T@SERVER` for `type_spec`."""
  return FederatedType(type_spec, placements.SERVER)


def _check_contains_only(type_spec: Type, allowed: tuple, what: str) -> None:
  """Refuses `type_spec` if it or any nested type is not of an allowed class."""
  pending = [type_spec]
  while pending:
    t = pending.pop()
    if not isinstance(t, allowed):
      raise errors.InvalidTypeError(
          f'Type {t} cannot appear in {what}; found it in {type_spec}. '
          f'Allowed there: {", ".join(c.__name__ for c in allowed)}.')
    pending.extend(t.children())


# ---------------------------------------------------------------------------
# Conversion from type specs.


def _is_dtype_spec(spec) -> bool:
  if isinstance(spec, tf.dtypes.DType):
    return True
  if isinstance(spec, np.dtype):
    return True
  return isinstance(spec, type) and issubclass(spec, (np.generic,))


def _is_shape_spec(spec) -> bool:
  if isinstance(spec, tf.TensorShape):
    return True
  if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
    return True
  if isinstance(spec, (list, tuple)) and not python_containers.is_named_tuple(spec):
    return all(d is None or (isinstance(d, (int, np.integer)) and
                             not isinstance(d, bool)) for d in spec)
  return False


def to_type(spec: Any) -> Type:
  """Converts a type spec to a tffx `Type`.

  Accepts: tffx types; numpy dtypes and scalar classes (`np.int32`);
  `tf.DType`s; `tf.TensorSpec`s; `tf.data` element specs such as
  `tf.data.DatasetSpec`; `(dtype, shape)` pairs; and Python containers
  (list, tuple, dict, OrderedDict, namedtuple, attrs, dataclass) of these,
  which become `StructWithPythonType`s. A list of `(name, spec)` pairs
  becomes a named `StructType`.

  Raises:
    UnsupportedTypeSpecError: if `spec` cannot be converted.
  """
  if isinstance(spec, Type):
    return spec
  if _is_dtype_spec(spec):
    return TensorType(spec)
  if isinstance(spec, tf.TensorSpec):
    return TensorType(spec.dtype, spec.shape)
  if isinstance(spec, tf.data.DatasetSpec):
    return SequenceType(to_type(spec.element_spec))
  if isinstance(spec, tuple) and not python_containers.is_named_tuple(spec) and len(
      spec) == 2 and _is_dtype_spec(spec[0]) and _is_shape_spec(spec[1]):
    return TensorType(spec[0], spec[1])
  if isinstance(spec, list) and spec and all(
      isinstance(e, tuple) and len(e) == 2 and isinstance(e[0], str)
      and not python_containers.is_named_tuple(e) for e in spec):
    return StructType(spec)
  if python_containers.is_container(spec):
    elements = python_containers.elements(spec)
    return StructWithPythonType([(n, to_type(v)) for n, v in elements],
                                type(spec))
  raise errors.UnsupportedTypeSpecError(
      f'Cannot convert {spec!r} of Python type {type(spec).__name__} to a '
      f'tffx type. Expected a tffx type, a numpy dtype, a tf.DType, a '
      f'tf.TensorSpec, a tf.data element spec, a (dtype, shape) pair, or a '
      f'Python container of these.')


# ---------------------------------------------------------------------------
# String forms and error messages.


def _compact(t: Type) -> str:
  if isinstance(t, TensorType):
    name = _dtype_name(t.dtype)
    if t.shape is None:
      return f'{name}[?]'
    if not t.shape:
      return name
    return name + '[' + ','.join('?' if d is None else str(d)
                                 for d in t.shape) + ']'
  if isinstance(t, StructType):
    return '<' + ','.join(_compact(e) if n is None else f'{n}={_compact(e)}'
                          for n, e in t.items()) + '>'
  if isinstance(t, SequenceType):
    return f'{_compact(t.element)}*'
  if isinstance(t, FunctionType):
    param = '' if t.parameter is None else _compact(t.parameter)
    return f'({param} -> {_compact(t.result)})'
  if isinstance(t, AbstractType):
    return t.label
  if isinstance(t, PlacementType):
    return 'placement'
  if isinstance(t, FederatedType):
    member = _compact(t.member)
    if t.all_equal:
      return f'{member}@{t.placement}'
    return f'{{{member}}}@{t.placement}'
  raise TypeError(f'Unknown type class {type(t)!r}.')


def _first_difference(target: Type, source: Type,
                      related) -> Tuple[str, Type, Type]:
  """Returns (path, target part, source part) of the innermost differing pair.

  `related(t, s)` is the relation being checked. The path is empty when the
  difference is at the top level.
  """
  path = ''
  while True:
    if (isinstance(target, StructType) and isinstance(source, StructType) and
        len(target) == len(source)):
      step = None
      for i, ((tn, tt), (sn, st)) in enumerate(zip(target.items(),
                                                   source.items())):
        label = repr(tn) if tn is not None else str(i)
        if tn != sn and (sn is not None or related is not _assignable):
          return (f'{path}[{label}] (names {tn!r} vs {sn!r})', tt, st)
        if not related(tt, st):
          step = (label, tt, st)
          break
      if step is None:
        return path, target, source
      path = f'{path}[{step[0]}]'
      target, source = step[1], step[2]
    elif (isinstance(target, FederatedType) and
          isinstance(source, FederatedType) and
          target.placement is source.placement and
          not related(target.member, source.member)):
      path = f'{path}.member'
      target, source = target.member, source.member
    elif (isinstance(target, SequenceType) and isinstance(source, SequenceType)
          and not related(target.element, source.element)):
      path = f'{path}.element'
      target, source = target.element, source.element
    else:
      return path, target, source


def _assignable(t: Type, s: Type) -> bool:
  return t.is_assignable_from(s)


def _relation_message(target: Type, source: Type, relation: str,
                      related) -> str:
  """Builds 'Expected <a> to be ... <b>.' with the first difference and tips."""
  if relation == 'to be assignable from':
    related = _assignable
  message = f'Expected {target} {relation} {source}.'
  path, t, s = _first_difference(target, source, related)
  if path:
    message += f' First difference at {path.lstrip(".")}: {t} vs {s}.'
  if isinstance(t, StructType) and isinstance(s, StructType) and len(t) != len(
      s):
    message += f' The structs have {len(t)} and {len(s)} elements.'
  if isinstance(t, FederatedType) and isinstance(s, FederatedType):
    if t.placement is not s.placement:
      message += f' The placements differ: {t.placement} vs {s.placement}.'
    elif t.all_equal and not s.all_equal:
      message += (' Tip: the expected type is all-equal, but the given value '
                  'may differ across participants.')
  if relation == 'to be identical to' and target.is_equivalent_to(source):
    message += ' The types differ only in their Python containers.'
  return message
