"""`clipping_factory` and `zeroing_factory`: bound client values by a norm.

Both wrap an inner factory: each client's value is changed at CLIENTS,
then aggregated by the inner process (with the unchanged weight, if the
inner factory is weighted).

    clipping: value * min(1, clipping_norm / ||value||_2)      (L2 clipping)
    zeroing:  0 if ||value||_p > zeroing_norm (or not finite), else value

The norm is a positive number, or an `EstimationProcess` (e.g.
`PrivateQuantileEstimationProcess`) whose `report` gives the norm of each
round and whose `next` receives every client's norm (before clipping or
zeroing), so that the norm adapts. States and measurements nest:

    state        = <clipping_norm=N, inner_agg=I, clipped_count_agg=C>
    measurements = <clipping=I.M, clipping_norm=float32,
                    clipped_count=int32>

and the same with `zeroing`, `zeroing_norm`, `zeroed_count`(`_agg`). `N` is
`<>` for a constant norm; `clipped_count` is the number of clients whose
value was changed, summed by `clipped_count_sum_factory` (default
`SumFactory`). The result is a factory of the inner factory's kind.
"""

import collections
import math
from typing import Any, NamedTuple, Optional

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import sum_factory
from tffx.aggregators import tensor_math
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process
from tffx.templates import estimation_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements


class _NormSpec(NamedTuple):
  """What one clipping or zeroing factory does."""
  name: str  # 'clipping' or 'zeroing'
  count_name: str  # 'clipped' or 'zeroed'
  norm: Any  # a float or an EstimationProcess
  norm_order: float
  inner: factory.AggregationFactory
  count_sum_factory: factory.UnweightedAggregationFactory


def _build_spec(name: str, count_name: str, norm: Any, inner: Any,
                count_sum_factory: Any, norm_order: float) -> _NormSpec:
  owner = f'{name}_factory'
  norm = factory.check_norm(norm, f'{name}_norm', owner)
  factory.check_aggregation_factory(inner, 'inner_agg_factory', owner)
  if count_sum_factory is None:
    count_sum_factory = sum_factory.SumFactory()
  factory.check_factory(count_sum_factory,
                        factory.UnweightedAggregationFactory,
                        f'{count_name}_count_sum_factory', owner)
  return _NormSpec(name, count_name, norm, norm_order, inner,
                   count_sum_factory)


def _wrap(spec: _NormSpec) -> factory.AggregationFactory:
  if isinstance(spec.inner, factory.WeightedAggregationFactory):
    return _WeightedNormFactory(spec)
  return _UnweightedNormFactory(spec)


def clipping_factory(
    clipping_norm: Any,
    inner_agg_factory: factory.AggregationFactory,
    clipped_count_sum_factory: Optional[
        factory.UnweightedAggregationFactory] = None
) -> factory.AggregationFactory:
  """A factory that clips each client value to an L2 norm, then aggregates.

  A value of global L2 norm (all its tensors taken as one vector) above
  the clipping norm is scaled down to that norm; others are unchanged.

  Args:
    clipping_norm: A positive number, or an `EstimationProcess` with
      `next: (<S@SERVER, {float32}@CLIENTS> -> S@SERVER)` (fed the clients'
      norms) and `report: (S@SERVER -> float32@SERVER)`.
    inner_agg_factory: Aggregates the clipped values; weighted or not.
    clipped_count_sum_factory: Sums the int32 1s of clipped clients;
      default `SumFactory()`.

  Returns:
    A factory of the kind of `inner_agg_factory`, whose processes take
    floating-point values (see the module docstring for state and
    measurements).

  Raises:
    ParameterTypeError: if `clipping_norm` is neither a number nor such a
      process.
    ParameterValueError: if `clipping_norm` is not positive.
    FactoryTypeError: if `inner_agg_factory` is not a factory, or
      `clipped_count_sum_factory` is not an unweighted one.
  """
  return _wrap(
      _build_spec('clipping', 'clipped', clipping_norm, inner_agg_factory,
                  clipped_count_sum_factory, 2.0))


def zeroing_factory(
    zeroing_norm: Any,
    inner_agg_factory: factory.AggregationFactory,
    norm_order: float = math.inf,
    zeroed_count_sum_factory: Optional[
        factory.UnweightedAggregationFactory] = None
) -> factory.AggregationFactory:
  """A factory that zeroes client values of large norm, then aggregates.

  A value whose `norm_order`-norm is above the zeroing norm, or is not
  finite (NaN or infinite elements), is replaced by zeros; its weight, if
  any, is unchanged, so zeroed values pull a weighted mean towards zero.

  Args:
    zeroing_norm: A positive number, or an `EstimationProcess` as for
      `clipping_factory` (fed the clients' `norm_order`-norms).
    inner_agg_factory: Aggregates the values; weighted or not.
    norm_order: `math.inf` (default: the largest absolute element), or a
      number >= 1 (1.0 and 2.0 for the L1 and L2 norms).
    zeroed_count_sum_factory: Sums the int32 1s of zeroed clients; default
      `SumFactory()`.

  Returns:
    A factory of the kind of `inner_agg_factory` (see the module docstring
    for state and measurements).

  Raises:
    ParameterTypeError: if `zeroing_norm` is neither a number nor such a
      process, or `norm_order` is not a number.
    ParameterValueError: if `zeroing_norm` is not positive or `norm_order`
      is below 1.
    FactoryTypeError: if `inner_agg_factory` is not a factory, or
      `zeroed_count_sum_factory` is not an unweighted one.
  """
  if not factory.is_number(norm_order):
    raise errors.ParameterTypeError(
        f'zeroing_factory expects `norm_order` to be a number (math.inf, 1.0, '
        f'2.0, ...); found {type(norm_order).__name__}: {norm_order!r}.')
  if not norm_order >= 1:
    raise errors.ParameterValueError(
        f'zeroing_factory expects `norm_order` >= 1 (a norm); found '
        f'{norm_order!r}.')
  return _wrap(
      _build_spec('zeroing', 'zeroed', zeroing_norm, inner_agg_factory,
                  zeroed_count_sum_factory, float(norm_order)))


class _UnweightedNormFactory(factory.UnweightedAggregationFactory):
  """The unweighted factory returned by `clipping_factory`/`zeroing_factory`."""

  def __init__(self, spec: _NormSpec):
    self._spec = spec

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    return _create(self._spec, value_type, None)


class _WeightedNormFactory(factory.WeightedAggregationFactory):
  """The weighted factory returned by `clipping_factory`/`zeroing_factory`."""

  def __init__(self, spec: _NormSpec):
    self._spec = spec

  def create(self, value_type: Any,
             weight_type: Any) -> aggregation_process.AggregationProcess:
    return _create(self._spec, value_type, weight_type)


def _process_value_fn(spec: _NormSpec, value_type: computation_types.Type):
  """`(<V, float32> -> <V, norm=float32, changed=int32>)` at CLIENTS."""
  clipping = spec.name == 'clipping'

  def fn(value, bound):
    leaves = tensor_math.flatten(value)
    norm = tensor_math.global_norm(leaves, spec.norm_order)
    if clipping:
      changed = norm > bound
      # When nothing is clipped the factor is exactly 1: values pass as
      # they are (bound / norm is not used, even when the norm is 0).
      factor = tf.where(changed, bound / norm, 1.0)
      leaves = tensor_math.scale(leaves, factor)
    else:
      changed = tf.logical_or(norm > bound, tf.logical_not(
          tf.math.is_finite(norm)))
      leaves = [tf.where(changed, tf.zeros_like(leaf), leaf)
                for leaf in leaves]
    return (tensor_math.pack(value_type, leaves), norm,
            tf.cast(changed, tensor_math.COUNT_DTYPE))

  return tensorflow_computation.tf_computation(fn, value_type, np.float32)


def _create(spec: _NormSpec, value_type: Any,
            weight_type: Any) -> aggregation_process.AggregationProcess:
  """Builds the process of a clipping or zeroing factory."""
  value_type = factory.check_value_type(
      value_type, f'{spec.name}_factory(...).create', factory.FLOAT,
      'norms are bounded by scaling or zeroing floating-point values.')
  inner = factory.create_process(spec.inner, value_type, weight_type)
  count_process = spec.count_sum_factory.create(
      computation_types.TensorType(tensor_math.COUNT_DTYPE))
  process_value = _process_value_fn(spec, value_type)
  adaptive = isinstance(spec.norm, estimation_process.EstimationProcess)
  norm_key = f'{spec.name}_norm'
  count_key = f'{spec.count_name}_count'
  if not adaptive:
    constant_norm = tensorflow_computation.tf_computation(
        lambda: tf.constant(spec.norm, tf.float32))

  @federated_computation.federated_computation
  def initialize_fn():
    norm_state = (spec.norm.initialize() if adaptive else
                  intrinsics.federated_value((), placements.SERVER))
    return intrinsics.federated_zip(
        collections.OrderedDict([(norm_key, norm_state),
                                 ('inner_agg', inner.initialize()),
                                 (f'{count_key}_agg',
                                  count_process.initialize())]))

  def next_body(state, value, weight):
    norm_state = state[norm_key]
    if adaptive:
      bound = spec.norm.report(norm_state)
    else:
      bound = intrinsics.federated_eval(constant_norm, placements.SERVER)
    processed = intrinsics.federated_map(
        process_value, (value, intrinsics.federated_broadcast(bound)))
    if weight is None:
      inner_output = inner.next(state.inner_agg, processed[0])
    else:
      inner_output = inner.next(state.inner_agg, processed[0], weight)
    count_output = count_process.next(state[f'{count_key}_agg'],
                                      processed[2])
    new_norm_state = (spec.norm.next(norm_state, processed[1])
                      if adaptive else norm_state)
    return measured_process.MeasuredProcessOutput(
        state=intrinsics.federated_zip(
            collections.OrderedDict([(norm_key, new_norm_state),
                                     ('inner_agg', inner_output.state),
                                     (f'{count_key}_agg',
                                      count_output.state)])),
        result=inner_output.result,
        measurements=intrinsics.federated_zip(
            collections.OrderedDict([(spec.name, inner_output.measurements),
                                     (norm_key, bound),
                                     (count_key, count_output.result)])))

  state_type = initialize_fn.type_signature.result
  value_at_clients = computation_types.type_at_clients(value_type)
  if weight_type is None:
    next_fn = federated_computation.federated_computation(
        lambda state, value: next_body(state, value, None), state_type,
        value_at_clients)
  else:
    weight_at_clients = inner.next.type_signature.parameter[2]
    next_fn = federated_computation.federated_computation(
        next_body, state_type, value_at_clients, weight_at_clients)
  return aggregation_process.AggregationProcess(initialize_fn, next_fn)
