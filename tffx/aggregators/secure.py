"""`SecureSumFactory`: sums of bounded client values with secure aggregation.

Secure aggregation (`tffx.federated_secure_sum`) adds non-negative integers
below a bound known in advance, hiding each client's value. The factory
maps values into that form and back:

    clients:  clip to [lower, upper] -> shift by -lower -> (floats) quantize
              to integers in [0, 2**32 - 1]            -> int64
    secure:   federated_secure_sum(.., upper - lower or 2**32 - 1)
    server:   (floats) dequantize -> add lower * number of clients -> dtype

Integer values (with int bounds) are summed exactly; floating-point values
(with float bounds) are exact up to the quantization step
`(upper - lower) / (2**32 - 1)` per client. A lone upper bound `u` means
`[-u, u]`. A float upper bound may instead be an `EstimationProcess` that
adapts the bound over rounds, fed each client's largest absolute value
(the lower bound is then minus the estimate). The state is `<>` for
constant bounds, else the estimation process's state.

    measurements = <secure_upper_clipped_count=int32,
                    secure_lower_clipped_count=int32,
                    secure_upper_threshold=D, secure_lower_threshold=D>

where a count is the number of clients with at least one element above the
upper (below the lower) bound, and `D` is the dtype of the values. The
counts are summed securely too. The executors simulate the secure sum: they
refuse a value outside its bound, which the clipping here prevents.
"""

import collections
import math
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import tensor_math
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process
from tffx.templates import estimation_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements

# Floating-point values are quantized to integers in [0, _QUANTIZATION_MAX].
_QUANTIZATION_MAX = 2**32 - 1
_MAX_INTEGER_RANGE = 2**62


def _is_int(value: Any) -> bool:
  return isinstance(value, (int, np.integer)) and not isinstance(
      value, (bool, np.bool_))


def _is_float(value: Any) -> bool:
  return isinstance(value, (float, np.floating))


class SecureSumFactory(factory.UnweightedAggregationFactory):
  """Creates processes that sum bounded client values securely.

      initialize: ( -> S@SERVER)   (S = <> for constant bounds)
      next: (<S@SERVER, {V}@CLIENTS> ->
             <state=S@SERVER, result=V@SERVER,
              measurements=<secure_upper_clipped_count=int32,
                            secure_lower_clipped_count=int32,
                            secure_upper_threshold=D,
                            secure_lower_threshold=D>@SERVER>)

  Values outside `[lower_bound_threshold, upper_bound_threshold]` are
  clipped to it before the sum, and counted in the measurements. Integer
  bounds sum integer values; float bounds (or an estimation process) sum
  floating-point values. All leaves of a value must have one dtype.
  """

  def __init__(self, upper_bound_threshold: Any,
               lower_bound_threshold: Optional[Any] = None):
    """Creates a `SecureSumFactory`.

    Args:
      upper_bound_threshold: An int (for integer values), a float, or an
        `EstimationProcess` (for float values) with `next: (<S@SERVER,
        {float32}@CLIENTS> -> S@SERVER)` and `report: (S@SERVER ->
        float32@SERVER)`.
      lower_bound_threshold: A number of the same kind, below the upper
        bound; None (default) means minus the upper bound, which must then
        be positive. Must be None when the upper bound is a process.

    Raises:
      ParameterTypeError: if a threshold is not an int, a float or such an
        estimation process, or the two thresholds are of different kinds.
      ParameterValueError: if the lower bound is not below the upper bound.
    """
    owner = 'SecureSumFactory'
    upper, lower = upper_bound_threshold, lower_bound_threshold
    if isinstance(upper, estimation_process.EstimationProcess):
      factory.check_norm(upper, 'upper_bound_threshold', owner)
      if lower is not None:
        raise errors.ParameterTypeError(
            f'{owner} expects `lower_bound_threshold` to be None when '
            f'`upper_bound_threshold` is an EstimationProcess (the bounds are '
            f'then [-estimate, estimate]); found {lower!r}.')
      self._is_integer = False
    elif _is_int(upper) or _is_float(upper):
      self._is_integer = _is_int(upper)
      kind = 'int' if self._is_integer else 'float'
      if lower is None:
        if not upper > 0:
          raise errors.ParameterValueError(
              f'{owner} expects `upper_bound_threshold` to be positive when '
              f'it is the only bound (the range is [-upper, upper]); found '
              f'{upper!r}. Tip: give `lower_bound_threshold` too.')
        lower = -upper
      elif not (_is_int(lower) if self._is_integer else _is_float(lower)):
        raise errors.ParameterTypeError(
            f'{owner} expects `lower_bound_threshold` to be a {kind} like '
            f'`upper_bound_threshold` ({upper!r}); found '
            f'{type(lower).__name__}: {lower!r}.')
      if not upper > lower:
        raise errors.ParameterValueError(
            f'{owner} expects `upper_bound_threshold` ({upper!r}) to be '
            f'greater than `lower_bound_threshold` ({lower!r}).')
      if self._is_integer and upper - lower >= _MAX_INTEGER_RANGE:
        raise errors.ParameterValueError(
            f'{owner} expects integer bounds less than 2**62 apart, so that '
            f'sums of many clients fit int64; found [{lower}, {upper}].')
    else:
      raise errors.ParameterTypeError(
          f'{owner} expects `upper_bound_threshold` to be an int, a float or '
          f'a tffx.templates.EstimationProcess; found '
          f'{type(upper).__name__}: {upper!r}.')
    self._upper = upper
    self._lower = lower

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns a process securely summing values of `value_type`.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not made of tensors of
        one dtype, integer for int bounds or floating-point otherwise, or
        int bounds do not fit that dtype.
    """
    owner = 'SecureSumFactory.create'
    kinds = factory.INTEGER if self._is_integer else factory.FLOAT
    tip = (f'bounds of type {type(self._upper).__name__} need '
           f'{"integer" if self._is_integer else "floating-point"} values.')
    value_type = factory.check_value_type(value_type, owner, kinds, tip)
    dtypes = {leaf.dtype for leaf in factory.leaf_types(value_type)}
    if len(dtypes) > 1:
      raise errors.UnsupportedValueTypeError(
          f'{owner} expects the tensors of `value_type` to have one dtype; '
          f'found {value_type} with dtypes {sorted(d.name for d in dtypes)}. '
          f'Tip: sum each dtype with its own factory.')
    dtype = dtypes.pop() if dtypes else np.dtype(
        np.int32 if self._is_integer else np.float32)
    if self._is_integer:
      info = np.iinfo(dtype)
      if not info.min <= self._lower < self._upper <= info.max:
        raise errors.UnsupportedValueTypeError(
            f'{owner} expects the bounds [{self._lower}, {self._upper}] to '
            f'fit the dtype of the values, {dtype.name} '
            f'([{info.min}, {info.max}]).')
    return _secure_sum_process(value_type, dtype, self._upper, self._lower,
                               self._is_integer)


def int64_type(type_spec: computation_types.Type) -> computation_types.Type:
  """`type_spec` with int64 leaves: what goes into the secure sum."""
  if isinstance(type_spec, computation_types.StructType):
    return computation_types.StructType([(n, int64_type(t))
                                         for n, t in type_spec.items()])
  return computation_types.TensorType(np.int64, type_spec.shape)


def build_encode_fn(value_type: computation_types.Type, dtype: np.dtype,
                    is_integer: bool) -> Any:
  """`(<V, D, D> -> <E, <int32, int32>, float32>)`: clients' side of the sum.

  Clips a value to `[low, high]` (the two `D` arguments) and maps it to
  non-negative int64s `E` (exact for integers; 32-bit quantization for
  floats); also returns whether an element was above / below the bounds,
  and the value's largest absolute element.
  """
  bound_type = computation_types.TensorType(dtype)
  encoded_type = int64_type(value_type)

  @tensorflow_computation.tf_computation(value_type, bound_type, bound_type)
  def encode(value, high, low):
    leaves = tensor_math.flatten(value)
    above = tf.constant(False)
    below = tf.constant(False)
    encoded = []
    for leaf in leaves:
      above = tf.logical_or(above, tf.reduce_any(leaf > high))
      below = tf.logical_or(below, tf.reduce_any(leaf < low))
      clipped = tf.clip_by_value(leaf, low, high)
      if is_integer:
        encoded.append(tf.cast(clipped, tf.int64) - tf.cast(low, tf.int64))
      else:
        span = tf.maximum(tf.cast(high, tf.float64) - tf.cast(
            low, tf.float64), np.finfo(np.float64).tiny)
        unit = (tf.cast(clipped, tf.float64) - tf.cast(low, tf.float64)
               ) / span
        encoded.append(tf.cast(tf.round(unit * _QUANTIZATION_MAX), tf.int64))
    counts = (tf.cast(above, tensor_math.COUNT_DTYPE),
              tf.cast(below, tensor_math.COUNT_DTYPE))
    return (tensor_math.pack(encoded_type, encoded), counts,
            tensor_math.global_norm(leaves, math.inf))

  return encode


def build_decode_fn(value_type: computation_types.Type, dtype: np.dtype,
                    is_integer: bool) -> Any:
  """`(<E, int64, D, D> -> V)`: the server's side, given the client count."""
  bound_type = computation_types.TensorType(dtype)
  encoded_type = int64_type(value_type)
  dtype = tf.as_dtype(dtype)
  count_type = computation_types.TensorType(np.int64)

  @tensorflow_computation.tf_computation(encoded_type, count_type,
                                         bound_type, bound_type)
  def decode(total, clients, high, low):
    clients = tf.cast(clients, tf.float64 if not is_integer else tf.int64)
    decoded = []
    for leaf in tensor_math.flatten(total):
      if is_integer:
        decoded.append(tf.cast(leaf + tf.cast(low, tf.int64) * clients,
                               dtype))
      else:
        span = tf.cast(high, tf.float64) - tf.cast(low, tf.float64)
        scaled = tf.cast(leaf, tf.float64) / _QUANTIZATION_MAX * span
        decoded.append(
            tf.cast(scaled + tf.cast(low, tf.float64) * clients, dtype))
    return tensor_math.pack(value_type, decoded)

  return decode


def _secure_sum_process(value_type: computation_types.Type, dtype: np.dtype,
                        upper: Any, lower: Any, is_integer: bool
                       ) -> aggregation_process.AggregationProcess:
  """Builds the process of `SecureSumFactory` (see the module docstring)."""
  encode = build_encode_fn(value_type, dtype, is_integer)
  decode = build_decode_fn(value_type, dtype, is_integer)
  dtype = tf.as_dtype(dtype)
  adaptive = isinstance(upper, estimation_process.EstimationProcess)
  one = tensorflow_computation.tf_computation(
      lambda: tf.constant(1, tf.int64))
  max_input = np.int64(_QUANTIZATION_MAX if not is_integer else upper - lower)

  if adaptive:
    bound_process = upper
    bounds_fn = tensorflow_computation.tf_computation(
        lambda estimate: (tf.cast(estimate, dtype),
                          -tf.cast(estimate, dtype)), np.float32)
    initialize_fn = bound_process.initialize
  else:
    bounds_fn = tensorflow_computation.tf_computation(
        lambda: (tf.constant(upper, dtype), tf.constant(lower, dtype)))

    @federated_computation.federated_computation
    def initialize_fn():
      return intrinsics.federated_value((), placements.SERVER)

  @federated_computation.federated_computation(
      initialize_fn.type_signature.result,
      computation_types.type_at_clients(value_type))
  def next_fn(state, value):
    if adaptive:
      bounds = intrinsics.federated_map(bounds_fn,
                                        bound_process.report(state))
    else:
      bounds = intrinsics.federated_eval(bounds_fn, placements.SERVER)
    upper_bound, lower_bound = bounds[0], bounds[1]
    encoded = intrinsics.federated_map(
        encode, (value, intrinsics.federated_broadcast(upper_bound),
                 intrinsics.federated_broadcast(lower_bound)))
    total = intrinsics.federated_secure_sum(encoded[0], max_input)
    clients = intrinsics.federated_secure_sum(
        intrinsics.federated_eval(one, placements.CLIENTS), np.int64(1))
    clipped_counts = intrinsics.federated_secure_sum(encoded[1], 1)
    result = intrinsics.federated_map(
        decode, (total, clients, upper_bound, lower_bound))
    new_state = (bound_process.next(state, encoded[2]) if adaptive else
                 state)
    return measured_process.MeasuredProcessOutput(
        state=new_state,
        result=result,
        measurements=intrinsics.federated_zip(
            collections.OrderedDict(
                secure_upper_clipped_count=clipped_counts[0],
                secure_lower_clipped_count=clipped_counts[1],
                secure_upper_threshold=upper_bound,
                secure_lower_threshold=lower_bound)))

  return aggregation_process.AggregationProcess(initialize_fn, next_fn)

