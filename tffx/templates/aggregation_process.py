"""`AggregationProcess`: a measured process that aggregates client values.

    initialize: ( -> S@SERVER)
    next:       (<S@SERVER, V@CLIENTS, *> ->
                 <state=S@SERVER, result=V@SERVER, measurements=M@SERVER>)

`*` are optional further arguments at CLIENTS (a third one is a weight:
`is_weighted`). An aggregation is typically client work, then an intrinsic
such as `federated_sum` (or inner aggregation processes), then server work.
This module only checks type signatures; aggregation factories live in
`tffx.aggregators`.
"""

from tffx.computations import computation_impl
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.templates import template_checks
from tffx.types import computation_types
from tffx.types import placements

_SIGNATURE = ('(<S@SERVER, V@CLIENTS, *> -> <state=S@SERVER, result=V@SERVER, '
              'measurements=M@SERVER>)')


class AggregationNotFederatedError(TypeError):
  """An aggregation's `initialize_fn` or `next_fn` has an unplaced argument or result."""


class AggregationPlacementError(TypeError):
  """An aggregation's state, value, result or measurements is wrongly placed."""


class AggregationValueTypeMismatchError(TypeError):
  """The `result` of an aggregation has another member type than its value."""


class AggregationProcess(measured_process.MeasuredProcess):
  """A stateful process that aggregates values placed at CLIENTS.

  Type signatures:

      initialize: ( -> S@SERVER)
      next:       (<S@SERVER, V@CLIENTS, *> ->
                   <state=S@SERVER, result=V@SERVER, measurements=M@SERVER>)

  where `*` are optional further arguments placed at CLIENTS, and the output
  is a `MeasuredProcessOutput`. The `result` has the member type `V` of the
  aggregated value (Python containers aside), placed at SERVER. The
  constraints of `MeasuredProcess` hold too.

  Aggregations compose by nesting: pre-aggregation work at CLIENTS, the
  aggregation itself (an intrinsic such as `tffx.federated_sum`, or inner
  aggregation processes), then post-aggregation work at SERVER.
  """

  def __init__(self, initialize_fn: computation_impl.Computation,
               next_fn: computation_impl.Computation):
    """Creates an `AggregationProcess`.

    Args:
      initialize_fn: A no-argument `tffx.Computation` returning the initial
        state, of type `S@SERVER`.
      next_fn: A `tffx.Computation` taking at least two arguments, the state
        `S@SERVER` and the value `V@CLIENTS` (further ones at CLIENTS), and
        returning a `MeasuredProcessOutput` whose `state` is assignable to
        `S@SERVER`, `result` is `V@SERVER` and `measurements` are at SERVER.

    Raises:
      TypeError: if `initialize_fn` or `next_fn` is not a computation.
      TemplateInitFnParamNotEmptyError: if `initialize_fn` takes an argument.
      TemplateStateNotAssignableError: if the state returned by
        `initialize_fn` or `next_fn` is not assignable to the first argument
        of `next_fn`.
      TemplateNotMeasuredProcessOutputError: if `next_fn` does not return a
        `MeasuredProcessOutput`.
      TemplateNextFnNumArgsError: if `next_fn` does not take at least two
        arguments.
      AggregationNotFederatedError: if `initialize_fn` or `next_fn` does not
        operate on federated types.
      AggregationPlacementError: if the state, value, result or measurements
        are not placed as in the signature above.
      AggregationValueTypeMismatchError: if the member type of `result` is
        not the member type of the value (the second argument of `next_fn`),
        or its element type if the value is a sequence.
    """
    super().__init__(initialize_fn, next_fn, next_is_multi_arg=True)
    init_type = initialize_fn.type_signature
    next_type = next_fn.type_signature
    init_context = template_checks.describe('initialize_fn', init_type)
    next_context = template_checks.describe('next_fn', next_type)

    template_checks.check_federated(init_type.result,
                                    'the result of `initialize_fn`',
                                    AggregationNotFederatedError, init_context)
    template_checks.check_next_is_federated(next_type,
                                            AggregationNotFederatedError)
    template_checks.check_placement(init_type.result, placements.SERVER,
                                    'the state returned by `initialize_fn`',
                                    AggregationPlacementError, init_context)
    # The state argument of next is at SERVER now: the base class checked
    # that the SERVER state is assignable to it.
    template_checks.check_num_args(next_type, 2, True,
                                   errors.TemplateNextFnNumArgsError,
                                   _SIGNATURE)
    parameter = next_type.parameter
    for index in range(1, len(parameter)):
      what = ('the value to aggregate (second argument of `next_fn`)'
              if index == 1 else f'argument {index} of `next_fn`')
      template_checks.check_placement(parameter[index], placements.CLIENTS,
                                      what, AggregationPlacementError,
                                      next_context)
    output = next_type.result
    template_checks.check_placement(output.result, placements.SERVER,
                                    'the `result` returned by `next_fn`',
                                    AggregationPlacementError, next_context)
    template_checks.check_placement(output.measurements, placements.SERVER,
                                    'the `measurements` returned by `next_fn`',
                                    AggregationPlacementError, next_context)
    value_member = parameter[1].member
    result_member = output.result.member
    # As in TFF, a sequence aggregates to values of its element type (e.g.
    # batches of client records into one batch at SERVER).
    if isinstance(value_member, computation_types.SequenceType):
      value_member = value_member.element
    if not value_member.is_equivalent_to(result_member):
      raise AggregationValueTypeMismatchError(
          f'Expected the `result` returned by `next_fn` to have the member '
          f'type of the aggregated value, {value_member}, found '
          f'{result_member}.{next_context}\nTip: an aggregation returns a '
          f'value of the type it aggregates; cast or reshape inside it.')
    self._is_weighted = len(parameter) == 3

  @property
  def next(self) -> computation_impl.Computation:
    """A `tffx.Computation` that runs one aggregation.

    Its arguments are the current state (first produced by `initialize`),
    the value at CLIENTS, and any further CLIENTS arguments; it returns a
    `MeasuredProcessOutput` whose fields are at SERVER.
    """
    return self._next_fn

  @property
  def is_weighted(self) -> bool:
    """Whether `next` takes a third argument: the weight of each value."""
    return self._is_weighted
