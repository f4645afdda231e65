"""`tffx.federated_computation`: traces Python over placed values into the IR.

    @tffx.federated_computation(tffx.FederatedType(np.float32, tffx.CLIENTS))
    def mean(x):
      return tffx.federated_mean(x)

    str(mean)  ==  '(arg -> (let fc0=federated_mean(arg) in fc0))'

The decorated function runs once per parameter type, on symbolic values
(`value_impl.Value`), with a `value_impl.FederatedContext` on the context
stack. Intrinsics and calls of computations are recorded, in call order, as
the locals of a Block; the result is a `Lambda` (`Lambda(None, None, ...)`
for a function of no parameter). Names are deterministic (`arg`, `fc0`,
`fc1`, ...), so tracing the same program twice gives the same IR.

A federated computation decorated inside another one is traced nested: it
may use the enclosing computation's values, and its names never clash with
them. This module does not check intrinsic arguments (see `intrinsics`) and
does not run anything.
"""

from typing import Callable, Optional

from tffx.computations import building_blocks
from tffx.computations import computation_wrapper
from tffx.computations import errors
from tffx.computations import value_impl
from tffx.types import computation_types


def _trace(fn: Callable, parameter_type: Optional[computation_types.Type],
           unpack: bool) -> building_blocks.Lambda:
  """Traces `fn` into a Lambda (the tracer of `make_decorator`)."""
  context = value_impl.FederatedContext(parent=value_impl.current_context())
  fn_name = getattr(fn, '__name__', 'federated_computation')
  with value_impl.tracing(context):
    if parameter_type is None:
      parameter_name = None
      result = fn()
    else:
      parameter_name = context.parameter_name()
      parameter = value_impl.Value(
          building_blocks.Reference(parameter_name, parameter_type))
      result = computation_wrapper.call_with_argument(
          fn, parameter, unpack, lambda value, i: value[i])
    if result is None:
      raise errors.ValueConversionError(
          f'Expected federated computation {fn_name} to return a value; found '
          f'None. Tip: add a return statement.')
    result = value_impl.to_value(result).comp
  body = building_blocks.Block(context.locals,
                               result) if context.locals else result
  lambda_block = building_blocks.Lambda(parameter_name, parameter_type, body)
  if context.parent is None:
    escaped = free_references(lambda_block)
    if escaped:
      raise errors.FederatedContextError(
          f'Expected federated computation {fn_name} to use only its own '
          f'values; found values of another computation: '
          f'{", ".join(sorted(escaped))}. Tip: values created while tracing '
          f'one computation cannot be kept for another one.')
  return lambda_block


def free_references(block: building_blocks.ComputationBuildingBlock) -> set:
  """The names referenced in `block` and not bound inside it."""
  if isinstance(block, building_blocks.Reference):
    return {block.name}
  if isinstance(block, building_blocks.Lambda):
    return free_references(block.result) - {block.parameter_name}
  if isinstance(block, building_blocks.Block):
    free, bound = set(), set()
    for name, value in block.locals:
      free |= free_references(value) - bound
      bound.add(name)
    return free | (free_references(block.result) - bound)
  free = set()
  for child in block.children():
    free |= free_references(child)
  return free


federated_computation = computation_wrapper.make_decorator(
    _trace, 'federated_computation')
federated_computation.__doc__ = """Decorates a function as a federated computation.

Forms (as `tffx.tf_computation`):

    @federated_computation                 polymorphic, or concrete when the
                                           function takes no parameter
    @federated_computation(spec, ...)      concrete, parameter types from specs
    federated_computation(fn, spec, ...)   the same, called directly

The function is traced over symbolic values; inside it, call intrinsics
(`tffx.federated_sum`, ...) and computations. The result is a
`ConcreteComputation` (or a `PolymorphicComputation`) whose building block is
a `Lambda`.

Raises:
  ValueConversionError: if the function returns None or something that is
    not a value.
  FederatedContextError: if a value of another computation is used.
  IntrinsicTypeError, PlacementError, CallArgumentError: from the calls the
    function makes.
"""
