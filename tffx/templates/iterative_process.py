"""`IterativeProcess`: a pair of computations, `initialize` and `next`.

    state = process.initialize()
    for _ in range(rounds):
      state = process.next(state)          # or: state, out = process.next(state, x)

    initialize: ( -> S)
    next:       (S -> S), (<S, *> -> S) or (<S, *> -> <S, *>)

The template only checks that the two computations fit together (the state
goes round); it neither runs them nor builds new ones. Stricter templates
(`MeasuredProcess`, `AggregationProcess`, ...) subclass it.
"""

from typing import Optional

from tffx.computations import computation_impl
from tffx.templates import errors
from tffx.templates import template_checks
from tffx.types import computation_types


def _infer_state_type(init_type: computation_types.FunctionType,
                      next_type: computation_types.FunctionType,
                      next_is_multi_arg: Optional[bool]
                     ) -> computation_types.Type:
  """Returns the state parameter of `next`: its whole parameter or the first.

  With `next_is_multi_arg=None` the whole parameter is tried first, then its
  first element; True forces the first element, False the whole parameter.
  """
  init_result = init_type.result
  parameter = next_type.parameter
  signatures = (template_checks.describe('initialize_fn', init_type) +
                template_checks.describe('next_fn', next_type))
  if parameter is None:
    raise errors.TemplateNextFnNumArgsError(
        f'Expected `next_fn` to take the state as its only or first argument, '
        f'found a `next_fn` with no argument.{signatures}')
  if next_is_multi_arg is None:
    if parameter.is_assignable_from(init_result):
      return parameter
    if template_checks.is_nonempty_struct(parameter) and parameter[
        0].is_assignable_from(init_result):
      return parameter[0]
    raise errors.TemplateStateNotAssignableError(
        f'Expected the result of `initialize_fn` ({init_result}) to be '
        f'assignable to the whole argument of `next_fn` ({parameter}) or to '
        f'its first argument.{signatures}')
  if next_is_multi_arg:
    if not template_checks.is_nonempty_struct(parameter):
      raise errors.TemplateNextFnNumArgsError(
          f'Expected `next_fn` to take several arguments (a struct whose first '
          f'element is the state), found the argument type {parameter}.'
          f'{signatures}')
    if parameter[0].is_assignable_from(init_result):
      return parameter[0]
    raise errors.TemplateStateNotAssignableError(
        f'Expected the result of `initialize_fn` ({init_result}) to be '
        f'assignable to the first argument of `next_fn` ({parameter[0]}).'
        f'{signatures}')
  if parameter.is_assignable_from(init_result):
    return parameter
  raise errors.TemplateStateNotAssignableError(
      f'Expected the result of `initialize_fn` ({init_result}) to be '
      f'assignable to the argument of `next_fn` ({parameter}).{signatures}')


class IterativeProcess:
  """A process of an `initialize` computation and an iterated `next`.

  Type signatures, with `S` the state:

      initialize: ( -> S)
      next:       (S -> S)  or  (<S, *> -> <S, *>)

  `next` takes the state as its only argument or as the first of several,
  and returns the new state as its whole result or as the first element of
  a struct.
  """

  def __init__(self,
               initialize_fn: computation_impl.Computation,
               next_fn: computation_impl.Computation,
               next_is_multi_arg: Optional[bool] = None):
    """Creates an `IterativeProcess`.

    Args:
      initialize_fn: A no-argument `tffx.Computation` returning the initial
        state, of type `S`.
      next_fn: A `tffx.Computation` whose only or first argument accepts `S`,
        and whose whole result or first result element is the new state,
        also assignable to that argument.
      next_is_multi_arg: Whether the state is the first of several arguments
        of `next_fn` (True) or its whole argument (False). None (default)
        tries the whole argument first, then the first element.

    Raises:
      TypeError: if `initialize_fn` or `next_fn` is not a computation with a
        type signature.
      TemplateInitFnParamNotEmptyError: if `initialize_fn` takes an argument.
      TemplateNextFnNumArgsError: if `next_fn` takes no argument, or
        `next_is_multi_arg` is True and its argument is not a non-empty struct.
      TemplateStateNotAssignableError: if the state returned by
        `initialize_fn` or by `next_fn` is not assignable to the state
        argument of `next_fn`.
    """
    init_type = template_checks.check_computation(initialize_fn,
                                                  'initialize_fn')
    if init_type.parameter is not None:
      raise errors.TemplateInitFnParamNotEmptyError(
          f'Expected `initialize_fn` to take no argument, found one of type '
          f'{init_type.parameter}.'
          f'{template_checks.describe("initialize_fn", init_type)}\nTip: '
          f'initial values go inside `initialize_fn`, e.g. returned by a '
          f'@tffx.federated_computation with no parameter.')
    next_type = template_checks.check_computation(next_fn, 'next_fn')
    state_type = _infer_state_type(init_type, next_type, next_is_multi_arg)

    result = next_type.result
    if not (state_type.is_assignable_from(result) or
            template_checks.is_nonempty_struct(result) and
            state_type.is_assignable_from(result[0])):
      raise errors.TemplateStateNotAssignableError(
          f'Expected the result of `next_fn`, or its first element, to be the '
          f'new state, assignable to the state argument {state_type}; found '
          f'the result type {result}.'
          f'{template_checks.describe("next_fn", next_type)}')
    self._initialize_fn = initialize_fn
    self._next_fn = next_fn
    self._state_type = state_type

  @property
  def initialize(self) -> computation_impl.Computation:
    """A no-argument `tffx.Computation` that returns the initial state."""
    return self._initialize_fn

  @property
  def next(self) -> computation_impl.Computation:
    """A `tffx.Computation` that runs one iteration of the process.

    Its only or first argument is the current state (first produced by
    `initialize`); its whole result or first result element is the new state.
    """
    return self._next_fn

  @property
  def state_type(self) -> computation_types.Type:
    """The `tffx.Type` of the state: the state argument of `next`."""
    return self._state_type


def is_stateful(process: IterativeProcess) -> bool:
  """Whether `process` has a state holding values.

  A state made only of (nested, possibly federated) empty structs carries
  nothing: flattening it gives no tensor. Such a process is stateless.

  Args:
    process: An `IterativeProcess`.

  Returns:
    False iff the state type, unplaced, contains only struct types.

  Raises:
    TypeError: if `process` is not an `IterativeProcess`.
  """
  if not isinstance(process, IterativeProcess):
    raise TypeError(f'Expected an IterativeProcess, found '
                    f'{type(process).__name__}.')
  return not template_checks.contains_only_structs(process.state_type)
