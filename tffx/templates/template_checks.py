"""Checks shared by the templates: computations, placements, federated types.

Each template validates its computations in `__init__`. The checks that more
than one template needs live here; each takes the error class to raise, so
that e.g. `AggregationProcess` raises `AggregationPlacementError` where
`FinalizerProcess` raises `TemplatePlacementError` for the same rule.
This module only inspects type signatures; it builds no computation.
"""

from typing import Any, Optional, Type

from tffx.computations import computation_impl
from tffx.types import computation_types
from tffx.types import placements


def check_computation(value: Any, name: str) -> computation_types.FunctionType:
  """Returns the type signature of `value`, a concrete `Computation`.

  Args:
    value: The object given to a template as `name`.
    name: The argument name used in the error message (`'initialize_fn'`).

  Raises:
    TypeError: if `value` is not a `Computation`, or is polymorphic (has no
      type signature yet).
  """
  if not isinstance(value, computation_impl.Computation):
    raise TypeError(
        f'Expected `{name}` to be a tffx.Computation, found '
        f'{type(value).__name__}: {value!r}. Tip: decorate the function with '
        f'@tffx.federated_computation or @tffx.tf_computation.')
  try:
    return value.type_signature
  except TypeError as e:
    raise TypeError(
        f'Expected `{name}` to be a computation with a type signature, but it '
        f'is polymorphic ({e}). Tip: give the decorator the parameter types, '
        f'e.g. @tffx.federated_computation(tffx.type_at_server(np.float32)).'
    ) from None


def is_nonempty_struct(type_spec: Optional[computation_types.Type]) -> bool:
  return isinstance(type_spec, computation_types.StructType) and len(
      type_spec) > 0


def contains_only_structs(type_spec: computation_types.Type) -> bool:
  """Whether `type_spec` is made of structs only (no value to communicate)."""
  if isinstance(type_spec, computation_types.FederatedType):
    type_spec = type_spec.member
  if not isinstance(type_spec, computation_types.StructType):
    return False
  return all(contains_only_structs(t) for t in type_spec)


def with_container(type_spec: computation_types.Type) -> str:
  """`type_spec` and the name of its Python container, for error messages."""
  container = getattr(type_spec, 'python_container', None)
  name = 'none' if container is None else container.__name__
  if not isinstance(type_spec, computation_types.StructType):
    return str(type_spec)
  return f'{type_spec} (Python container: {name})'


def describe(name: str, comp_type: computation_types.FunctionType) -> str:
  """One line naming a computation and its type, for error messages."""
  return f'\n  {name}: {comp_type}'


def check_federated(type_spec: computation_types.Type, what: str,
                    error: Type[TypeError], context: str = '') -> None:
  """Raises `error` unless `type_spec` is a `FederatedType`.

  Args:
    type_spec: The type to check.
    what: What the type is, for the message ("the result of `initialize_fn`").
    error: The error class to raise.
    context: Extra lines for the message (e.g. the computation's signature).
  """
  if not isinstance(type_spec, computation_types.FederatedType):
    raise error(
        f'Expected {what} to be a federated type (placed at SERVER or '
        f'CLIENTS), found the unplaced type {type_spec}.{context}\nTip: if '
        f'it is a struct of federated values, wrap it in '
        f'`tffx.federated_zip` before returning it.')


def check_placement(type_spec: computation_types.Type,
                    placement: placements.PlacementLiteral, what: str,
                    error: Type[TypeError], context: str = '') -> None:
  """Raises `error` unless `type_spec` is federated, placed at `placement`."""
  if not isinstance(type_spec, computation_types.FederatedType):
    tip = ''
    if (isinstance(type_spec, computation_types.StructType) and
        not _unplaced_leaves(type_spec)):
      tip = ('\nTip: it is a struct of federated values; zip it into one '
             'federated value with `tffx.federated_zip`.')
    raise error(f'Expected {what} to be placed at {placement}, found the '
                f'unplaced type {type_spec}.{context}{tip}')
  if type_spec.placement is not placement:
    raise error(f'Expected {what} to be placed at {placement}, found '
                f'{type_spec}.{context}')


def _unplaced_leaves(type_spec: computation_types.Type):
  """The non-federated leaves of `type_spec`, looking through structs."""
  if isinstance(type_spec, computation_types.StructType):
    return [leaf for t in type_spec for leaf in _unplaced_leaves(t)]
  if isinstance(type_spec, computation_types.FederatedType):
    return []
  return [type_spec]


def check_next_is_federated(next_type: computation_types.FunctionType,
                            error: Type[TypeError]) -> None:
  """Raises `error` unless every argument and output field of next is federated.

  The arguments are the elements of the parameter struct (or the parameter
  itself when it is not a struct); the output fields are the elements of the
  result struct (state, result, measurements). As in TFF, a struct counts
  as federated here when all its leaves are: a struct of federated values
  that should have been zipped is refused by the placement checks that
  follow (with the template's placement error), not by this one.
  """
  parameter = next_type.parameter
  arguments = (list(parameter) if isinstance(
      parameter, computation_types.StructType) else [parameter])
  result = next_type.result
  outputs = (list(result.items()) if isinstance(
      result, computation_types.StructType) else [(None, result)])
  offending = [f'argument {i}: {t}' for i, t in enumerate(arguments)
               if _unplaced_leaves(t)]
  offending += [f'result field {n}: {t}' for n, t in outputs
                if _unplaced_leaves(t)]
  if offending:
    listing = '\n  - '.join(offending)
    raise error(
        f'Expected `next_fn` to be a federated computation, whose every '
        f'argument and output field is placed at SERVER or CLIENTS, found '
        f'`next_fn` of type\n  {next_type}\nwith unplaced parts:\n  - '
        f'{listing}\nTip: wrap a struct of federated values in '
        f'`tffx.federated_zip`, and place constants with '
        f'`tffx.federated_value`.')


def check_num_args(next_type: computation_types.FunctionType,
                   expected: int, at_least: bool, error: Type[TypeError],
                   signature: str) -> None:
  """Raises `error` unless next's parameter is a struct of `expected` arguments.

  Args:
    next_type: The type signature of `next_fn`.
    expected: The number of arguments wanted.
    at_least: Whether more arguments are allowed.
    error: The error class to raise.
    signature: The expected signature, shown in the message.
  """
  parameter = next_type.parameter
  count = len(parameter) if isinstance(parameter,
                                       computation_types.StructType) else None
  if count is not None and (count == expected or at_least and count > expected):
    return
  wanted = f'at least {expected}' if at_least else f'exactly {expected}'
  if parameter is None:
    found = 'no argument'
  elif count is None:
    found = 'a single argument that is not a struct'
  else:
    found = f'{count} argument(s)'
  raise error(
      f'Expected `next_fn` to take {wanted} arguments, found {found}: '
      f'`next_fn` has type\n  {next_type}\nExpected signature:\n  {signature}')


def check_unplaced_type(type_spec: Any, what: str) -> computation_types.Type:
  """Converts `type_spec` to a type; raises TypeError if it is not a value type.

  A value type is made of tensors, structs and sequences: no placement,
  function or federated type anywhere in it.
  """
  type_spec = computation_types.to_type(type_spec)
  pending = [type_spec]
  while pending:
    t = pending.pop()
    if isinstance(t, (computation_types.FederatedType,
                      computation_types.FunctionType,
                      computation_types.PlacementType)):
      raise TypeError(
          f'Expected {what} to be an unplaced type of tensors, structs or '
          f'sequences, found {type_spec} (it contains {t}).')
    pending.extend(t.children())
  return type_spec
