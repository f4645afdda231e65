"""`add_measurements`: a factory that reports extra measurements.

    add_measurements(inner, fn)            fn(value) / fn(value, weight)
    add_measurements(inner, fn, False)     fn(result)

`fn` runs while the process's `next` is traced (as in TFF): it takes the
CLIENTS-placed input of the aggregation (or its SERVER-placed result) as
`tffx.Value`s and returns a mapping of names to SERVER-placed values (or one
SERVER-placed struct with names). Those are added to the inner factory's
measurements, which must be named (or empty). State and result are the
inner ones.
"""

import collections
import inspect
from typing import Any, Callable, Mapping

from tffx.aggregators import factory
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.templates import aggregation_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements


def _named_fields(measurements, what: str) -> 'collections.OrderedDict':
  """The named fields of a SERVER struct (or mapping) of measurements."""
  if isinstance(measurements, Mapping):
    return collections.OrderedDict(measurements)
  member = measurements.type_signature.member
  if not isinstance(member, computation_types.StructType):
    raise TypeError(f'Expected {what} to be a struct of named values at '
                    f'SERVER, found {measurements.type_signature}.')
  names = [name for name, _ in member.items()]
  if any(name is None for name in names):
    raise TypeError(f'Expected {what} to have named fields, found '
                    f'{measurements.type_signature}.')
  return collections.OrderedDict((n, measurements[n]) for n in names)


def _merged(inner_measurements, extra) -> Any:
  fields = _named_fields(inner_measurements, 'the inner measurements')
  for name, value in _named_fields(extra, 'the added measurements').items():
    fields[name] = value
  if not fields:
    return intrinsics.federated_value((), placements.SERVER)
  return intrinsics.federated_zip(fields)


def _check_num_params(fn: Callable, count: int, why: str) -> None:
  if len(inspect.signature(fn).parameters) != count:
    plural = 'a single parameter' if count == 1 else 'two parameters'
    raise ValueError(f'`measurement_fn` must take {plural} if {why}.')


def add_measurements(inner_agg_factory: factory.AggregationFactory,
                     measurement_fn: Callable[..., Any],
                     client_placed_input: bool = True
                    ) -> factory.AggregationFactory:
  """Wraps `inner_agg_factory` so its processes report more measurements.

  Args:
    inner_agg_factory: The factory to wrap.
    measurement_fn: Called on `value` (unweighted), `(value, weight)`
      (weighted) or, if not `client_placed_input`, on the SERVER result;
      returns the added measurements (see the module docstring).
    client_placed_input: Whether `measurement_fn` sees the client input
      (True) or the aggregated result (False).

  Returns:
    A factory of the same kind as `inner_agg_factory`.

  Raises:
    TypeError: if `measurement_fn` is not callable, `client_placed_input` is
      not a bool, or `inner_agg_factory` is not a factory.
    ValueError: if `measurement_fn` takes the wrong number of parameters.
  """
  if not callable(measurement_fn):
    raise TypeError(f'Expected a callable measurement_fn, found '
                    f'{type(measurement_fn).__name__}.')
  if not isinstance(client_placed_input, bool):
    raise TypeError(f'Expected client_placed_input to be a bool, found '
                    f'{client_placed_input!r}.')
  factory.check_aggregation_factory(inner_agg_factory, 'inner_agg_factory',
                                    'add_measurements')
  weighted = isinstance(inner_agg_factory, factory.WeightedAggregationFactory)
  if not client_placed_input:
    _check_num_params(measurement_fn, 1, '`client_placed_input` is False')
  elif weighted:
    _check_num_params(measurement_fn, 2, '`inner_agg_factory` is weighted')
  else:
    _check_num_params(measurement_fn, 1, '`inner_agg_factory` is unweighted')

  def output_with(output, extra):
    return measured_process.MeasuredProcessOutput(
        state=output.state,
        result=output.result,
        measurements=_merged(output.measurements, extra))

  def wrap(process: aggregation_process.AggregationProcess):
    parameter = process.next.type_signature.parameter
    if weighted:

      @federated_computation.federated_computation(*parameter)
      def next_fn(state, value, weight):
        output = process.next(state, value, weight)
        return output_with(output, (measurement_fn(value, weight)
                                    if client_placed_input else
                                    measurement_fn(output.result)))
    else:

      @federated_computation.federated_computation(*parameter)
      def next_fn(state, value):
        output = process.next(state, value)
        return output_with(output, (measurement_fn(value)
                                    if client_placed_input else
                                    measurement_fn(output.result)))

    return aggregation_process.AggregationProcess(process.initialize, next_fn)

  if weighted:
    return _WeightedWrapper(inner_agg_factory, wrap)
  return _UnweightedWrapper(inner_agg_factory, wrap)


class _UnweightedWrapper(factory.UnweightedAggregationFactory):

  def __init__(self, inner, wrap):
    self._inner, self._wrap = inner, wrap

  def create(self, value_type):
    return self._wrap(self._inner.create(value_type))


class _WeightedWrapper(factory.WeightedAggregationFactory):

  def __init__(self, inner, wrap):
    self._inner, self._wrap = inner, wrap

  def create(self, value_type, weight_type):
    return self._wrap(self._inner.create(value_type, weight_type))
