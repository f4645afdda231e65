"""The decorator machinery shared by `tf_computation` and `federated_computation`.

    @decorator                 polymorphic (or concrete when fn has no params)
    @decorator(spec, ...)      concrete, parameter type from the specs
    decorator(fn, spec, ...)   the same, called directly

A *tracer* turns a Python function and a parameter type into a function-typed
building block: `tracer(fn, parameter_type, unpack) -> ComputationBuildingBlock`.
`unpack` says how to call `fn` with the symbolic argument (see
`call_with_argument`). This module does not know how tracing works.
"""

import functools
import inspect
import threading
from typing import Any, Callable, Optional, Sequence

from tffx.computations import computation_impl
from tffx.types import computation_types
from tffx.types import structure
from tffx.types import type_conversions

Tracer = Callable[[Callable, Optional[computation_types.Type], bool], Any]


def _positional_names(fn: Callable) -> Optional[list]:
  """Names of fn's positional parameters; None if it takes `*args`."""
  try:
    sig = inspect.signature(fn)
  except (TypeError, ValueError):
    return None
  names = []
  for p in sig.parameters.values():
    if p.kind == inspect.Parameter.VAR_POSITIONAL:
      return None
    if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                  inspect.Parameter.POSITIONAL_OR_KEYWORD):
      names.append(p.name)
  return names


def _required_count(fn: Callable) -> int:
  try:
    sig = inspect.signature(fn)
  except (TypeError, ValueError):
    return 0
  return sum(1 for p in sig.parameters.values()
             if p.default is inspect.Parameter.empty and p.kind in (
                 inspect.Parameter.POSITIONAL_ONLY,
                 inspect.Parameter.POSITIONAL_OR_KEYWORD))


def parameter_type_from_specs(fn: Callable, specs: Sequence[Any]):
  """Builds the parameter type from decorator specs and fn's parameter names.

  Returns (parameter_type, unpack): `unpack` is True when fn takes several
  parameters that receive the elements of a struct argument.
  """
  names = _positional_names(fn)
  if not specs:
    return None, False
  if len(specs) == 1:
    t = computation_types.to_type(specs[0])
    count = len(names) if names is not None else None
    unpack = (isinstance(t, computation_types.StructType) and count is not None
              and count > 1 and len(t) == count)
    if unpack and any(n is None for n in t.names()):
      t = computation_types.StructType([
          (n if n is not None else names[i], e)
          for i, (n, e) in enumerate(t.items())
      ]) if not t.python_container else t
    return t, unpack
  types = [computation_types.to_type(s) for s in specs]
  if names is not None and len(names) == len(types):
    return computation_types.StructType(list(zip(names, types))), True
  if names is not None and len(names) != len(types):
    raise TypeError(
        f'{fn.__name__} takes {len(names)} positional parameters, but '
        f'{len(types)} type specs were given.')
  return computation_types.StructType([(None, t) for t in types]), True


def call_with_argument(fn: Callable, arg: Any, unpack: bool,
                       select: Callable[[Any, int], Any]) -> Any:
  """Calls fn with `arg`, or with its elements when `unpack` is set."""
  if unpack:
    count = len(arg.type_signature) if hasattr(arg, 'type_signature') else len(
        arg)
    return fn(*(select(arg, i) for i in range(count)))
  return fn(arg)


class PolymorphicComputation(computation_impl.Computation):
  """A computation whose parameter type comes from the first call's arguments.

  Concrete computations are built per argument type and cached.
  """

  def __init__(self, fn: Callable, make_concrete: Callable):
    self._fn = fn
    self._make_concrete = make_concrete
    self._cache = {}
    self._lock = threading.Lock()
    functools.update_wrapper(self, fn)

  @property
  def type_signature(self):
    raise TypeError(
        f'{self._fn.__name__} is polymorphic: it has no type signature until '
        f'it is called or given a type spec.')

  def concrete(self, *specs) -> computation_impl.ConcreteComputation:
    """Returns the concrete computation for the given parameter type specs."""
    key = tuple(computation_types.to_type(s) for s in specs)
    with self._lock:
      comp = self._cache.get(key)
    if comp is None:
      comp = self._make_concrete(*key)
      with self._lock:
        comp = self._cache.setdefault(key, comp)
    return comp

  def __call__(self, *args, **kwargs):
    names = _positional_names(self._fn) or []
    if kwargs:
      values = list(args) + [kwargs.pop(n) for n in names[len(args):]
                             if n in kwargs]
      if kwargs:
        raise TypeError(f'{self._fn.__name__} got unexpected keyword '
                        f'arguments {sorted(kwargs)}.')
      args = tuple(values)
    specs = [type_conversions.infer_type(a) for a in args]
    comp = self.concrete(*specs)
    if len(args) == 1:
      return comp(args[0])
    return comp(*args)


def make_decorator(tracer: Tracer, kind: str) -> Callable:
  """Returns a decorator that traces functions with `tracer`."""

  def build(fn: Callable, specs: Sequence[Any]):
    parameter_type, unpack = parameter_type_from_specs(fn, specs)
    block = tracer(fn, parameter_type, unpack)
    comp = computation_impl.ConcreteComputation(
        block, name=getattr(fn, '__name__', kind))
    functools.update_wrapper(comp, fn, updated=())
    return comp

  def polymorphic_or_concrete(fn: Callable):
    if _required_count(fn) == 0 and not _takes_var_args(fn):
      return build(fn, [])
    return PolymorphicComputation(fn, lambda *specs: build(fn, specs))

  def decorator(*args):
    if args and callable(args[0]) and not isinstance(
        args[0], computation_types.Type) and not isinstance(args[0], type):
      fn, specs = args[0], args[1:]
      if not specs:
        return polymorphic_or_concrete(fn)
      return build(fn, specs)
    if not args:
      return polymorphic_or_concrete
    return lambda fn: build(fn, args)

  decorator.__name__ = kind
  return decorator


def _takes_var_args(fn: Callable) -> bool:
  return _positional_names(fn) is None
