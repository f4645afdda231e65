"""`DistributedDpSumFactory`: a sum with distributed differential privacy.

Each client adds its share of discrete noise to a quantized value, and only
the secure (modular) sum of all shares reaches the server (Kairouz et al.
2021, "The Distributed Discrete Gaussian Mechanism"; Agarwal et al. 2021,
"The Skellam Mechanism"). Composed from tffx's factories:

    clipping_factory(l2_clip, secure clipped counts)      L2 norm <= c
      HadamardTransformFactory | DiscreteFourierTransformFactory
        _SkellamSumFactory:                                (one round)
          client:  round_stochastically(scale * x) + Skellam(mu)  -> int64
          secure:  SecureModularSumFactory(2**bits)
          server:  into [-2**(bits-1), 2**(bits-1)) / scale

The rotation spreads a vector's norm evenly over its entries, so that
scaled entries fit the `bits`-bit field. Each client's Skellam noise (the
difference of two Poisson(mu) draws) has variance `(scale * sigma)**2 /
expected_clients_per_round`; the sum of the expected number of clients
thus has noise of stddev `sigma = noise_multiplier * l2_clip` after
unscaling. The scale is chosen once, from the initial clip, the noise, the
number of entries and the expected number of clients, so that the
aggregate stays within 3 of its standard deviations inside the field.

With `auto_l2_clip` the clip tracks the median of the clients' norms
(a noised geometric quantile estimate starting at `l2_clip`, its counts
summed securely); the noise stays that of the initial clip, as in TFF.
Client noise and rounding use TensorFlow's stateful random ops (each
client must draw its own), so results are not reproducible run to run.
Only the Skellam mechanism is implemented; no privacy accounting is done.
"""

import math
from typing import Any

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import quantile_estimation
from tffx.aggregators import robust
from tffx.aggregators import rotation
from tffx.aggregators import secure
from tffx.aggregators import secure_modular
from tffx.aggregators import sum_factory
from tffx.aggregators import tensor_math
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process

_OWNER = 'DistributedDpSumFactory'
# The aggregate must stay within this many of its stddevs inside the field.
_STDDEVS_IN_FIELD = 3.0


class _SkellamSumFactory(factory.UnweightedAggregationFactory):
  """Quantizes, adds Skellam noise at clients and sums modulo 2**bits.

  Stateless; no measurements. `stddev` is the noise stddev of the sum in
  value units, `scale` maps values to integers.
  """

  def __init__(self, stddev: float, expected_clients: int, bits: int,
               scale: float):
    self._mu = (scale * stddev)**2 / (2.0 * expected_clients)
    self._bits = bits
    self._scale = scale

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    value_type = factory.check_value_type(value_type, f'{_OWNER}.create',
                                          factory.FLOAT)
    int_type = secure.int64_type(value_type)
    modulus = 2**self._bits
    mu, scale = self._mu, self._scale
    modular_sum = secure_modular.SecureModularSumFactory(modulus).create(
        int_type)

    @tensorflow_computation.tf_computation(value_type)
    def encode(value):
      encoded = []
      for leaf in tensor_math.flatten(value):
        scaled = tf.cast(leaf, tf.float64) * scale
        floor = tf.floor(scaled)
        up = tf.random.uniform(tf.shape(scaled), dtype=tf.float64) < (
            scaled - floor)
        rounded = tf.cast(floor, tf.int64) + tf.cast(up, tf.int64)
        if mu > 0:
          noise = (tf.random.poisson(tf.shape(scaled), mu, dtype=tf.int64) -
                   tf.random.poisson(tf.shape(scaled), mu, dtype=tf.int64))
          rounded += noise
        encoded.append(rounded)
      return tensor_math.pack(int_type, encoded)

    @tensorflow_computation.tf_computation(int_type)
    def decode(total):
      decoded = []
      for leaf, t in zip(tensor_math.flatten(total),
                         factory.leaf_types(value_type)):
        signed = tf.where(leaf >= modulus // 2, leaf - modulus, leaf)
        decoded.append(tf.cast(tf.cast(signed, tf.float64) / scale,
                               tf.as_dtype(t.dtype)))
      return tensor_math.pack(value_type, decoded)

    def aggregate(value):
      encoded = intrinsics.federated_map(encode, value)
      output = modular_sum.next(modular_sum.initialize(), encoded)
      return intrinsics.federated_map(decode, output.result)

    return sum_factory.build_stateless_process(value_type, aggregate)


def _check_positive(value: Any, name: str, allow_zero: bool = False) -> float:
  if not factory.is_number(value) or not (value > 0 or
                                          (allow_zero and value == 0)):
    bound = 'non-negative' if allow_zero else 'positive'
    raise errors.ParameterValueError(
        f'{_OWNER} expects `{name}` to be a {bound} number; found {value!r}.')
  return float(value)


class DistributedDpSumFactory(factory.UnweightedAggregationFactory):
  """Creates processes summing client values with distributed DP (Skellam).

      next: (<S@SERVER, {V}@CLIENTS> -> <state=S, result=V,
             measurements=<clipping=.., clipping_norm=.., clipped_count=..,
                           hd|dft=<>>>@SERVER)

  with the state and measurements of the clipping and rotation factories
  it composes (see the module docstring).
  """

  def __init__(self, noise_multiplier: float, expected_clients_per_round: int,
               bits: int, l2_clip: float, rotation_type: str = 'hd',
               auto_l2_clip: bool = False):
    """Creates the factory.

    Args:
      noise_multiplier: Noise stddev in units of the (initial) L2 clip, >= 0.
      expected_clients_per_round: Positive int; the noise is split among
        this many clients.
      bits: The bit width of the secure sum's field, in [1, 22].
      l2_clip: The (initial) L2 clip of client values, positive.
      rotation_type: 'hd' (randomized Hadamard) or 'dft' (randomized
        discrete Fourier transform).
      auto_l2_clip: Whether the clip adapts to the clients' median norm.

    Raises:
      ParameterValueError: for an argument out of range.
      ParameterTypeError: for an argument of the wrong type.
    """
    self._stddev = _check_positive(noise_multiplier, 'noise_multiplier',
                                   allow_zero=True) * _check_positive(
                                       l2_clip, 'l2_clip')
    if (not isinstance(expected_clients_per_round, (int, np.integer)) or
        isinstance(expected_clients_per_round, bool) or
        expected_clients_per_round < 1):
      raise errors.ParameterValueError(
          f'{_OWNER} expects `expected_clients_per_round` to be a positive '
          f'int; found {expected_clients_per_round!r}.')
    if (not isinstance(bits, (int, np.integer)) or isinstance(bits, bool) or
        not 1 <= bits <= 22):
      raise errors.ParameterValueError(
          f'{_OWNER} expects `bits` to be an int in [1, 22]; found {bits!r}.')
    if rotation_type not in ('hd', 'dft'):
      raise errors.ParameterValueError(
          f"{_OWNER} expects `rotation_type` 'hd' or 'dft'; found "
          f'{rotation_type!r}.')
    if not isinstance(auto_l2_clip, bool):
      raise errors.ParameterTypeError(
          f'{_OWNER} expects `auto_l2_clip` to be a bool; found '
          f'{auto_l2_clip!r}.')
    self._clients = int(expected_clients_per_round)
    self._bits = int(bits)
    self._l2_clip = float(l2_clip)
    self._rotation = (rotation.HadamardTransformFactory if rotation_type
                      == 'hd' else rotation.DiscreteFourierTransformFactory)
    self._auto_l2_clip = auto_l2_clip

  def _scale(self, num_entries: int) -> float:
    """Integers per value unit, so the aggregate fits the field."""
    signal_variance = self._clients * self._l2_clip**2 / max(num_entries, 1)
    spread = math.sqrt(signal_variance + self._stddev**2)
    return 2.0**(self._bits - 1) / (_STDDEVS_IN_FIELD * spread)

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns the process for `value_type` (floating-point tensors).

    Raises:
      UnsupportedValueTypeError: if `value_type` is not floating-point.
    """
    value_type = factory.check_value_type(value_type, f'{_OWNER}.create',
                                          factory.FLOAT)
    num_entries = 0
    for leaf in factory.leaf_types(value_type):
      size = int(np.prod(leaf.shape)) if leaf.shape else 1
      num_entries += 2**max(size - 1, 0).bit_length()  # Padded to 2**k.
    inner = _SkellamSumFactory(self._stddev, self._clients, self._bits,
                               self._scale(num_entries))
    if self._auto_l2_clip:
      clip = quantile_estimation.PrivateQuantileEstimationProcess(
          initial_estimate=self._l2_clip,
          target_quantile=0.5,
          learning_rate=0.2,
          below_estimate_stddev=0.05 * self._clients,
          expected_num_records=self._clients,
          record_aggregation_factory=secure.SecureSumFactory(1.0, 0.0))
    else:
      clip = self._l2_clip
    return robust.clipping_factory(
        clip, self._rotation(inner),
        clipped_count_sum_factory=secure.SecureSumFactory(1, 0)).create(
            value_type)
