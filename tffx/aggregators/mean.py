"""Means of client values: `MeanFactory` (weighted), `UnweightedMeanFactory`.

A mean is two sums and a division at SERVER; the sums are inner factories:

    MeanFactory:            value * weight --value_sum--> S_v \\
                                    weight --weight_sum--> S_w -> S_v / S_w
    UnweightedMeanFactory:           value --value_sum--> S_v \\
                                         1 --count_sum--> n   -> S_v / n

States and measurements are the inner ones, structured as in TFF:

    MeanFactory:            state        = <value_sum_process=.., weight_sum_process=..>
                            measurements = <mean_value=.., mean_weight=..>
    UnweightedMeanFactory:  state        = <value sum state, count sum state>
                            measurements = <mean_value=.., mean_count=..>

(the unweighted state is an unnamed pair, a Python tuple).

Values are floating-point; the division runs at SERVER in each value's
dtype. This module does not clip, noise or secure anything itself: nest
other factories for that.
"""

import collections
from typing import Any, Optional

import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import sum_factory
from tffx.aggregators import tensor_math
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements

_FLOAT_TIP = ('a mean of integers is not an integer; cast the values to '
              'float first, or sum them with tffx.aggregators.SumFactory.')


def _divide_fn(value_type, divisor_type, no_nan: bool):
  """`(<V, D> -> V)`: each leaf divided by the scalar divisor."""
  divide = tf.math.divide_no_nan if no_nan else tf.math.divide

  def fn(value, divisor):
    return tensor_math.pack(value_type, [
        divide(leaf, tf.cast(divisor, leaf.dtype))
        for leaf in tensor_math.flatten(value)
    ])

  return tensorflow_computation.tf_computation(fn, value_type, divisor_type)


def _check_sum_factory(sum_factory_arg, argument: str, owner: str):
  if sum_factory_arg is None:
    return sum_factory.SumFactory()
  factory.check_factory(sum_factory_arg, factory.UnweightedAggregationFactory,
                        argument, owner)
  return sum_factory_arg


class MeanFactory(factory.WeightedAggregationFactory):
  """Creates processes computing the weighted mean of client values.

  `result = sum(weight_i * value_i) / sum(weight_i)`. Each sum is done by
  an inner `UnweightedAggregationFactory` (default: `SumFactory`). With
  `no_nan_division`, a total weight of 0 gives a mean of 0 instead of NaN.

      initialize: ( -> <value_sum_process=Sv, weight_sum_process=Sw>@SERVER)
      next: (<state, {V}@CLIENTS, {W}@CLIENTS> ->
             <state=.., result=V@SERVER,
              measurements=<mean_value=Mv, mean_weight=Mw>@SERVER>)
  """

  def __init__(self,
               value_sum_factory: Optional[
                   factory.UnweightedAggregationFactory] = None,
               weight_sum_factory: Optional[
                   factory.UnweightedAggregationFactory] = None,
               no_nan_division: bool = False):
    """Creates a `MeanFactory`.

    Args:
      value_sum_factory: Sums the weighted values; default `SumFactory()`.
      weight_sum_factory: Sums the weights; default `SumFactory()`.
      no_nan_division: Whether a zero total weight gives 0 (else NaN).

    Raises:
      FactoryTypeError: if a sum factory is not an
        `UnweightedAggregationFactory`.
      ParameterTypeError: if `no_nan_division` is not a bool.
    """
    self._value_sum_factory = _check_sum_factory(value_sum_factory,
                                                  'value_sum_factory',
                                                  'MeanFactory')
    self._weight_sum_factory = _check_sum_factory(weight_sum_factory,
                                                   'weight_sum_factory',
                                                   'MeanFactory')
    if not isinstance(no_nan_division, bool):
      raise errors.ParameterTypeError(
          f'MeanFactory expects `no_nan_division` to be a bool; found '
          f'{type(no_nan_division).__name__}: {no_nan_division!r}.')
    self._no_nan_division = no_nan_division

  def create(self, value_type: Any,
             weight_type: Any) -> aggregation_process.AggregationProcess:
    """Returns a process computing weighted means of `value_type` values.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not made of
        floating-point tensors, or `weight_type` is not a numeric scalar.
    """
    value_type = factory.check_value_type(value_type, 'MeanFactory.create',
                                          factory.FLOAT, _FLOAT_TIP)
    weight_type = factory.check_weight_type(weight_type, 'MeanFactory.create')
    value_sum = self._value_sum_factory.create(value_type)
    weight_sum = self._weight_sum_factory.create(weight_type)

    @tensorflow_computation.tf_computation(value_type, weight_type)
    def multiply(value, weight):
      return tensor_math.pack(
          value_type,
          tensor_math.scale(tensor_math.flatten(value), weight))

    divide = _divide_fn(value_type, weight_sum.next.type_signature.result
                        .result.member, self._no_nan_division)

    @federated_computation.federated_computation
    def initialize_fn():
      return intrinsics.federated_zip(
          collections.OrderedDict(
              value_sum_process=value_sum.initialize(),
              weight_sum_process=weight_sum.initialize()))

    @federated_computation.federated_computation(
        initialize_fn.type_signature.result,
        computation_types.type_at_clients(value_type),
        computation_types.type_at_clients(weight_type))
    def next_fn(state, value, weight):
      weighted = intrinsics.federated_map(multiply, (value, weight))
      value_output = value_sum.next(state.value_sum_process, weighted)
      weight_output = weight_sum.next(state.weight_sum_process, weight)
      mean = intrinsics.federated_map(
          divide, (value_output.result, weight_output.result))
      return measured_process.MeasuredProcessOutput(
          state=intrinsics.federated_zip(
              collections.OrderedDict(
                  value_sum_process=value_output.state,
                  weight_sum_process=weight_output.state)),
          result=mean,
          measurements=intrinsics.federated_zip(
              collections.OrderedDict(
                  mean_value=value_output.measurements,
                  mean_weight=weight_output.measurements)))

    return aggregation_process.AggregationProcess(initialize_fn, next_fn)


class UnweightedMeanFactory(factory.UnweightedAggregationFactory):
  """Creates processes computing the plain mean of client values.

  `result = sum(value_i) / n`, with `n` the number of clients; both sums
  are done by inner `UnweightedAggregationFactory`s (default:
  `SumFactory`). With no client the mean is NaN.

      initialize: ( -> <Sv, Sc>@SERVER)
      next: (<state, {V}@CLIENTS> ->
             <state=.., result=V@SERVER,
              measurements=<mean_value=Mv, mean_count=Mc>@SERVER>)
  """

  def __init__(self,
               value_sum_factory: Optional[
                   factory.UnweightedAggregationFactory] = None,
               count_sum_factory: Optional[
                   factory.UnweightedAggregationFactory] = None):
    """Creates an `UnweightedMeanFactory`.

    Args:
      value_sum_factory: Sums the values; default `SumFactory()`.
      count_sum_factory: Sums a 1 (int32) per client; default `SumFactory()`.

    Raises:
      FactoryTypeError: if a sum factory is not an
        `UnweightedAggregationFactory`.
    """
    self._value_sum_factory = _check_sum_factory(value_sum_factory,
                                                  'value_sum_factory',
                                                  'UnweightedMeanFactory')
    self._count_sum_factory = _check_sum_factory(count_sum_factory,
                                                  'count_sum_factory',
                                                  'UnweightedMeanFactory')

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns a process computing means of `value_type` values.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not made of
        floating-point tensors.
    """
    value_type = factory.check_value_type(value_type,
                                          'UnweightedMeanFactory.create',
                                          factory.FLOAT, _FLOAT_TIP)
    count_type = computation_types.TensorType(tensor_math.COUNT_DTYPE)
    value_sum = self._value_sum_factory.create(value_type)
    count_sum = self._count_sum_factory.create(count_type)
    divide = _divide_fn(value_type,
                        count_sum.next.type_signature.result.result.member,
                        no_nan=False)
    one = tensorflow_computation.tf_computation(
        lambda: tf.constant(1, tensor_math.COUNT_DTYPE))

    @federated_computation.federated_computation
    def initialize_fn():
      return intrinsics.federated_zip(
          (value_sum.initialize(), count_sum.initialize()))

    @federated_computation.federated_computation(
        initialize_fn.type_signature.result,
        computation_types.type_at_clients(value_type))
    def next_fn(state, value):
      value_sum_state, count_sum_state = state
      value_output = value_sum.next(value_sum_state, value)
      count_output = count_sum.next(
          count_sum_state,
          intrinsics.federated_eval(one, placements.CLIENTS))
      mean = intrinsics.federated_map(
          divide, (value_output.result, count_output.result))
      return measured_process.MeasuredProcessOutput(
          state=intrinsics.federated_zip(
              (value_output.state, count_output.state)),
          result=mean,
          measurements=intrinsics.federated_zip(
              collections.OrderedDict(
                  mean_value=value_output.measurements,
                  mean_count=count_output.measurements)))

    return aggregation_process.AggregationProcess(initialize_fn, next_fn)
