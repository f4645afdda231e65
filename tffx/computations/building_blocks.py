"""The typed intermediate representation of federated programs.

A program is a tree of immutable building blocks, each with a
`type_signature`:

    Lambda(x: {float32}@CLIENTS)
      `-- Block(locals=[fc_0 = Call(Intrinsic(federated_map), Struct[f, x])])
            `-- Call(Intrinsic(federated_mean), Reference(fc_0))

    Reference   a name bound by an enclosing Lambda or Block
    Selection   an element of a struct, by index
    Struct      a tuple of optionally named values
    Call        a function applied to an optional argument
    Lambda      a function of one optional parameter
    Block       local bindings evaluated in order, then a result
    Intrinsic   a federated operator, by uri (see `intrinsic_defs`)
    Data        an external value, by uri
    Placement   CLIENTS or SERVER as a value
    Literal     a constant array
    TensorFlow  a serialized TensorFlow graph (see `tensorflow_computation`)

Building blocks check their types when built. This module neither traces
Python code nor evaluates programs.
"""

from typing import Iterator, Optional, Sequence, Tuple

import numpy as np

from tffx.proto import computation_pb2
from tffx.types import computation_types
from tffx.types import placements as placements_lib


class ComputationBuildingBlock:
  """Base class of the IR nodes. Subclasses are immutable."""

  # A weak reference lets executors keep what they learn about a block.
  __slots__ = ('_type_signature', '__weakref__')

  def __init__(self, type_signature: computation_types.Type):
    if not isinstance(type_signature, computation_types.Type):
      raise TypeError(f'Expected a tffx type, found {type_signature!r}.')
    object.__setattr__(self, '_type_signature', type_signature)

  def __setattr__(self, name, value):
    raise AttributeError(f'{type(self).__name__} is immutable.')

  @property
  def type_signature(self) -> computation_types.Type:
    return self._type_signature

  def children(self) -> Iterator['ComputationBuildingBlock']:
    return iter(())

  def compact_representation(self) -> str:
    return _compact(self)

  def formatted_representation(self) -> str:
    return '\n'.join(_formatted(self, 0))

  def __str__(self) -> str:
    return _compact(self)


class Reference(ComputationBuildingBlock):
  """A reference to a name bound by an enclosing Lambda or Block."""

  __slots__ = ('_name',)

  def __init__(self, name: str, type_signature):
    if not isinstance(name, str) or not name:
      raise TypeError(f'Expected a non-empty name, found {name!r}.')
    super().__init__(computation_types.to_type(type_signature))
    object.__setattr__(self, '_name', name)

  @property
  def name(self) -> str:
    return self._name

  def __repr__(self):
    return f'Reference({self._name!r}, {self.type_signature!r})'


class Selection(ComputationBuildingBlock):
  """Element `index` (or the element called `name`) of a struct-typed source."""

  __slots__ = ('_source', '_index')

  def __init__(self, source: ComputationBuildingBlock,
               name: Optional[str] = None, index: Optional[int] = None):
    _check_block(source)
    source_type = source.type_signature
    if not isinstance(source_type, computation_types.StructType):
      raise TypeError(
          f'Selection needs a struct-typed source, found {source_type}.')
    if (name is None) == (index is None):
      raise ValueError('Give exactly one of `name` and `index`.')
    if name is not None:
      names = source_type.names()
      if name not in names:
        raise ValueError(
            f'No element named {name!r} in {source_type}; names: {names}.')
      index = names.index(name)
    if not 0 <= index < len(source_type):
      raise IndexError(
          f'Index {index} out of range for {source_type} with '
          f'{len(source_type)} elements.')
    super().__init__(source_type[index])
    object.__setattr__(self, '_source', source)
    object.__setattr__(self, '_index', index)

  @property
  def source(self) -> ComputationBuildingBlock:
    return self._source

  @property
  def index(self) -> int:
    return self._index

  @property
  def name(self) -> Optional[str]:
    return self._source.type_signature.names()[self._index]

  def children(self):
    yield self._source

  def __repr__(self):
    return f'Selection({self._source!r}, index={self._index})'


class Struct(ComputationBuildingBlock):
  """A struct of optionally named building blocks.

  `container_type` is the Python container the value converts to (list,
  OrderedDict, ...); None gives a plain `StructType`.
  """

  __slots__ = ('_elements',)

  def __init__(self, elements: Sequence, container_type: Optional[type] = None):
    pairs = []
    for e in elements:
      if isinstance(e, tuple) and len(e) == 2:
        pairs.append(e)
      else:
        pairs.append((None, e))
    for _, value in pairs:
      _check_block(value)
    type_elements = [(n, v.type_signature) for n, v in pairs]
    if container_type is None:
      struct_type = computation_types.StructType(type_elements)
    else:
      struct_type = computation_types.StructWithPythonType(
          type_elements, container_type)
    super().__init__(struct_type)
    object.__setattr__(self, '_elements', tuple(pairs))

  def items(self) -> Iterator[Tuple[Optional[str], ComputationBuildingBlock]]:
    return iter(self._elements)

  def __len__(self):
    return len(self._elements)

  def __getitem__(self, index: int) -> ComputationBuildingBlock:
    return self._elements[index][1]

  def children(self):
    return (v for _, v in self._elements)

  def __repr__(self):
    return f'Struct({list(self._elements)!r})'


class Call(ComputationBuildingBlock):
  """A call of a function-typed block on an optional argument."""

  __slots__ = ('_function', '_argument')

  def __init__(self, function: ComputationBuildingBlock,
               argument: Optional[ComputationBuildingBlock] = None):
    _check_block(function)
    fn_type = function.type_signature
    if not isinstance(fn_type, computation_types.FunctionType):
      raise TypeError(f'Cannot call a value of non-function type {fn_type}.')
    if argument is None:
      if fn_type.parameter is not None:
        raise TypeError(
            f'The function of type {fn_type} needs an argument of type '
            f'{fn_type.parameter}; none was given.')
    else:
      _check_block(argument)
      if fn_type.parameter is None:
        raise TypeError(
            f'The function of type {fn_type} takes no argument; given one of '
            f'type {argument.type_signature}.')
      fn_type.parameter.check_assignable_from(argument.type_signature)
    super().__init__(fn_type.result)
    object.__setattr__(self, '_function', function)
    object.__setattr__(self, '_argument', argument)

  @property
  def function(self) -> ComputationBuildingBlock:
    return self._function

  @property
  def argument(self) -> Optional[ComputationBuildingBlock]:
    return self._argument

  def children(self):
    yield self._function
    if self._argument is not None:
      yield self._argument

  def __repr__(self):
    return f'Call({self._function!r}, {self._argument!r})'


class Lambda(ComputationBuildingBlock):
  """A function `(parameter_name -> result)`; no parameter when name is None."""

  __slots__ = ('_parameter_name', '_parameter_type', '_result')

  def __init__(self, parameter_name: Optional[str], parameter_type,
               result: ComputationBuildingBlock):
    if (parameter_name is None) != (parameter_type is None):
      raise ValueError('Give both a parameter name and type, or neither.')
    if parameter_type is not None:
      parameter_type = computation_types.to_type(parameter_type)
    _check_block(result)
    super().__init__(
        computation_types.FunctionType(parameter_type, result.type_signature))
    object.__setattr__(self, '_parameter_name', parameter_name)
    object.__setattr__(self, '_parameter_type', parameter_type)
    object.__setattr__(self, '_result', result)

  @property
  def parameter_name(self) -> Optional[str]:
    return self._parameter_name

  @property
  def parameter_type(self) -> Optional[computation_types.Type]:
    return self._parameter_type

  @property
  def result(self) -> ComputationBuildingBlock:
    return self._result

  def children(self):
    yield self._result

  def __repr__(self):
    return (f'Lambda({self._parameter_name!r}, {self._parameter_type!r}, '
            f'{self._result!r})')


class Block(ComputationBuildingBlock):
  """`let name_1 = v_1, ..., name_n = v_n in result`, evaluated in order."""

  __slots__ = ('_locals', '_result')

  def __init__(self, local_symbols: Sequence[Tuple[str,
                                                   ComputationBuildingBlock]],
               result: ComputationBuildingBlock):
    local_symbols = tuple(local_symbols)
    for name, value in local_symbols:
      if not isinstance(name, str) or not name:
        raise TypeError(f'Expected a non-empty local name, found {name!r}.')
      _check_block(value)
    _check_block(result)
    super().__init__(result.type_signature)
    object.__setattr__(self, '_locals', local_symbols)
    object.__setattr__(self, '_result', result)

  @property
  def locals(self) -> Tuple[Tuple[str, ComputationBuildingBlock], ...]:
    return self._locals

  @property
  def result(self) -> ComputationBuildingBlock:
    return self._result

  def children(self):
    for _, value in self._locals:
      yield value
    yield self._result

  def __repr__(self):
    return f'Block({list(self._locals)!r}, {self._result!r})'


class Intrinsic(ComputationBuildingBlock):
  """A federated operator by uri, at a concrete (non-abstract) type."""

  __slots__ = ('_uri',)

  def __init__(self, uri: str, type_signature):
    if not isinstance(uri, str) or not uri:
      raise TypeError(f'Expected a non-empty intrinsic uri, found {uri!r}.')
    super().__init__(computation_types.to_type(type_signature))
    object.__setattr__(self, '_uri', uri)

  @property
  def uri(self) -> str:
    return self._uri

  def __repr__(self):
    return f'Intrinsic({self._uri!r}, {self.type_signature!r})'


class Data(ComputationBuildingBlock):
  """An external value known by uri; executors resolve it, if they can."""

  __slots__ = ('_uri',)

  def __init__(self, uri: str, type_signature):
    super().__init__(computation_types.to_type(type_signature))
    object.__setattr__(self, '_uri', uri)

  @property
  def uri(self) -> str:
    return self._uri

  def __repr__(self):
    return f'Data({self._uri!r}, {self.type_signature!r})'


class Placement(ComputationBuildingBlock):
  """A placement literal used as a value (argument of e.g. federated_value)."""

  __slots__ = ('_placement',)

  def __init__(self, placement: placements_lib.PlacementLiteral):
    if not isinstance(placement, placements_lib.PlacementLiteral):
      raise TypeError(f'Expected a placement, found {placement!r}.')
    super().__init__(computation_types.PlacementType())
    object.__setattr__(self, '_placement', placement)

  @property
  def placement(self) -> placements_lib.PlacementLiteral:
    return self._placement

  def __repr__(self):
    return f'Placement({self._placement!r})'


class Literal(ComputationBuildingBlock):
  """A constant tensor value (a numpy array or scalar)."""

  __slots__ = ('_value',)

  def __init__(self, value, type_signature=None):
    array = np.asarray(value)
    if type_signature is None:
      type_signature = computation_types.TensorType(array.dtype, array.shape)
    type_signature = computation_types.to_type(type_signature)
    if not isinstance(type_signature, computation_types.TensorType):
      raise TypeError(f'A literal must have a tensor type, found '
                      f'{type_signature}.')
    if type_signature.dtype.kind != 'U':
      array = array.astype(type_signature.dtype, copy=False)
    if type_signature.shape is not None and (
        len(type_signature.shape) != array.ndim or any(
            d is not None and d != s
            for d, s in zip(type_signature.shape, array.shape))):
      raise TypeError(f'Literal of shape {array.shape} does not match type '
                      f'{type_signature}.')
    array.setflags(write=False)
    super().__init__(type_signature)
    object.__setattr__(self, '_value', array)

  @property
  def value(self) -> np.ndarray:
    return self._value

  def __repr__(self):
    return f'Literal({self._value!r}, {self.type_signature!r})'


class TensorFlow(ComputationBuildingBlock):
  """A serialized TensorFlow graph with a function type.

  `proto` is a `computation_pb2.TensorFlow` message: the GraphDef and the
  tensor names bound to the leaves of the parameter and result types.
  """

  __slots__ = ('_proto',)

  def __init__(self, proto: computation_pb2.TensorFlow, type_signature):
    if not isinstance(proto, computation_pb2.TensorFlow):
      raise TypeError(f'Expected a computation_pb2.TensorFlow, found '
                      f'{type(proto).__name__}.')
    type_signature = computation_types.to_type(type_signature)
    if not isinstance(type_signature, computation_types.FunctionType):
      raise TypeError(f'A TensorFlow computation has a function type, found '
                      f'{type_signature}.')
    super().__init__(type_signature)
    object.__setattr__(self, '_proto', proto)

  @property
  def proto(self) -> computation_pb2.TensorFlow:
    return self._proto

  @property
  def name(self) -> str:
    return self._proto.name

  def __repr__(self):
    return f'TensorFlow(<{self._proto.name}>, {self.type_signature!r})'


def _check_block(value) -> None:
  if not isinstance(value, ComputationBuildingBlock):
    raise TypeError(
        f'Expected a building block, found {type(value).__name__}: {value!r}.')


# ---------------------------------------------------------------------------
# Printing.


def _compact(bb: ComputationBuildingBlock) -> str:
  if isinstance(bb, Reference):
    return bb.name
  if isinstance(bb, Selection):
    name = bb.name
    return f'{_compact(bb.source)}.{name if name is not None else bb.index}'
  if isinstance(bb, Struct):
    return '<' + ','.join(_compact(v) if n is None else f'{n}={_compact(v)}'
                          for n, v in bb.items()) + '>'
  if isinstance(bb, Call):
    arg = '' if bb.argument is None else _compact(bb.argument)
    return f'{_compact(bb.function)}({arg})'
  if isinstance(bb, Lambda):
    param = bb.parameter_name or ''
    return f'({param} -> {_compact(bb.result)})'
  if isinstance(bb, Block):
    bindings = ','.join(f'{n}={_compact(v)}' for n, v in bb.locals)
    return f'(let {bindings} in {_compact(bb.result)})'
  if isinstance(bb, Intrinsic):
    return bb.uri
  if isinstance(bb, Data):
    return f'data<{bb.uri}>'
  if isinstance(bb, Placement):
    return bb.placement.uri.upper()
  if isinstance(bb, Literal):
    return np.array2string(bb.value, separator=',', threshold=8)
  if isinstance(bb, TensorFlow):
    return f'comp#{bb.name}' if bb.name else 'comp#tensorflow'
  raise TypeError(f'Unknown building block {type(bb).__name__}.')


def _formatted(bb: ComputationBuildingBlock, indent: int) -> list:
  """Multi-line form: one line per block local, nested lambdas indented."""
  pad = '  ' * indent
  if isinstance(bb, Lambda):
    head = f'{pad}({bb.parameter_name or ""} ->'
    return [head] + _formatted(bb.result, indent + 1) + [f'{pad})']
  if isinstance(bb, Block):
    lines = [f'{pad}let']
    for name, value in bb.locals:
      inner = _formatted(value, indent + 2)
      first = inner[0].lstrip()
      lines.append(f'{pad}  {name}={first}')
      lines.extend(inner[1:])
    lines.append(f'{pad}in')
    lines.extend(_formatted(bb.result, indent + 1))
    return lines
  return [pad + _compact(bb)]
