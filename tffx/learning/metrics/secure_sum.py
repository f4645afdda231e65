"""Metrics summed with secure aggregation: `SecureSumFactory` and
`secure_sum_then_finalize` (`tffx.learning.metrics`, like TFF's).

Secure sums add bounded values (`tffx.aggregators.SecureSumFactory`), so
every tensor of the unfinalized metrics gets a range `(lower, upper)`;
values outside it are clipped. Tensors with the same range and dtype are
summed by one inner secure sum (a group), named by its key
`'<lower>/<upper>/<dtype>'`:

    {U}@CLIENTS --group by key--> <key: <t0, t1, ..>>@CLIENTS
                --aggregators.SecureSumFactory per key--> sums@SERVER
                --ungroup--> U@SERVER        measurements <key: M>@SERVER

Ranges come from `create_default_secure_sum_quantization_ranges`, where
the user's `metric_value_ranges` (a partial tree over `U`, `None` leaves
meaning the default) does not give them. By default integer tensors get
`[0, 2**20 - 1]`; in `SecureSumFactory`, float tensors get a bound that
adapts over rounds (twice the 95th percentile of the clients' largest
value, estimated with secure sums), and in `secure_sum_then_finalize`, which
is one stateless round, `[0.0, 2.0**20 - 1]`.
"""

import collections
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from tffx.aggregators import factory
from tffx.aggregators import quantile_estimation
from tffx.aggregators import secure
from tffx.aggregators import tensor_math
from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.metrics import aggregator
from tffx.learning.metrics import errors
from tffx.templates import aggregation_process
from tffx.templates import estimation_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import type_conversions

DEFAULT_SECURE_LOWER_BOUND = 0
# 2**20 - 1 (about a million): a power of two minus one encodes floats that
# hold integers (counts) exactly.
DEFAULT_SECURE_UPPER_BOUND = 2**20 - 1


def _auto_tuned_float_bound() -> estimation_process.EstimationProcess:
  return quantile_estimation.PrivateQuantileEstimationProcess.no_noise(
      initial_estimate=50.0, target_quantile=0.95, learning_rate=1.0,
      multiplier=2.0, secure_estimation=True)


def _is_number(value: Any) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def create_default_secure_sum_quantization_ranges(
    local_unfinalized_metrics_type: Any,
    lower_bound: Any = DEFAULT_SECURE_LOWER_BOUND,
    upper_bound: Any = DEFAULT_SECURE_UPPER_BOUND,
    use_auto_tuned_bounds_for_float_values: Optional[bool] = True) -> Any:
  """Returns a range for every tensor of `local_unfinalized_metrics_type`.

  Args:
    local_unfinalized_metrics_type: A structure of integer and
      floating-point tensor types.
    lower_bound: An int or float; values below it are clipped to it.
      Integer tensors use `math.ceil(lower_bound)`.
    upper_bound: An int or float above `lower_bound`. Integer tensors use
      `math.floor(upper_bound)`.
    use_auto_tuned_bounds_for_float_values: Whether float tensors get
      `(None, an EstimationProcess)` (a bound adapting over rounds) instead
      of `(float(lower_bound), float(upper_bound))`.

  Returns:
    The structure of the type (its Python containers) with a 2-tuple
    `(lower, upper)` in place of every tensor type.

  Raises:
    TypeError: if a bound is not a number.
    ValueError: if `lower_bound >= upper_bound`, or integer tensors have no
      integer in the range.
    UnquantizableDTypeError: for a tensor that is neither integer nor float.
  """
  for name, bound in (('lower_bound', lower_bound),
                      ('upper_bound', upper_bound)):
    if not _is_number(bound):
      raise TypeError(f'Expected `{name}` to be an int or a float, found '
                      f'{type(bound).__name__}: {bound!r}.')
  if lower_bound >= upper_bound:
    raise ValueError('`upper_bound` must be greater than `lower_bound`.')
  int_lower, int_upper = math.ceil(lower_bound), math.floor(upper_bound)
  float_bound = (_auto_tuned_float_bound()
                 if use_auto_tuned_bounds_for_float_values else None)

  def default_range(tensor_type: computation_types.TensorType):
    dtype = np.dtype(tensor_type.dtype)
    if np.issubdtype(dtype, np.floating):
      if float_bound is not None:
        return None, float_bound
      return float(lower_bound), float(upper_bound)
    if np.issubdtype(dtype, np.integer):
      if int_upper - int_lower < 1:
        raise ValueError(
            f'Encounter an integer tensor in the type, but quantization range '
            f'[{lower_bound}, {upper_bound}] is not wide enough to quantize '
            f'any integers (becomes [{int_lower}, {int_upper}]).')
      return int_lower, int_upper
    raise errors.UnquantizableDTypeError(
        f'Do not know how to create a default range for dtype {dtype}. Only '
        f'floating or integer types are supported.')

  return type_conversions.structure_from_tensor_type_tree(
      default_range, computation_types.to_type(local_unfinalized_metrics_type))


def _check_user_range(value_range: Any) -> Tuple[Any, Any]:
  if not isinstance(value_range, tuple):
    raise TypeError(f'Expected a range to be a tuple (lower, upper), found '
                    f'{type(value_range).__name__}: {value_range!r}.')
  if len(value_range) != 2:
    raise ValueError(f'Ranges must be defined as a 2-tuple, got a tuple of '
                     f'length {len(value_range)}.')
  lower, upper = value_range
  if not _is_number(lower) or type(upper) is not type(lower):  # pylint: disable=unidiomatic-typecheck
    raise TypeError(
        f'The lower bound threshold should have the same type as the upper '
        f'bound threshold (int or float), but found the lower bound '
        f'threshold type {type(lower)} and the upper bound threshold type '
        f'{type(upper)}.')
  return lower, upper


def _leaf_ranges(type_spec: computation_types.Type, defaults: Any,
                 user: Any) -> List[Tuple[Any, Any]]:
  """The `(lower, upper)` of every tensor of `type_spec`, depth first."""
  if not isinstance(type_spec, computation_types.StructType):
    return [defaults if user is None else _check_user_range(user)]
  if user is not None and not isinstance(user, (Mapping, list, tuple)):
    raise TypeError(f'Expected the ranges of {type_spec} to be a mapping or '
                    f'a list, found {type(user).__name__}: {user!r}.')
  ranges = []
  for index, (name, element) in enumerate(type_spec.items()):
    if user is None:
      user_element = None
    elif isinstance(user, Mapping):
      user_element = user.get(name)
    else:
      user_element = user[index] if index < len(user) else None
    default_element = (defaults[name] if isinstance(defaults, Mapping) else
                       defaults[index])
    ranges.extend(_leaf_ranges(element, default_element, user_element))
  return ranges


def factory_key(lower: Any, upper: Any, dtype: Any) -> str:
  """The name of the group of tensors of one range and dtype."""
  if isinstance(upper, estimation_process.EstimationProcess):
    upper = 'default_estimation_process'
  return '/'.join(str(item) for item in (lower, upper, np.dtype(dtype).name))


def _build_secure_sum_process(unfinalized_type: computation_types.StructType,
                              ranges: Sequence[Tuple[Any, Any]]
                             ) -> aggregation_process.AggregationProcess:
  """The process of `SecureSumFactory` for one range per tensor."""
  leaves = list(factory.leaf_types(unfinalized_type))
  groups: Dict[str, List[int]] = collections.OrderedDict()
  group_range = {}
  for index, (leaf, (lower, upper)) in enumerate(zip(leaves, ranges)):
    key = factory_key(lower, upper, leaf.dtype)
    groups.setdefault(key, []).append(index)
    group_range.setdefault(key, (lower, upper))
  processes = collections.OrderedDict()
  for key, indices in groups.items():
    lower, upper = group_range[key]
    group_type = computation_types.StructWithPythonType(
        [(None, leaves[i]) for i in indices], tuple)
    processes[key] = secure.SecureSumFactory(upper, lower).create(group_type)

  @tensorflow_computation.tf_computation(unfinalized_type)
  def group_values(unfinalized):
    flat = tensor_math.flatten(unfinalized)
    return collections.OrderedDict(
        (key, tuple(flat[i] for i in indices))
        for key, indices in groups.items())

  summed_types = [processes[key].next.type_signature.result.result.member
                  for key in groups]

  @tensorflow_computation.tf_computation(
      computation_types.StructWithPythonType(
          [(None, t) for t in summed_types], tuple))
  def ungroup_values(sums):
    flat = [None] * len(leaves)
    for group_sums, indices in zip(sums, groups.values()):
      for value, index in zip(tensor_math.flatten(group_sums), indices):
        flat[index] = value
    return tensor_math.pack(unfinalized_type, flat)

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_zip(
        collections.OrderedDict((key, process.initialize())
                                for key, process in processes.items()))

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_clients(unfinalized_type))
  def next_fn(state, unfinalized):
    grouped = intrinsics.federated_map(group_values, unfinalized)
    outputs = collections.OrderedDict(
        (key, process.next(state[key], grouped[key]))
        for key, process in processes.items())
    result = intrinsics.federated_map(
        ungroup_values,
        intrinsics.federated_zip(tuple(o.result for o in outputs.values())))
    return measured_process.MeasuredProcessOutput(
        state=intrinsics.federated_zip(collections.OrderedDict(
            (key, o.state) for key, o in outputs.items())),
        result=result,
        measurements=intrinsics.federated_zip(collections.OrderedDict(
            (key, o.measurements) for key, o in outputs.items())))

  return aggregation_process.AggregationProcess(init_fn, next_fn)


def _ranges_for(unfinalized_type, metric_value_ranges, defaults):
  try:
    return _leaf_ranges(unfinalized_type, defaults, metric_value_ranges)
  except TypeError as e:
    raise TypeError(f'Failed to create encoding value range from: '
                    f'{metric_value_ranges}') from e


def _check_ranges_argument(metric_value_ranges: Any) -> None:
  if metric_value_ranges is not None and not isinstance(
      metric_value_ranges, Mapping):
    raise TypeError(f'Expected `metric_value_ranges` to be an OrderedDict '
                    f'(a partial tree of ranges) or None, found '
                    f'{type(metric_value_ranges).__name__}.')


class SecureSumFactory(factory.UnweightedAggregationFactory):
  """Creates processes summing unfinalized metrics with secure aggregation.

      initialize: ( -> <key: S_key>@SERVER)
      next: (<<key: S_key>@SERVER, {U}@CLIENTS> ->
             <state=<key: S_key>@SERVER, result=U@SERVER,
              measurements=<key: M_key>@SERVER>)

  with one entry per group of tensors of one range and dtype (see the
  module docstring); `S_key` and `M_key` are the state and measurements of
  `tffx.aggregators.SecureSumFactory` (`secure_upper_clipped_count`, ...).
  """

  def __init__(self, metric_value_ranges: Optional[Mapping[str, Any]] = None):
    """Creates the factory.

    Args:
      metric_value_ranges: Optional partial tree over the unfinalized
        metrics: a `(lower, upper)` tuple of ints or floats per tensor, or
        None (at a leaf or above) for the default range.

    Raises:
      TypeError: if `metric_value_ranges` is neither a mapping nor None.
    """
    _check_ranges_argument(metric_value_ranges)
    self._metric_value_ranges = metric_value_ranges

  def create(self, local_unfinalized_metrics_type: Any
            ) -> aggregation_process.AggregationProcess:
    """Returns the process for unfinalized metrics of the given type.

    Raises:
      UnfinalizedMetricsTypeError: if the type is not a struct of numeric
        tensors.
      TypeError, ValueError: for a malformed range.
    """
    unfinalized_type = aggregator.check_unfinalized_type(
        local_unfinalized_metrics_type)
    defaults = create_default_secure_sum_quantization_ranges(unfinalized_type)
    ranges = _ranges_for(unfinalized_type, self._metric_value_ranges,
                         defaults)
    return _build_secure_sum_process(unfinalized_type, ranges)


def secure_sum_then_finalize(
    metric_finalizers: aggregator.MetricFinalizersType,
    local_unfinalized_metrics_type: Any = None,
    metric_value_ranges: Optional[Mapping[str, Any]] = None
) -> computation_impl.Computation:
  """Returns a federated computation summing metrics securely, then
  finalizing them:

      ({U}@CLIENTS -> <secure_sum_measurements=<key: M_key>, F...>@SERVER)

  The result holds `secure_sum_measurements` (per group of tensors, see
  `SecureSumFactory`) followed by the finalized metrics. Every tensor is
  clipped to its range, by default `[0, 2**20 - 1]` (floats too), before
  the secure sum.

  Args:
    metric_finalizers: As for `sum_then_finalize`.
    local_unfinalized_metrics_type: `U`, a struct of numeric tensors;
      optional, as for `sum_then_finalize` (polymorphic without).
    metric_value_ranges: Optional partial tree of `(lower, upper)` ranges
      over `U`; None anywhere means the default range.

  Raises:
    UnfinalizedMetricsTypeError, MetricFinalizersTypeError,
    MismatchedMetricNamesError: as `sum_then_finalize`.
    TypeError, ValueError: for a malformed range.
  """
  _check_ranges_argument(metric_value_ranges)

  def build(unfinalized_metrics_type):
    unfinalized_type, finalize = aggregator.build_finalize_computation(
        metric_finalizers, unfinalized_metrics_type)
    defaults = create_default_secure_sum_quantization_ranges(
        unfinalized_type, DEFAULT_SECURE_LOWER_BOUND,
        DEFAULT_SECURE_UPPER_BOUND,
        use_auto_tuned_bounds_for_float_values=False)
    process = _build_secure_sum_process(
        unfinalized_type,
        _ranges_for(unfinalized_type, metric_value_ranges, defaults))
    measurements_type = process.next.type_signature.result.measurements.member

    @tensorflow_computation.tf_computation(unfinalized_type, measurements_type)
    def finalize_with_measurements(unfinalized, measurements):
      finalized = collections.OrderedDict(secure_sum_measurements=measurements)
      finalized.update(finalize(unfinalized))
      return finalized

    @federated_computation.federated_computation(
        computation_types.type_at_clients(unfinalized_type))
    def aggregate_metrics(unfinalized_metrics):
      output = process.next(process.initialize(), unfinalized_metrics)
      return intrinsics.federated_map(finalize_with_measurements,
                                      (output.result, output.measurements))

    return aggregate_metrics

  return aggregator.for_unfinalized_type(build,
                                         local_unfinalized_metrics_type)
