"""`PrivateQuantileEstimationProcess`: tracks a quantile of client values.

An `EstimationProcess` for adaptive norms (clipping, zeroing, secure
bounds), after Andrew et al., "Differentially Private Learning with
Adaptive Clipping" (2021). Each round every client reports whether its
value (e.g. its update's norm) is at most the current estimate; with `b`
the fraction of clients that did and `q` the target quantile, the estimate
moves against the error `b - q`:

    geometric:   estimate <- estimate * exp(-learning_rate * (b - q))
    arithmetic:  estimate <- estimate - learning_rate * (b - q)

so it grows while fewer than `q` of the clients are below it, and shrinks
otherwise. With `below_estimate_stddev > 0` the count is made
differentially private: Gaussian noise (seeded, stateless) is added to
`sum(below - 1/2)`, which is divided by `expected_num_records`.

    initialize: ( -> <current_estimate=float32, record_agg=R,
                      [noise_seed=int64[2]]>@SERVER)
    next:       (<S@SERVER, {float32}@CLIENTS> -> S@SERVER)
    report:     (S@SERVER -> float32@SERVER)

Unlike TFF, which takes a `tensorflow_privacy` query, the constructor takes
the query's parameters. This module does not use the estimate: the
factories of `robust`, `differential_privacy` and `secure` do.
"""

import collections
import math
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import secure
from tffx.aggregators import sum_factory
from tffx.aggregators import tensor_math
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import estimation_process
from tffx.types import computation_types
from tffx.types import placements

_F32 = computation_types.TensorType(np.float32)
# The noise of the quantile estimate uses this stream of `noise_seed`, so
# that it differs from a factory's value noise drawn with the same seed.
_NOISE_STREAM = 1


def _check_number(value: Any, name: str, low: float, high: float,
                  low_open: bool = False) -> float:
  owner = 'PrivateQuantileEstimationProcess'
  if not factory.is_number(value):
    raise errors.ParameterTypeError(
        f'{owner} expects `{name}` to be a number; found '
        f'{type(value).__name__}: {value!r}.')
  above_low = value > low if low_open else value >= low
  if not (above_low and value <= high):
    interval = f'{"(" if low_open else "["}{low}, {high}]'
    raise errors.ParameterValueError(
        f'{owner} expects `{name}` in {interval}; found {value!r}.')
  return float(value)


class PrivateQuantileEstimationProcess(estimation_process.EstimationProcess):
  """An `EstimationProcess` estimating a quantile of client values.

  Type signatures (see the module docstring for the update):

      initialize: ( -> S@SERVER)
      next:       (<S@SERVER, {float32}@CLIENTS> -> S@SERVER)
      report:     (S@SERVER -> float32@SERVER)

  `S` is `<current_estimate=float32, record_agg=R>`, plus
  `noise_seed=int64[2]` when the count is noised; `R` is the state of the
  `record_aggregation_factory` summing `<below=float32, count=float32>`.
  """

  def __init__(self,
               initial_estimate: float,
               target_quantile: float,
               learning_rate: float,
               below_estimate_stddev: float = 0.0,
               expected_num_records: Optional[float] = None,
               geometric_update: bool = True,
               record_aggregation_factory: Optional[
                   factory.UnweightedAggregationFactory] = None,
               noise_seed: Optional[int] = None):
    """Creates a `PrivateQuantileEstimationProcess`.

    Args:
      initial_estimate: The first estimate; positive for geometric updates.
      target_quantile: The quantile to track, in [0, 1]: 0.8 looks for a
        value that 80% of the clients are at or below.
      learning_rate: How fast the estimate moves (>= 0); a geometric update
        changes it by a factor of at most `exp(learning_rate)` per round.
      below_estimate_stddev: The stddev of the Gaussian noise added to the
        count of clients below the estimate (0: no noise, exact fraction).
      expected_num_records: The expected number of clients per round,
        dividing the noised count; required when it is noised.
      geometric_update: Whether to update geometrically (for positive
        values such as norms) or arithmetically.
      record_aggregation_factory: Sums the clients' `<below, count>`
        records; default `SumFactory()`. `SecureSumFactory(1.0, 0.0)` hides
        each client's record.
      noise_seed: An int making the noise reproducible; None draws a seed
        when the process is initialized.

    Raises:
      ParameterTypeError: if an argument has the wrong type.
      ParameterValueError: if an argument is out of its range.
      FactoryTypeError: if `record_aggregation_factory` is not an
        `UnweightedAggregationFactory`.
    """
    owner = 'PrivateQuantileEstimationProcess'
    initial_estimate = _check_number(initial_estimate, 'initial_estimate',
                                     0.0 if geometric_update else -math.inf,
                                     math.inf, low_open=geometric_update)
    target_quantile = _check_number(target_quantile, 'target_quantile', 0.0,
                                    1.0)
    learning_rate = _check_number(learning_rate, 'learning_rate', 0.0,
                                  math.inf)
    below_estimate_stddev = _check_number(below_estimate_stddev,
                                          'below_estimate_stddev', 0.0,
                                          math.inf)
    noised = below_estimate_stddev > 0
    if noised:
      if expected_num_records is None:
        raise errors.ParameterValueError(
            f'{owner} expects `expected_num_records` when '
            f'`below_estimate_stddev` > 0: the noised count is divided by it.')
      expected_num_records = _check_number(expected_num_records,
                                           'expected_num_records', 0.0,
                                           math.inf, low_open=True)
    if noise_seed is not None and not isinstance(noise_seed, (int, np.integer)):
      raise errors.ParameterTypeError(
          f'{owner} expects `noise_seed` to be an int or None; found '
          f'{type(noise_seed).__name__}: {noise_seed!r}.')
    if record_aggregation_factory is None:
      record_aggregation_factory = sum_factory.SumFactory()
    factory.check_factory(record_aggregation_factory,
                          factory.UnweightedAggregationFactory,
                          'record_aggregation_factory', owner)

    record_type = computation_types.StructWithPythonType(
        [('below', _F32), ('count', _F32)], collections.OrderedDict)
    record_process = record_aggregation_factory.create(record_type)

    @tensorflow_computation.tf_computation
    def initial_estimate_fn():
      return tf.constant(initial_estimate, tf.float32)

    @federated_computation.federated_computation
    def initialize_fn():
      state = collections.OrderedDict(
          current_estimate=intrinsics.federated_eval(initial_estimate_fn,
                                                     placements.SERVER),
          record_agg=record_process.initialize())
      if noised:
        state['noise_seed'] = intrinsics.federated_eval(
            tensorflow_computation.tf_computation(
                lambda: tensor_math.initial_seed(noise_seed, _NOISE_STREAM)),
            placements.SERVER)
      return intrinsics.federated_zip(state)

    @tensorflow_computation.tf_computation(np.float32, np.float32)
    def record_fn(value, estimate):
      return collections.OrderedDict(
          below=tf.cast(value <= estimate, tf.float32),
          count=tf.constant(1.0, tf.float32))

    def update(estimate, below_fraction):
      error = below_fraction - target_quantile
      if geometric_update:
        return estimate * tf.exp(-learning_rate * error)
      return estimate - learning_rate * error

    sums_type = record_process.next.type_signature.result.result.member

    def exact_update(estimate, sums):
      # Secure sums are quantized: the counts are whole numbers.
      below, count = tf.round(sums['below']), tf.round(sums['count'])
      # With no client there is nothing to learn from: keep the estimate.
      fraction = tf.where(count > 0, below / tf.maximum(count, 1.0),
                          target_quantile)
      return update(estimate, fraction)

    def noised_update(estimate, sums, seed):
      below, count = tf.round(sums['below']), tf.round(sums['count'])
      # Each record counts below - 1/2, in [-1/2, 1/2]: the sum's
      # sensitivity is 1/2, and the expected count stands for the private
      # count of clients.
      [centered], next_seed = tensor_math.gaussian_noise(
          [below - 0.5 * count], below_estimate_stddev, seed)
      fraction = tf.clip_by_value(centered / expected_num_records + 0.5, 0.0,
                                  1.0)
      return update(estimate, fraction), next_seed

    if noised:
      update_fn = tensorflow_computation.tf_computation(
          noised_update, _F32, sums_type,
          computation_types.TensorType(np.int64, [2]))
    else:
      update_fn = tensorflow_computation.tf_computation(
          exact_update, _F32, sums_type)

    @federated_computation.federated_computation(
        initialize_fn.type_signature.result,
        computation_types.type_at_clients(np.float32))
    def next_fn(state, value):
      records = intrinsics.federated_map(
          record_fn,
          (value, intrinsics.federated_broadcast(state.current_estimate)))
      sums = record_process.next(state.record_agg, records)
      new_state = collections.OrderedDict()
      if noised:
        updated = intrinsics.federated_map(
            update_fn, (state.current_estimate, sums.result, state.noise_seed))
        new_state['current_estimate'] = updated[0]
        new_state['record_agg'] = sums.state
        new_state['noise_seed'] = updated[1]
      else:
        new_state['current_estimate'] = intrinsics.federated_map(
            update_fn, (state.current_estimate, sums.result))
        new_state['record_agg'] = sums.state
      return intrinsics.federated_zip(new_state)

    @federated_computation.federated_computation(
        initialize_fn.type_signature.result)
    def report_fn(state):
      return state.current_estimate

    super().__init__(initialize_fn, next_fn, report_fn, next_is_multi_arg=True)

  @classmethod
  def no_noise(cls,
               initial_estimate: float,
               target_quantile: float,
               learning_rate: float,
               multiplier: float = 1.0,
               increment: float = 0.0,
               secure_estimation: bool = False
              ) -> estimation_process.EstimationProcess:
    """A geometric estimator without noise, reporting an affine estimate.

    `report` gives `multiplier * estimate + increment`: e.g. a zeroing norm
    of twice the 98th percentile plus one.

    Args:
      initial_estimate: The first estimate (positive).
      target_quantile: The quantile to track, in [0, 1].
      learning_rate: How fast the estimate moves (>= 0).
      multiplier: Multiplies the estimate in `report` (positive).
      increment: Is added to the estimate in `report` (>= 0).
      secure_estimation: Whether the clients' records are summed with
        `SecureSumFactory`, hiding each one.

    Returns:
      An `EstimationProcess` (a `PrivateQuantileEstimationProcess` when the
      report is the estimate itself).

    Raises:
      ParameterTypeError, ParameterValueError: for arguments out of range.
    """
    multiplier = _check_number(multiplier, 'multiplier', 0.0, math.inf,
                               low_open=True)
    increment = _check_number(increment, 'increment', 0.0, math.inf)
    record_factory = (secure.SecureSumFactory(1.0, 0.0)
                      if secure_estimation else None)
    process = cls(initial_estimate, target_quantile, learning_rate,
                  record_aggregation_factory=record_factory)
    if multiplier == 1.0 and increment == 0.0:
      return process

    affine = tensorflow_computation.tf_computation(
        lambda estimate: estimate * multiplier + increment, np.float32)

    @federated_computation.federated_computation(
        computation_types.type_at_server(np.float32))
    def affine_fn(estimate):
      return intrinsics.federated_map(affine, estimate)

    return process.map(affine_fn)
