"""Symbolic values of a federated computation, and the context they record into.

While `tffx.federated_computation` traces a Python function, the function
sees `Value`s: wrappers of building blocks with a `type_signature`. Using a
value records IR instead of computing anything:

    x.a, x[0]         Selection (a federated_map / federated_map_all_equal /
                      federated_apply of a selection lambda when x is a
                      federated struct such as {<a=int32>}@CLIENTS)
    f(x)              Call of a function-typed value, bound as a local
    comp(x)           Call of a computation (through `FederatedContext.invoke`)

`to_value` turns what Python code hands over into values: Python containers
of values become Struct blocks (keeping the container), Python and numpy
constants become Literal blocks, computations become their building block.

`FederatedContext` is the tracing context: it hands out deterministic names
and keeps the calls recorded so far, in order, as the locals of the Block the
tracer builds. This module neither defines the intrinsics (see `intrinsics`)
nor the decorator (see `federated_computation`).
"""

import contextlib
import threading
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks
from tffx.computations import computation_impl
from tffx.computations import computation_wrapper
from tffx.computations import context_stack
from tffx.computations import errors
from tffx.computations import intrinsic_defs
from tffx.types import computation_types
from tffx.types import placements
from tffx.types import python_containers
from tffx.types import structure
from tffx.types import type_conversions
from tffx.types import typed_object


_Local = Tuple[str, building_blocks.ComputationBuildingBlock]


class _NameCounter:
  """The counters, one per name prefix, of a trace and the traces in it."""

  def __init__(self):
    self.next = {}


class FederatedContext(context_stack.Context):
  """The context of one `federated_computation` trace.

  Calls made while it is current are bound, in order, to fresh local names.
  Names come from a counter shared with enclosing traces, so a nested trace
  never shadows a name it captures; the same program gets the same names.
  """

  def __init__(self, parent: Optional['FederatedContext'] = None):
    self._parent = parent
    self._counter = parent._counter if parent is not None else _NameCounter()
    self._locals: List[_Local] = []

  @property
  def parent(self) -> Optional['FederatedContext']:
    return self._parent

  @property
  def locals(self) -> Tuple[_Local, ...]:
    return tuple(self._locals)

  def fresh_name(self, prefix: str) -> str:
    """Returns `prefix` followed by a number not used in this trace tree."""
    count = self._counter.next.get(prefix, 0)
    self._counter.next[prefix] = count + 1
    return f'{prefix}{count}'

  def parameter_name(self) -> str:
    """The name of the traced function's parameter."""
    if self._parent is None:
      return 'arg'
    return self.fresh_name('arg')

  def bind(self, block: building_blocks.ComputationBuildingBlock) -> 'Value':
    """Binds `block` to a fresh local and returns a reference to it."""
    name = self.fresh_name('fc')
    self._locals.append((name, block))
    return Value(building_blocks.Reference(name, block.type_signature))

  def call(self, fn: 'Value', arg: Any, name: Optional[str] = None) -> 'Value':
    """Records the call of function-typed `fn` on `arg` (None: no argument)."""
    fn_type = fn.type_signature
    what = name or str(fn.comp)
    if fn_type.parameter is None:
      if arg is not None:
        raise errors.CallArgumentError(
            f'{what} expects no argument; found one of type '
            f'{to_value(arg).type_signature}.')
      return self.bind(building_blocks.Call(fn.comp))
    if arg is None:
      raise errors.CallArgumentError(
          f'{what} expects an argument of type {fn_type.parameter}; found '
          f'none.')
    arg = to_value(arg, fn_type.parameter)
    if not fn_type.parameter.is_assignable_from(arg.type_signature):
      raise errors.CallArgumentError(
          f'{what} expects an argument of type {fn_type.parameter}; found '
          f'{arg.type_signature}.')
    return self.bind(building_blocks.Call(fn.comp, arg.comp))

  def invoke(self, comp, arg: Any) -> 'Value':
    """Records a call of computation `comp` (see `context_stack.Context`)."""
    return self.call(to_value(comp), arg, getattr(comp, 'name', None))


class _TraceStack(threading.local):

  def __init__(self):
    super().__init__()
    self.contexts = []


_traces = _TraceStack()


@contextlib.contextmanager
def tracing(context: FederatedContext) -> Iterator[FederatedContext]:
  """Makes `context` the current context (of `context_stack`) while tracing."""
  _traces.contexts.append(context)
  try:
    with context_stack.with_context(context):
      yield context
  finally:
    _traces.contexts.pop()


def current_context() -> Optional[FederatedContext]:
  """The federated context being traced in this thread, or None.

  None also when another context (e.g. a `tf_computation` trace) is on top.
  """
  if not _traces.contexts:
    return None
  # The context stack is not empty here, so this builds no default context.
  context = context_stack.get_context()
  return context if context is _traces.contexts[-1] else None


def require_context(what: str) -> FederatedContext:
  """The current federated context; raises FederatedContextError if none."""
  context = current_context()
  if context is None:
    raise errors.FederatedContextError(
        f'{what} can only be used while tracing a tffx.federated_computation; '
        f'found no federated computation being traced. Tip: call it inside '
        f'a function decorated with @tffx.federated_computation.')
  return context


class Value(typed_object.TypedObject):
  """A symbolic value of a federated computation: a typed building block.

  Elements of struct values are reachable as `v.name`, `v['name']` and
  `v[i]`; struct values support `len` and iteration; function-typed values
  can be called. Values are immutable and only meaningful inside the
  federated computation being traced.
  """

  __slots__ = ('_comp',)

  def __init__(self, comp: building_blocks.ComputationBuildingBlock):
    if not isinstance(comp, building_blocks.ComputationBuildingBlock):
      raise TypeError(f'Expected a building block, found '
                      f'{type(comp).__name__}.')
    object.__setattr__(self, '_comp', comp)

  def __setattr__(self, name, value):
    raise AttributeError('Value is immutable.')

  @property
  def comp(self) -> building_blocks.ComputationBuildingBlock:
    return self._comp

  @property
  def type_signature(self) -> computation_types.Type:
    return self._comp.type_signature

  def __repr__(self) -> str:
    return (f'Value({self._comp.compact_representation()}: '
            f'{self.type_signature})')

  def __str__(self) -> str:
    return self._comp.compact_representation()

  def __dir__(self):
    names = list(super().__dir__())
    struct_type = _struct_type(self.type_signature)
    if struct_type is not None:
      names.extend(n for n in struct_type.names() if n is not None)
    return names

  def __getattr__(self, name: str) -> 'Value':
    if name.startswith('__') or name in Value.__slots__:
      raise AttributeError(name)
    struct_type = _struct_type(self.type_signature)
    if struct_type is None or name not in struct_type.names():
      raise AttributeError(
          f'Expected a struct with an element named {name!r}; found a value '
          f'of type {self.type_signature}.')
    return _select(self, name, None)

  def __getitem__(self, key) -> 'Value':
    struct_type = _struct_type(self.type_signature)
    if struct_type is None:
      raise errors.TracedValueError(
          f'Expected a struct (or a federated struct) to index with '
          f'{key!r}; found a value of type {self.type_signature}.')
    if isinstance(key, str):
      if key not in struct_type.names():
        raise KeyError(f'Expected a struct with an element named {key!r}; '
                       f'found {self.type_signature}.')
      return _select(self, key, None)
    if isinstance(key, slice):
      if isinstance(self.type_signature, computation_types.FederatedType):
        raise errors.TracedValueError(
            f'Slicing a federated struct is not supported; found '
            f'{self.type_signature}. Tip: select the elements one by one.')
      return Value(building_blocks.Struct([
          (struct_type.names()[i], _select(self, None, i).comp)
          for i in range(len(struct_type))[key]
      ]))
    if not isinstance(key, (int, np.integer)) or isinstance(key, bool):
      raise errors.TracedValueError(
          f'Expected an int, a str or a slice to index {self.type_signature}; '
          f'found {key!r}.')
    index = int(key) + len(struct_type) if key < 0 else int(key)
    if not 0 <= index < len(struct_type):
      raise IndexError(f'Index {key} is out of range for {self.type_signature} '
                       f'with {len(struct_type)} elements.')
    return _select(self, None, index)

  def _struct_type(self, what: str) -> computation_types.StructType:
    """The struct type of this value, or of its member when it is federated."""
    type_spec = self.type_signature
    if isinstance(type_spec, computation_types.FederatedType):
      type_spec = type_spec.member
    if not isinstance(type_spec, computation_types.StructType):
      raise errors.TracedValueError(
          f'Expected a struct (or a federated struct) to {what}; found a '
          f'value of type {self.type_signature}.')
    return type_spec

  def __len__(self) -> int:
    return len(self._struct_type('take the length of'))

  def __iter__(self) -> Iterator['Value']:
    # A federated struct iterates over federated selections, so that
    # `a, b = federated_map(fn, x)` works as on a plain struct.
    return (self[i] for i in range(len(self._struct_type('iterate over'))))

  def __call__(self, *args, **kwargs) -> 'Value':
    fn_type = self.type_signature
    if not isinstance(fn_type, computation_types.FunctionType):
      raise errors.TracedValueError(
          f'Expected a function to call; found a value of type {fn_type}.')
    context = require_context('Calling a traced value')
    arg = computation_impl.pack_args(fn_type.parameter, args, kwargs,
                                     str(self._comp))
    return context.call(self, arg)

  def __bool__(self):
    raise errors.TracedValueError(
        f'A traced value of type {self.type_signature} has no truth value: it '
        f'is symbolic while the federated computation is traced. Tip: do '
        f'data-dependent control flow inside a tffx.tf_computation.')


def _struct_type(type_spec) -> Optional[computation_types.StructType]:
  """The struct that selection reaches: the type, or its federated member."""
  if isinstance(type_spec, computation_types.StructType):
    return type_spec
  if isinstance(type_spec, computation_types.FederatedType) and isinstance(
      type_spec.member, computation_types.StructType):
    return type_spec.member
  return None


def _select(value: Value, name: Optional[str], index: Optional[int]) -> Value:
  """Selects an element of a struct, or of each member of a federated struct."""
  if isinstance(value.type_signature, computation_types.StructType):
    return Value(building_blocks.Selection(value.comp, name=name, index=index))
  context = require_context('Selecting from a federated value')
  member = value.type_signature.member
  parameter = context.fresh_name('x')
  selection = building_blocks.Selection(
      building_blocks.Reference(parameter, member), name=name, index=index)
  fn = Value(building_blocks.Lambda(parameter, member, selection))
  uri = map_uri(value.type_signature)
  if uri is None:
    raise errors.TracedValueError(
        f'Expected a struct placed at CLIENTS, or all-equal at SERVER, to '
        f'select from; found {value.type_signature}.')
  return context.bind(
      intrinsic_call(uri, {
          'T': member,
          'U': selection.type_signature
      }, [fn, value]))


def map_uri(type_spec: computation_types.FederatedType) -> Optional[str]:
  """The intrinsic that maps a function over a value of this federated type.

  federated_map for {T}@CLIENTS, federated_map_all_equal for T@CLIENTS,
  federated_apply for T@SERVER; None for anything else.
  """
  if not isinstance(type_spec, computation_types.FederatedType):
    return None
  if type_spec.placement is placements.SERVER:
    return 'federated_apply' if type_spec.all_equal else None
  if type_spec.all_equal:
    return 'federated_map_all_equal'
  return 'federated_map'


def intrinsic_call(uri: str, bindings: dict,
                   args: Sequence[Value]) -> building_blocks.Call:
  """The Call of intrinsic `uri`, at its type specialized by `bindings`.

  Several arguments are passed as an unnamed Struct in the table's order.
  Callers check the argument types first, to give users a clear error; the
  building blocks check them again.
  """
  intrinsic = building_blocks.Intrinsic(
      uri, intrinsic_defs.specialize(uri, bindings))
  if len(args) == 1:
    argument = args[0].comp
  else:
    argument = building_blocks.Struct([(None, a.comp) for a in args])
  return building_blocks.Call(intrinsic, argument)


# ---------------------------------------------------------------------------
# Conversion of Python objects to values.


def to_value(value: Any,
             type_hint: Optional[computation_types.Type] = None,
             parameter_type_hint: Optional[computation_types.Type] = None
            ) -> Value:
  """Turns `value` into a `Value` of the federated computation being traced.

  Args:
    value: A `Value`; a building block; a computation; a placement literal; a
      Python or numpy constant; an eager tensor; or a Python container or
      `Struct` of these.
    type_hint: The type the value is expected to have, if known. Python
      scalars are cast to its dtype when that loses nothing (so `0` can be a
      float32 zero); containers pass its elements on. Nothing is checked
      against it: callers compare the result's type.
    parameter_type_hint: The parameter type to instantiate a polymorphic
      computation at.

  Raises:
    ValueConversionError: if `value` cannot become a value.
  """
  if isinstance(value, Value):
    return value
  if isinstance(value, building_blocks.ComputationBuildingBlock):
    return Value(value)
  if isinstance(value, computation_wrapper.PolymorphicComputation):
    if parameter_type_hint is None:
      raise errors.ValueConversionError(
          f'Cannot use the polymorphic computation {value.__name__} here: '
          f'expected a parameter type to instantiate it at; found none. Tip: '
          f'give the decorator type specs, e.g. '
          f'@tffx.tf_computation(np.int32).')
    return to_value(value.concrete(parameter_type_hint))
  if isinstance(value, computation_impl.ConcreteComputation):
    return Value(value.to_building_block())
  if isinstance(value, placements.PlacementLiteral):
    return Value(building_blocks.Placement(value))
  if isinstance(value, structure.Struct):
    return Value(_struct_block(list(value.items()), None, type_hint))
  if python_containers.is_container(value):
    return Value(
        _struct_block(python_containers.elements(value), type(value),
                      type_hint))
  if isinstance(value, (bool, int, float, str, bytes, np.ndarray, np.generic)):
    return Value(_literal(value, type_hint))
  if isinstance(value, tf.Tensor):
    if not hasattr(value, 'numpy') or not tf.executing_eagerly():
      raise errors.ValueConversionError(
          f'Expected a constant; found the graph tensor {value.name}. Tip: '
          f'TensorFlow code belongs in a tffx.tf_computation.')
    return Value(_literal(value.numpy(), type_hint))
  if value is None:
    raise errors.ValueConversionError(
        'Expected a value; found None. Tip: a federated computation must '
        'return a value.')
  if callable(value):
    name = getattr(value, '__name__', type(value).__name__)
    raise errors.ValueConversionError(
        f'Expected a computation or a traced value; found the Python function '
        f'{name}. Tip: decorate it with @tffx.tf_computation or '
        f'@tffx.federated_computation.')
  raise errors.ValueConversionError(
      f'Expected a traced value, a computation, a constant or a Python '
      f'container of these; found {value!r} of type {type(value).__name__}.')


def public_to_value(arg: Any, type_spec: Any = None) -> Value:
  """Converts `arg` to a `Value`, as TFF's `tff.to_value`.

  Args:
    arg: Anything `to_value` accepts: a value, a computation, a placement, a
      constant, or a Python container or `Struct` of these.
    type_spec: The type `arg` should have (anything `to_type` accepts), to
      pick it among types with the same Python form (e.g. int64 for `1`).

  Raises:
    ValueConversionError: if `arg` cannot become a value.
    TypeNotAssignableError: if the value does not fit `type_spec`.
  """
  type_spec = None if type_spec is None else computation_types.to_type(
      type_spec)
  value = to_value(arg, type_hint=type_spec)
  if type_spec is not None:
    type_spec.check_assignable_from(value.type_signature)
  return value


def _struct_block(pairs, container: Optional[type], type_hint):
  hints = [None] * len(pairs)
  if isinstance(type_hint, computation_types.StructType) and len(
      type_hint) == len(pairs):
    hints = list(type_hint)
  elements = [(name, to_value(v, hint).comp)
              for (name, v), hint in zip(pairs, hints)]
  return building_blocks.Struct(elements, container)


def _literal(value, type_hint) -> building_blocks.Literal:
  """A Literal for a constant; Python scalars take the hint's dtype if exact."""
  if isinstance(value, bytes):
    value = value.decode('utf-8')
  if isinstance(value, (bool, int, float)):
    # Python numbers take tffx's defaults (int32, float32), or the hint's
    # dtype when it is of their kind: bool to bool, int to an integer dtype
    # that holds it exactly or to a float, float to a float.
    array = np.asarray(value, type_conversions.infer_type(value).dtype)
    if isinstance(type_hint, computation_types.TensorType):
      kind = type_hint.dtype.kind
      if isinstance(value, bool):
        fits = kind == 'b'
      elif isinstance(value, int):
        fits = kind in 'fc' or kind in 'iu' and (
            np.iinfo(type_hint.dtype).min <= value <= np.iinfo(
                type_hint.dtype).max)
      else:
        fits = kind in 'fc'
      if fits:
        array = np.asarray(value, type_hint.dtype)
  else:
    array = np.asarray(value)
  return building_blocks.Literal(
      array, computation_types.TensorType(array.dtype, array.shape))
