"""`SumFactory`: the plain sum of client values, with `tffx.federated_sum`.

    process = SumFactory().create(V)
    initialize: ( -> <>@SERVER)
    next:       (<<>@SERVER, {V}@CLIENTS> ->
                 <state=<>@SERVER, result=V@SERVER, measurements=<>@SERVER>)

It is the default inner factory of the other factories. It does no secure
aggregation (see `secure.SecureSumFactory`). `build_stateless_process` builds
this shape of process (no state, no measurements) around any aggregation.
"""

from typing import Any, Callable

from tffx.aggregators import factory
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.templates import aggregation_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements


def build_stateless_process(
    value_type: computation_types.Type,
    aggregate: Callable[[Any], Any]) -> aggregation_process.AggregationProcess:
  """A process with state `<>` and measurements `<>` whose result is
  `aggregate(value)`, called on the CLIENTS value while `next` is traced.

      next: (<<>@SERVER, {V}@CLIENTS> ->
             <state=<>@SERVER, result=V@SERVER, measurements=<>@SERVER>)
  """

  @federated_computation.federated_computation
  def initialize_fn():
    return intrinsics.federated_value((), placements.SERVER)

  @federated_computation.federated_computation(
      initialize_fn.type_signature.result,
      computation_types.type_at_clients(value_type))
  def next_fn(state, value):
    return measured_process.MeasuredProcessOutput(
        state=state,
        result=aggregate(value),
        measurements=intrinsics.federated_value((), placements.SERVER))

  return aggregation_process.AggregationProcess(initialize_fn, next_fn)


class SumFactory(factory.UnweightedAggregationFactory):
  """Creates processes that sum client values: no state, no measurements.

  Values are tensors, or structs of tensors, of integer or floating-point
  dtypes; the sum is element-wise and has the type of the values.
  """

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns a process summing values of `value_type`.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not made of integer or
        floating-point tensors.
    """
    value_type = factory.check_value_type(
        value_type, 'SumFactory.create', factory.NUMERIC,
        'a sum needs numbers; strings, booleans and sequences cannot be '
        'summed.')

    return build_stateless_process(value_type, intrinsics.federated_sum)
