"""Recommended aggregators of model updates, as in `tff.learning`.

Each function returns a `tffx.aggregators` factory built from the pieces of
that package, with TFF's default parameters:

    robust_aggregator:  zeroing(clipping(MeanFactory()))
    dp_aggregator:      zeroing(DifferentiallyPrivateFactory.gaussian_adaptive())
    secure_aggregator:  zeroing(clipping(MeanFactory(SecureSumFactory(..))))
    ddp_secure_aggregator: zeroing(UnweightedMeanFactory(DistributedDpSumFactory(..)))
    compression_aggregator:
                        zeroing(clipping(MeanFactory(
                            EncodedSumFactory.quantize_above_threshold(8, 20000))))

Zeroing and clipping norms adapt: zeroing at twice the 98th percentile of
the clients' largest absolute update element, plus 1 (starting at 10);
clipping at the 80th percentile of update L2 norms (starting at 1). This
module only composes factories; the learning algorithms take the result as
their `model_aggregator`.
"""

import math
from typing import Callable, Optional

from tffx.aggregators import differential_privacy
from tffx.aggregators import distributed_dp
from tffx.aggregators import encoded
from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import mean
from tffx.aggregators import quantile_estimation
from tffx.aggregators import robust
from tffx.aggregators import secure

DebugMeasurementsFn = Callable[[factory.AggregationFactory],
                               factory.AggregationFactory]

# The largest weight `secure_aggregator` sums exactly; larger ones are
# clipped to it.
SECURE_WEIGHT_BOUND = float(2**20)


def _count_sum_factory(secure_estimation: bool
                      ) -> Optional[factory.UnweightedAggregationFactory]:
  """Sums the 0/1 counts of clipped or zeroed clients, securely if asked."""
  if not secure_estimation:
    return None
  return secure.SecureSumFactory(upper_bound_threshold=1,
                                 lower_bound_threshold=0)


def _default_zeroing(inner: factory.AggregationFactory,
                     secure_estimation: bool = False
                    ) -> factory.AggregationFactory:
  zeroing_norm = quantile_estimation.PrivateQuantileEstimationProcess.no_noise(
      initial_estimate=10.0,
      target_quantile=0.98,
      learning_rate=math.log(10.0),
      multiplier=2.0,
      increment=1.0,
      secure_estimation=secure_estimation)
  return robust.zeroing_factory(
      zeroing_norm, inner,
      zeroed_count_sum_factory=_count_sum_factory(secure_estimation))


def _default_clipping(inner: factory.AggregationFactory,
                      secure_estimation: bool = False
                     ) -> factory.AggregationFactory:
  clipping_norm = quantile_estimation.PrivateQuantileEstimationProcess.no_noise(
      initial_estimate=1.0,
      target_quantile=0.8,
      learning_rate=0.2,
      secure_estimation=secure_estimation)
  return robust.clipping_factory(
      clipping_norm, inner,
      clipped_count_sum_factory=_count_sum_factory(secure_estimation))


def _check_bool(value, name: str, owner: str) -> None:
  if not isinstance(value, bool):
    raise errors.ParameterTypeError(
        f'{owner} expects `{name}` to be a bool; found '
        f'{type(value).__name__}: {value!r}.')


def _robust_mean(value_sum_factory, zeroing: bool, clipping: bool,
                 weighted: bool,
                 debug_measurements_fn: Optional[DebugMeasurementsFn],
                 owner: str) -> factory.AggregationFactory:
  """zeroing(clipping(debug(mean over `value_sum_factory`))), as enabled."""
  _check_flags(owner, zeroing=zeroing, clipping=clipping, weighted=weighted)
  result = (mean.MeanFactory(value_sum_factory) if weighted else
            mean.UnweightedMeanFactory(value_sum_factory))
  if debug_measurements_fn is not None:
    expected = (factory.WeightedAggregationFactory if weighted else
                factory.UnweightedAggregationFactory)
    result = debug_measurements_fn(result)
    factory.check_factory(result, expected, 'debug_measurements_fn(...)',
                          owner)
  if clipping:
    result = _default_clipping(result)
  if zeroing:
    result = _default_zeroing(result)
  return result


def _check_flags(owner: str, **flags) -> None:
  for name, flag in flags.items():
    _check_bool(flag, name, owner)


def robust_aggregator(
    *,
    zeroing: bool = True,
    clipping: bool = True,
    weighted: bool = True,
    debug_measurements_fn: Optional[DebugMeasurementsFn] = None
) -> factory.AggregationFactory:
  """A mean with adaptive zeroing and clipping, for robustness.

  Zeroing drops updates of extreme size (data corruption); clipping bounds
  the L2 norm of the others (outliers), as described in Andrew, Thakkar et
  al. (2021), without noise.

  Args:
    zeroing: Whether to zero updates above an adaptive norm.
    clipping: Whether to clip updates to an adaptive L2 norm.
    weighted: Whether the mean is weighted (`MeanFactory`) or not
      (`UnweightedMeanFactory`).
    debug_measurements_fn: Optional; called on the mean factory, returns the
      factory to wrap instead (e.g. one adding measurements).

  Returns:
    A `WeightedAggregationFactory` if `weighted`, else an
    `UnweightedAggregationFactory`.

  Raises:
    ParameterTypeError: if a flag is not a bool.
    FactoryTypeError: if `debug_measurements_fn` returns no factory, or one
      of another kind than it was given.
  """
  return _robust_mean(None, zeroing, clipping, weighted,
                      debug_measurements_fn, 'robust_aggregator')


def compression_aggregator(
    *,
    zeroing: bool = True,
    clipping: bool = True,
    weighted: bool = True,
    debug_measurements_fn: Optional[DebugMeasurementsFn] = None,
    **kwargs) -> factory.AggregationFactory:
  """A mean whose client updates are quantized, with zeroing and clipping.

  As `robust_aggregator`, but the (weighted) updates are sent to the server
  uniformly quantized to 8 bits, for every float tensor of more than 20000
  elements (Suresh et al. 2017): `EncodedSumFactory.
  quantize_above_threshold(quantization_bits=8, threshold=20000)` sums them
  inside the mean. The clipping happens before the quantization.

  Args:
    zeroing: Whether to zero updates above an adaptive norm.
    clipping: Whether to clip updates to an adaptive L2 norm.
    weighted: Whether the mean is weighted.
    debug_measurements_fn: Optional; called on the mean factory, returns the
      factory to wrap instead.
    **kwargs: Passed to `EncodedSumFactory.quantize_above_threshold`.

  Returns:
    A `WeightedAggregationFactory` if `weighted`, else an
    `UnweightedAggregationFactory`.

  Raises:
    ParameterTypeError: if a flag is not a bool.
    FactoryTypeError: if `debug_measurements_fn` returns no factory, or one
      of another kind than it was given.
  """
  quantized_sum = encoded.EncodedSumFactory.quantize_above_threshold(
      quantization_bits=8, threshold=20000, **kwargs)
  return _robust_mean(quantized_sum, zeroing, clipping, weighted,
                      debug_measurements_fn, 'compression_aggregator')


def dp_aggregator(noise_multiplier: float,
                  clients_per_round: float,
                  zeroing: bool = True
                 ) -> factory.UnweightedAggregationFactory:
  """A differentially private mean with adaptive clipping (and zeroing).

  The Gaussian mechanism of McMahan et al. (2017) with the adaptive clip of
  Andrew, Thakkar et al. (2021): `DifferentiallyPrivateFactory.
  gaussian_adaptive` starting at a clip of 0.1 and tracking the median
  norm. The mean is unweighted, as differential privacy bounds each
  client's contribution.

  Args:
    noise_multiplier: The noise stddev in units of the clip (>= 0); 1.0 or
      more is needed for meaningful privacy.
    clients_per_round: The expected number of clients per round (> 0).
    zeroing: Whether to zero updates above an adaptive norm first.

  Returns:
    An `UnweightedAggregationFactory`.

  Raises:
    ParameterTypeError, ParameterValueError: for arguments out of range.
  """
  _check_bool(zeroing, 'zeroing', 'dp_aggregator')
  result = differential_privacy.DifferentiallyPrivateFactory.gaussian_adaptive(
      noise_multiplier=noise_multiplier,
      clients_per_round=clients_per_round,
      initial_l2_norm_clip=0.1,
      target_unclipped_quantile=0.5,
      learning_rate=0.2)
  if zeroing:
    result = _default_zeroing(result)
  return result


def secure_aggregator(*,
                      zeroing: bool = True,
                      clipping: bool = True,
                      weighted: bool = True) -> factory.AggregationFactory:
  """A mean whose sums use secure aggregation, with zeroing and clipping.

  The (weighted) values are summed by a `SecureSumFactory` whose bound
  adapts to twice the 95th percentile of the clients' largest absolute
  element (starting at 50); the norms of zeroing and clipping are estimated,
  and the clipped and zeroed clients counted, with secure sums too: no
  client value reaches the server alone. Weights (floats, for `weighted`)
  are summed securely in `[0, SECURE_WEIGHT_BOUND]`, client counts in
  `[0, 1]`.

  Args:
    zeroing: Whether to zero updates above an adaptive norm.
    clipping: Whether to clip updates to an adaptive L2 norm.
    weighted: Whether the mean is weighted.

  Returns:
    A `WeightedAggregationFactory` if `weighted`, else an
    `UnweightedAggregationFactory`.

  Raises:
    ParameterTypeError: if a flag is not a bool.
  """
  _check_flags('secure_aggregator', zeroing=zeroing, clipping=clipping,
               weighted=weighted)
  value_bound = quantile_estimation.PrivateQuantileEstimationProcess.no_noise(
      initial_estimate=50.0,
      target_quantile=0.95,
      learning_rate=1.0,
      multiplier=2.0,
      secure_estimation=True)
  value_sum = secure.SecureSumFactory(value_bound)
  if weighted:
    result = mean.MeanFactory(
        value_sum_factory=value_sum,
        weight_sum_factory=secure.SecureSumFactory(
            upper_bound_threshold=SECURE_WEIGHT_BOUND,
            lower_bound_threshold=0.0))
  else:
    result = mean.UnweightedMeanFactory(
        value_sum_factory=value_sum,
        count_sum_factory=secure.SecureSumFactory(
            upper_bound_threshold=1, lower_bound_threshold=0))
  if clipping:
    result = _default_clipping(result, secure_estimation=True)
  if zeroing:
    result = _default_zeroing(result, secure_estimation=True)
  return result


def ddp_secure_aggregator(noise_multiplier: float,
                          expected_clients_per_round: int,
                          bits: int = 20,
                          zeroing: bool = True,
                          rotation_type: str = 'hd'
                         ) -> factory.UnweightedAggregationFactory:
  """An unweighted mean with distributed DP and secure aggregation.

  Client updates are clipped to an adaptive L2 norm (starting at 0.1,
  tracking the median norm), rotated, quantized and noised with Skellam
  noise at each client, and summed securely modulo `2**bits`
  (`tffx.aggregators.distributed_dp.DistributedDpSumFactory`); client
  counts and the zeroing and clipping estimates are summed securely too.

  Args:
    noise_multiplier: The noise stddev in units of the initial L2 clip
      (0.1), >= 0; 1.0 or more may be needed for meaningful privacy.
    expected_clients_per_round: The expected number of clients, positive.
    bits: The bit width of the secure sum, in [1, 22] (default 20; about 12
      suffice for 100 clients, 16 for 1000).
    zeroing: Whether to zero updates above an adaptive norm first.
    rotation_type: 'hd' (Hadamard) or 'dft' (discrete Fourier transform).

  Returns:
    An `UnweightedAggregationFactory`.

  Raises:
    ParameterTypeError, ParameterValueError: for arguments out of range.
  """
  _check_bool(zeroing, 'zeroing', 'ddp_secure_aggregator')
  result = distributed_dp.DistributedDpSumFactory(
      noise_multiplier=noise_multiplier,
      expected_clients_per_round=expected_clients_per_round,
      bits=bits,
      l2_clip=0.1,
      rotation_type=rotation_type,
      auto_l2_clip=True)
  result = mean.UnweightedMeanFactory(
      value_sum_factory=result,
      count_sum_factory=secure.SecureSumFactory(
          upper_bound_threshold=1, lower_bound_threshold=0))
  if zeroing:
    result = _default_zeroing(result, secure_estimation=True)
  return result
