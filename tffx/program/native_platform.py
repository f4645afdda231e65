"""`NativeFederatedContext`: federated programs on tffx's own execution contexts.

    context = NativeFederatedContext(
        tffx.backends.native.create_local_execution_context())
    with tffx.computations.context_stack.with_context(context):   # or
    tffx.computations.context_stack.set_default_context(context)
      state = initialize()                  # NativeValueReference(s)
      state, metrics = train(state, data)   # references go back in as values
      release_manager.release(metrics, round_num)

Each tensor or dataset in a result is a `NativeValueReference`; an argument
may hold references, which are materialized before the call. Computations
must return server-placed (or unplaced) data only. As TensorFlow
Federated's `tff.program.NativeFederatedContext`, but synchronous: the call
returns when the computation has run, and `get_value()` returns the value
it holds (TFF's reference awaits a running task).
"""

from typing import Any

from tffx.backends import native
from tffx.computations import context_stack
from tffx.program import federated_context
from tffx.program import value_paths
from tffx.program import value_reference
from tffx.types import computation_types


class NativeValueReference(value_reference.MaterializableValueReference):
  """A reference to a value computed by a `NativeFederatedContext`."""

  def __init__(self, value: Any,
               type_signature: value_reference.MaterializableTypeSignature):
    """Wraps `value`, of type `type_signature` (a tensor or sequence type).

    Raises:
      TypeError: if `type_signature` is not a tensor or sequence type.
    """
    if not isinstance(type_signature, (computation_types.TensorType,
                                       computation_types.SequenceType)):
      raise TypeError(f'Expected a tensor or sequence type, found '
                      f'{type_signature}.')
    self._value = value
    self._type_signature = type_signature

  @property
  def type_signature(self) -> value_reference.MaterializableTypeSignature:
    return self._type_signature

  def get_value(self) -> value_reference.MaterializedValue:
    return self._value

  def __repr__(self) -> str:
    return f'NativeValueReference({self._type_signature})'


def _leaf_types(type_signature: computation_types.Type) -> list:
  """Returns the tensor and sequence types of `type_signature`, in order."""
  if isinstance(type_signature, computation_types.FederatedType):
    return _leaf_types(type_signature.member)
  if isinstance(type_signature, computation_types.StructType):
    return [leaf for t in type_signature for leaf in _leaf_types(t)]
  return [type_signature]


def _to_references(value: Any, type_signature: computation_types.Type) -> Any:
  """Returns `value` with each leaf wrapped in a `NativeValueReference`."""
  leaves = value_paths.flatten_with_paths(value)
  types = _leaf_types(type_signature)
  if len(leaves) != len(types):
    raise ValueError(f'Expected a result with {len(types)} leaves of type '
                     f'{type_signature}, found {len(leaves)}.')
  references = {
      path: NativeValueReference(leaf, leaf_type)
      for (path, leaf), leaf_type in zip(leaves, types)
  }
  return value_paths.pack_by_paths(value, references)


class NativeFederatedContext(federated_context.FederatedContext):
  """A `FederatedContext` that runs computations on a tffx execution context."""

  def __init__(self, context: context_stack.Context):
    """Wraps `context`, e.g. `tffx.backends.native.create_local_execution_context()`.

    Raises:
      TypeError: if `context` is not a synchronous tffx context (the async
        one returns coroutines, which this context does not await).
    """
    if (not isinstance(context, context_stack.Context) or
        isinstance(context, federated_context.FederatedContext) or
        isinstance(context, native.AsyncExecutionContext)):
      raise TypeError(f'Expected a synchronous tffx execution context, found '
                      f'{type(context).__name__}.')
    self._context = context

  def invoke(self, comp, arg: Any) -> Any:
    """Runs `comp` on `arg` (references materialized); returns references.

    Raises:
      ValueError: if the result type of `comp` has data that is not placed
        at the server (or unplaced).
    """
    result_type = comp.type_signature.result
    if not federated_context.contains_only_server_placed_data(result_type):
      raise ValueError(f'Expected the result type of the computation to '
                       f'contain only values placed at SERVER, found '
                       f'{result_type}.')
    if arg is not None:
      arg = value_reference.materialize_value(arg)
    result = self._context.invoke(comp, arg)
    if result is None:
      return None
    return _to_references(result, result_type)
