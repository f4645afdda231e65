"""`EstimationProcess`: an iterative process that can report an estimate.

    initialize: ( -> S)
    next:       (S -> S)  or  (<S, *> -> <S, *>)
    report:     (S -> E)

`report` reads an estimate (e.g. a quantile or a clipping norm) from the
state without advancing the process. `map(fn)` gives a process reporting
`fn(report(state))`. This module checks type signatures and builds the mapped
`report` with `tffx.federated_computation`; it runs nothing.
"""

from typing import Optional

from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.templates import errors
from tffx.templates import iterative_process
from tffx.templates import template_checks


class EstimateNotAssignableError(TypeError):
  """The estimate of `report` does not fit the function given to `map`."""


class EstimationProcess(iterative_process.IterativeProcess):
  """An `IterativeProcess` with a `report` computation giving an estimate.

  Type signatures, with `S` the state and `E` the estimate:

      initialize: ( -> S)
      next:       (S -> S)  or  (<S, *> -> <S, *>)
      report:     (S -> E)

  The constraints of `IterativeProcess` hold for `initialize` and `next`.
  """

  def __init__(self,
               initialize_fn: computation_impl.Computation,
               next_fn: computation_impl.Computation,
               report_fn: computation_impl.Computation,
               next_is_multi_arg: Optional[bool] = None):
    """Creates an `EstimationProcess`.

    Args:
      initialize_fn: A no-argument `tffx.Computation` returning the initial
        state `S`.
      next_fn: A `tffx.Computation` advancing the state (see
        `IterativeProcess`).
      report_fn: A `tffx.Computation` whose argument accepts the state `S`
        and whose result is the estimate `E`.
      next_is_multi_arg: Whether the state is the first of several arguments
        of `next_fn`; None (default) infers it.

    Raises:
      TypeError: if `initialize_fn`, `next_fn` or `report_fn` is not a
        computation.
      TemplateInitFnParamNotEmptyError: if `initialize_fn` takes an argument.
      TemplateNextFnNumArgsError: if `next_fn` takes no argument (or not a
        struct when `next_is_multi_arg` is True).
      TemplateStateNotAssignableError: if the state returned by
        `initialize_fn` or `next_fn` is not assignable to the state argument
        of `next_fn`, or the state is not assignable to the argument of
        `report_fn`.
    """
    super().__init__(initialize_fn, next_fn, next_is_multi_arg)
    report_type = template_checks.check_computation(report_fn, 'report_fn')
    parameter = report_type.parameter
    if parameter is None or not parameter.is_assignable_from(self.state_type):
      raise errors.TemplateStateNotAssignableError(
          f'Expected the argument of `report_fn` to accept the state '
          f'{self.state_type}, found the argument type '
          f'{report_type.parameter}.'
          f'{template_checks.describe("report_fn", report_type)}')
    self._report_fn = report_fn
    self._next_is_multi_arg = next_is_multi_arg

  @property
  def report(self) -> computation_impl.Computation:
    """A `tffx.Computation` that returns the current estimate of a state."""
    return self._report_fn

  def map(self, map_fn: computation_impl.Computation) -> 'EstimationProcess':
    """Returns a process whose `report` is `map_fn(self.report(state))`.

    `initialize` and `next` are unchanged.

    Args:
      map_fn: A `tffx.Computation` whose argument accepts the estimate `E`
        returned by `report`.

    Returns:
      A new `EstimationProcess`.

    Raises:
      TypeError: if `map_fn` is not a computation.
      EstimateNotAssignableError: if the estimate is not assignable to the
        argument of `map_fn`.
    """
    map_type = template_checks.check_computation(map_fn, 'map_fn')
    report_type = self._report_fn.type_signature
    estimate_type = report_type.result
    if map_type.parameter is None or not map_type.parameter.is_assignable_from(
        estimate_type):
      raise EstimateNotAssignableError(
          f'Expected the argument of `map_fn` to accept the estimate '
          f'returned by `report`, {estimate_type}, found the argument type '
          f'{map_type.parameter}.'
          f'{template_checks.describe("report", report_type)}'
          f'{template_checks.describe("map_fn", map_type)}')
    report_fn = self._report_fn

    # A federated computation can call both TensorFlow and federated
    # computations, so it composes `report` and `map_fn` whatever they are.
    @federated_computation.federated_computation(self.state_type)
    def mapped_report(state):
      return map_fn(report_fn(state))

    return EstimationProcess(self._initialize_fn, self._next_fn,
                             mapped_report, self._next_is_multi_arg)
