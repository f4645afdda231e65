"""`secure_quantized_sum`: a secure sum of bounded values, as a function.

    secure_quantized_sum({V}@CLIENTS, lower, upper) -> V@SERVER

Called inside a `tffx.federated_computation`. Values are clipped to
`[lower, upper]`, encoded as non-negative integers (the same encoding as
`SecureSumFactory`: exact for integer values, 32-bit quantization for
floats) and summed with `tffx.federated_secure_sum`, then decoded at the
server. Bounds are scalars used for every tensor of the value: Python or
numpy numbers, or (for floating-point values) values placed at SERVER.
"""

from typing import Any

import numpy as np
import tensorflow as tf

from tffx.aggregators import factory
from tffx.aggregators import secure
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.computations import value_impl
from tffx.types import computation_types
from tffx.types import placements

_QUANTIZATION_MAX = 2**32 - 1


def _server_bound(bound: Any, dtype: np.dtype, name: str):
  """`bound` as a `dtype` scalar at SERVER."""
  if factory.is_number(bound):
    constant = tensorflow_computation.tf_computation(
        lambda: tf.constant(bound, tf.as_dtype(dtype)))
    return intrinsics.federated_eval(constant, placements.SERVER)
  bound = value_impl.to_value(bound)
  bound_type = bound.type_signature
  if not (isinstance(bound_type, computation_types.FederatedType) and
          bound_type.placement is placements.SERVER and
          isinstance(bound_type.member, computation_types.TensorType) and
          bound_type.member.shape == ()):
    raise TypeError(f'Expected `{name}` to be a number or a scalar placed at '
                    f'SERVER, found {bound_type}.')
  cast = tensorflow_computation.tf_computation(
      lambda b: tf.cast(b, tf.as_dtype(dtype)), bound_type.member)
  return intrinsics.federated_map(cast, bound)


def secure_quantized_sum(client_value: Any, lower_bound: Any,
                         upper_bound: Any):
  """Securely sums `client_value` clipped to `[lower_bound, upper_bound]`.

  Args:
    client_value: A value at CLIENTS: a tensor or a structure of tensors of
      one dtype (int32, int64, float32 or float64).
    lower_bound: The lower clipping bound, a scalar (see the module
      docstring).
    upper_bound: The upper clipping bound, greater than `lower_bound`.

  Returns:
    The sum, at SERVER, with the type of `client_value`'s member.

  Raises:
    TypeError: if `client_value` is not such a CLIENTS value, a bound is of
      the wrong kind, or integer values get non-constant bounds.
    ValueError: if constant bounds are not ordered, or integer bounds are
      2**32 or more apart.
  """
  value = value_impl.to_value(client_value)
  value_type = value.type_signature
  if not (isinstance(value_type, computation_types.FederatedType) and
          value_type.placement is placements.CLIENTS):
    raise TypeError(f'Expected `client_value` placed at CLIENTS, found '
                    f'{value_type}.')
  member = factory.check_value_type(value_type.member, 'secure_quantized_sum',
                                    factory.NUMERIC)
  dtypes = {leaf.dtype for leaf in factory.leaf_types(member)}
  if len(dtypes) != 1:
    raise TypeError(f'Expected the tensors of `client_value` to have one '
                    f'dtype, found {member}.')
  dtype = dtypes.pop()
  is_integer = dtype.kind in factory.INTEGER
  constant_bounds = (factory.is_number(lower_bound) and
                     factory.is_number(upper_bound))
  if constant_bounds and not upper_bound > lower_bound:
    raise ValueError(f'Expected upper_bound ({upper_bound}) to be greater '
                     f'than lower_bound ({lower_bound}).')
  if is_integer:
    if not constant_bounds:
      raise TypeError('Expected number bounds for integer values: the '
                      'secure sum of integers needs their range when traced.')
    if upper_bound - lower_bound >= _QUANTIZATION_MAX + 1:
      raise ValueError(f'Expected integer bounds less than 2**32 apart, '
                       f'found [{lower_bound}, {upper_bound}].')
  upper = _server_bound(upper_bound, dtype, 'upper_bound')
  lower = _server_bound(lower_bound, dtype, 'lower_bound')
  encode = secure.build_encode_fn(member, dtype, is_integer)
  decode = secure.build_decode_fn(member, dtype, is_integer)
  max_input = np.int64(upper_bound - lower_bound if is_integer else
                       _QUANTIZATION_MAX)
  encoded = intrinsics.federated_map(
      encode, (value, intrinsics.federated_broadcast(upper),
               intrinsics.federated_broadcast(lower)))
  total = intrinsics.federated_secure_sum(encoded[0], max_input)
  one = tensorflow_computation.tf_computation(
      lambda: tf.constant(1, tf.int64))
  clients = intrinsics.federated_secure_sum(
      intrinsics.federated_eval(one, placements.CLIENTS), np.int64(1))
  return intrinsics.federated_map(decode, (total, clients, upper, lower))
