"""`DifferentiallyPrivateFactory`: the Gaussian mechanism on a mean of clients.

Each client's value is clipped to an L2 norm `clip`; the clipped values are
summed (by `record_aggregation_factory`, default `SumFactory`); the server
adds Gaussian noise of stddev `noise_multiplier * clip` to every element and
divides by the expected number of clients:

    result = (sum_i clip(value_i) + N(0, (noise_multiplier * clip)^2))
             / clients_per_round

so the noise of the result has stddev `noise_multiplier * clip /
clients_per_round`. `gaussian_fixed` keeps `clip` fixed; `gaussian_adaptive`
tracks a quantile of the clients' norms with a noised
`PrivateQuantileEstimationProcess` (Andrew et al., 2021), spending part of
the privacy budget on it, as TFF does.

The noise comes from stateless random ops seeded by `noise_seed=int64[2]`
in the state, split every round: runs from the same seed give the same
noise on any executor; `noise_seed=None` draws the seed in `initialize`.

    state        = <noise_seed=int64[2], [clip=E,] record_agg=R>
    measurements = <dp_query_metrics=<clip=float32>, dp=R.M>

where `E` is the state of the clip's estimation process (adaptive clip
only) and `R` that of the record aggregation. This module computes no privacy accounting (epsilon); it implements the
mechanism only. TFF takes a `tensorflow_privacy` query; here the query's
parameters are arguments.
"""

import collections
import math
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import quantile_estimation
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

_OWNER = 'DifferentiallyPrivateFactory'
_SEED_TYPE = computation_types.TensorType(np.int64, [2])


def _check_non_negative(value: Any, name: str, owner: str) -> float:
  if not factory.is_number(value):
    raise errors.ParameterTypeError(
        f'{owner} expects `{name}` to be a number; found '
        f'{type(value).__name__}: {value!r}.')
  if not (value >= 0 and math.isfinite(value)):
    raise errors.ParameterValueError(
        f'{owner} expects `{name}` to be a finite number >= 0; found '
        f'{value!r}.')
  return float(value)


def _check_positive(value: Any, name: str, owner: str) -> float:
  value = _check_non_negative(value, name, owner)
  if value == 0:
    raise errors.ParameterValueError(
        f'{owner} expects `{name}` to be positive; found {value!r}.')
  return value


def _check_seed(seed: Any, owner: str) -> Optional[int]:
  if seed is not None and (not isinstance(seed, (int, np.integer)) or
                           isinstance(seed, bool)):
    raise errors.ParameterTypeError(
        f'{owner} expects `noise_seed` to be an int or None; found '
        f'{type(seed).__name__}: {seed!r}.')
  return seed


class DifferentiallyPrivateFactory(factory.UnweightedAggregationFactory):
  """Creates processes computing a differentially private mean.

      initialize: ( -> <noise_seed=int64[2], [clip=E,] record_agg=R>@SERVER)
      next: (<state, {V}@CLIENTS> ->
             <state=.., result=V@SERVER,
              measurements=<dp_query_metrics=<clip=float32>, dp=R.M>@SERVER>)

  `V` is made of floating-point tensors. Build it with `gaussian_fixed` or
  `gaussian_adaptive`.
  """

  def __init__(self,
               noise_multiplier: float,
               clients_per_round: float,
               clip: Any,
               record_aggregation_factory: Optional[
                   factory.UnweightedAggregationFactory] = None,
               noise_seed: Optional[int] = None):
    """Creates a `DifferentiallyPrivateFactory`.

    Args:
      noise_multiplier: The stddev of the noise on the sum, in units of the
        clip (>= 0).
      clients_per_round: The expected number of clients, dividing the noised
        sum (> 0).
      clip: The L2 norm each value is clipped to: a positive number, or an
        `EstimationProcess` with `next: (<S@SERVER, {float32}@CLIENTS> ->
        S@SERVER)` (fed the clients' norms) and `report: (S@SERVER ->
        float32@SERVER)`.
      record_aggregation_factory: Sums the clipped values; default
        `SumFactory()` (e.g. `SecureSumFactory(clip)` instead).
      noise_seed: An int making the noise reproducible; None draws a seed
        when the process is initialized.

    Raises:
      ParameterTypeError: if an argument has the wrong type.
      ParameterValueError: if an argument is out of its range.
      FactoryTypeError: if `record_aggregation_factory` is not an
        `UnweightedAggregationFactory`.
    """
    self._noise_multiplier = _check_non_negative(noise_multiplier,
                                                 'noise_multiplier', _OWNER)
    self._clients_per_round = _check_positive(clients_per_round,
                                              'clients_per_round', _OWNER)
    self._clip = factory.check_norm(clip, 'clip', _OWNER)
    if record_aggregation_factory is None:
      record_aggregation_factory = sum_factory.SumFactory()
    factory.check_factory(record_aggregation_factory,
                          factory.UnweightedAggregationFactory,
                          'record_aggregation_factory', _OWNER)
    self._record_factory = record_aggregation_factory
    self._noise_seed = _check_seed(noise_seed, _OWNER)

  @classmethod
  def gaussian_fixed(cls,
                     noise_multiplier: float,
                     clients_per_round: float,
                     clip: float,
                     noise_seed: Optional[int] = None
                    ) -> 'DifferentiallyPrivateFactory':
    """The Gaussian mechanism with a fixed clipping norm.

    Args:
      noise_multiplier: The noise stddev in units of `clip` (>= 0).
      clients_per_round: The expected number of clients per round (> 0).
      clip: The L2 norm each client value is clipped to (> 0).
      noise_seed: An int for reproducible noise, or None.

    Raises:
      ParameterTypeError, ParameterValueError: for arguments out of range.
    """
    if isinstance(clip, estimation_process.EstimationProcess):
      raise errors.ParameterTypeError(
          f'gaussian_fixed expects `clip` to be a positive number; found an '
          f'EstimationProcess. Tip: use gaussian_adaptive for an adaptive '
          f'clip.')
    return cls(noise_multiplier, clients_per_round, clip,
               noise_seed=noise_seed)

  @classmethod
  def gaussian_adaptive(cls,
                        noise_multiplier: float,
                        clients_per_round: float,
                        initial_l2_norm_clip: float = 0.1,
                        target_unclipped_quantile: float = 0.5,
                        learning_rate: float = 0.2,
                        clipped_count_stddev: Optional[float] = None,
                        noise_seed: Optional[int] = None
                       ) -> 'DifferentiallyPrivateFactory':
    """The Gaussian mechanism with a clip adapting to a quantile of norms.

    The clip follows a geometric `PrivateQuantileEstimationProcess` of the
    clients' norms, whose count of unclipped clients is noised with stddev
    `clipped_count_stddev`. The privacy of that count is paid for by more
    noise on the values: their noise multiplier becomes
    `(noise_multiplier**-2 - (2 * clipped_count_stddev)**-2)**-0.5`, so that
    the two releases together cost as much as one with `noise_multiplier`.

    Args:
      noise_multiplier: The overall noise multiplier (>= 0).
      clients_per_round: The expected number of clients per round (> 0).
      initial_l2_norm_clip: The first clip (> 0).
      target_unclipped_quantile: The fraction of clients to leave unclipped.
      learning_rate: The learning rate of the geometric update.
      clipped_count_stddev: The stddev of the noise on the count; default
        `0.05 * clients_per_round` (0 when `noise_multiplier` is 0).
      noise_seed: An int for reproducible noise (values and count), or None.

    Raises:
      ParameterTypeError, ParameterValueError: for arguments out of range,
        including a `clipped_count_stddev` too small for `noise_multiplier`.
    """
    owner = 'gaussian_adaptive'
    noise_multiplier = _check_non_negative(noise_multiplier,
                                           'noise_multiplier', owner)
    clients_per_round = _check_positive(clients_per_round,
                                        'clients_per_round', owner)
    if clipped_count_stddev is None:
      clipped_count_stddev = (0.05 * clients_per_round
                              if noise_multiplier > 0 else 0.0)
    clipped_count_stddev = _check_non_negative(clipped_count_stddev,
                                               'clipped_count_stddev', owner)
    if noise_multiplier == 0:
      value_noise_multiplier = 0.0
    elif noise_multiplier >= 2 * clipped_count_stddev:
      raise errors.ParameterValueError(
          f'{owner} expects `clipped_count_stddev` ({clipped_count_stddev}) '
          f'to be more than half of `noise_multiplier` ({noise_multiplier}): '
          f'the count would use the whole privacy budget. Tip: leave it '
          f'None for 0.05 * clients_per_round, or raise it.')
    else:
      value_noise_multiplier = (noise_multiplier**-2 -
                                (2 * clipped_count_stddev)**-2)**-0.5
    clip_process = quantile_estimation.PrivateQuantileEstimationProcess(
        initial_estimate=initial_l2_norm_clip,
        target_quantile=target_unclipped_quantile,
        learning_rate=learning_rate,
        below_estimate_stddev=clipped_count_stddev,
        expected_num_records=clients_per_round,
        geometric_update=True,
        noise_seed=_check_seed(noise_seed, owner))
    return cls(value_noise_multiplier, clients_per_round, clip_process,
               noise_seed=noise_seed)

  @property
  def noise_multiplier(self) -> float:
    """The noise stddev on the sum of clipped values, in units of the clip."""
    return self._noise_multiplier

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns a process computing noised means of `value_type` values.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not made of
        floating-point tensors.
    """
    value_type = factory.check_value_type(
        value_type, f'{_OWNER}.create', factory.FLOAT,
        'the Gaussian mechanism adds real-valued noise; cast the values to '
        'float.')
    record_process = self._record_factory.create(value_type)
    adaptive = isinstance(self._clip, estimation_process.EstimationProcess)
    clip_process = self._clip if adaptive else None
    noise_multiplier = self._noise_multiplier
    clients_per_round = self._clients_per_round
    noise_seed = self._noise_seed
    constant_clip = self._clip

    @tensorflow_computation.tf_computation(value_type, np.float32)
    def clip_fn(value, clip):
      leaves = tensor_math.flatten(value)
      norm = tensor_math.global_norm(leaves, 2.0)
      factor = tf.where(norm > clip, clip / norm, 1.0)
      return tensor_math.pack(value_type, tensor_math.scale(leaves,
                                                            factor)), norm

    total_type = record_process.next.type_signature.result.result.member

    @tensorflow_computation.tf_computation(total_type, np.float32, _SEED_TYPE)
    def noise_fn(total, clip, seed):
      leaves, next_seed = tensor_math.gaussian_noise(
          tensor_math.flatten(total), noise_multiplier * clip, seed)
      mean = [leaf / tf.cast(clients_per_round, leaf.dtype) for leaf in leaves]
      return tensor_math.pack(value_type, mean), next_seed

    seed_fn = tensorflow_computation.tf_computation(
        lambda: tensor_math.initial_seed(noise_seed))
    if not adaptive:
      clip_constant_fn = tensorflow_computation.tf_computation(
          lambda: tf.constant(constant_clip, tf.float32))

    @federated_computation.federated_computation
    def initialize_fn():
      state = collections.OrderedDict(
          noise_seed=intrinsics.federated_eval(seed_fn, placements.SERVER))
      if adaptive:
        state['clip'] = clip_process.initialize()
      state['record_agg'] = record_process.initialize()
      return intrinsics.federated_zip(state)

    @federated_computation.federated_computation(
        initialize_fn.type_signature.result,
        computation_types.type_at_clients(value_type))
    def next_fn(state, value):
      if adaptive:
        clip = clip_process.report(state.clip)
      else:
        clip = intrinsics.federated_eval(clip_constant_fn, placements.SERVER)
      clipped = intrinsics.federated_map(
          clip_fn, (value, intrinsics.federated_broadcast(clip)))
      record_output = record_process.next(state.record_agg, clipped[0])
      noised = intrinsics.federated_map(
          noise_fn, (record_output.result, clip, state.noise_seed))
      new_state = collections.OrderedDict(noise_seed=noised[1])
      if adaptive:
        new_state['clip'] = clip_process.next(state.clip, clipped[1])
      new_state['record_agg'] = record_output.state
      return measured_process.MeasuredProcessOutput(
          state=intrinsics.federated_zip(new_state),
          result=noised[0],
          measurements=intrinsics.federated_zip(
              collections.OrderedDict(
                  dp_query_metrics=collections.OrderedDict(clip=clip),
                  dp=record_output.measurements)))

    return aggregation_process.AggregationProcess(initialize_fn, next_fn)
