"""`SecureModularSumFactory`: a secure sum of integers under a modulus.

    not symmetric: values in [0, m-1];           result = sum mod m
    symmetric:     values in [-(m-1), m-1];      result = sum mod (2m-1),
                   mapped back to [-(m-1), m-1]

Values outside the range wrap around (modular arithmetic), as in TFF. Each
client reduces its value modulo the modulus, the reduced values are summed
with `tffx.federated_secure_sum` (as int64, so that sums of many clients
do not overflow) and the server reduces the sum again. TFF delegates to
`federated_secure_modular_sum`, which tffx does not have; the results are
the same. No state, no measurements.
"""

from typing import Any

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import secure
from tffx.aggregators import sum_factory
from tffx.aggregators import tensor_math
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process


class SecureModularSumFactory(factory.UnweightedAggregationFactory):
  """Creates processes that securely sum integer values modulo `modulus`.

      initialize: ( -> <>@SERVER)
      next: (<<>@SERVER, {V}@CLIENTS> ->
             <state=<>@SERVER, result=V@SERVER, measurements=<>@SERVER>)
  """

  def __init__(self, modulus: int, symmetric_range: bool = False):
    """Creates a `SecureModularSumFactory`.

    Args:
      modulus: The positive integer modulus `m`.
      symmetric_range: Whether values and results are in `[-(m-1), m-1]`
        (True) or `[0, m-1]` (False).

    Raises:
      ParameterTypeError: if `modulus` is not an integer or
        `symmetric_range` not a bool.
      ParameterValueError: if `modulus` is not positive.
    """
    if not isinstance(modulus, (int, np.integer)) or isinstance(modulus, bool):
      raise errors.ParameterTypeError(
          f'SecureModularSumFactory expects `modulus` to be an int; found '
          f'{type(modulus).__name__}: {modulus!r}.')
    if modulus <= 0:
      raise errors.ParameterValueError(
          f'Provided modulus must be positive, but found: {modulus}')
    if not isinstance(symmetric_range, bool):
      raise errors.ParameterTypeError(
          f'SecureModularSumFactory expects `symmetric_range` to be a bool; '
          f'found {symmetric_range!r}.')
    self._modulus = int(modulus)
    self._symmetric_range = symmetric_range

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns a process summing `value_type` values modulo the modulus.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not made of integer
        tensors.
    """
    value_type = factory.check_value_type(
        value_type, 'SecureModularSumFactory.create', factory.INTEGER,
        'modular sums are of integers.')
    modulus = (2 * self._modulus - 1 if self._symmetric_range else
               self._modulus)
    symmetric_range, half = self._symmetric_range, self._modulus
    wide_type = secure.int64_type(value_type)

    @tensorflow_computation.tf_computation(value_type)
    def reduce_at_client(value):
      return tensor_math.pack(wide_type, [
          tf.math.floormod(tf.cast(t, tf.int64), modulus)
          for t in tensor_math.flatten(value)
      ])

    @tensorflow_computation.tf_computation(wide_type)
    def reduce_at_server(total):
      leaves = []
      for t, leaf in zip(tensor_math.flatten(total),
                         factory.leaf_types(value_type)):
        t = tf.math.floormod(t, modulus)
        if symmetric_range:
          # Sums in [half, 2*half - 2] stand for the negative values.
          t = tf.where(t >= half, t - modulus, t)
        leaves.append(tf.cast(t, tf.as_dtype(leaf.dtype)))
      return tensor_math.pack(value_type, leaves)

    def aggregate(value):
      reduced = intrinsics.federated_map(reduce_at_client, value)
      total = intrinsics.federated_secure_sum(reduced, modulus - 1)
      return intrinsics.federated_map(reduce_at_server, total)

    return sum_factory.build_stateless_process(value_type, aggregate)
