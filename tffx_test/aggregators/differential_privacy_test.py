"""Tests of the Gaussian mechanism.

The noise tests draw many coordinates in one call (a vector value of
`_SIZE` elements gets `_SIZE` independent draws), so that statistics are
tight without thousands of executor calls. With n draws of N(0, s^2), the
sample mean has stddev s / sqrt(n) and the sample stddev has stddev about
s / sqrt(2n); the tolerances are 5 of those stddevs, which a correct
mechanism misses with probability below 1e-6. The draws are seeded, so the
tests are deterministic.
"""

import collections
import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import differential_privacy
from tffx.aggregators import errors
from tffx.aggregators import mean
from tffx.aggregators import quantile_estimation
from tffx.types import computation_types as ct

DPFactory = differential_privacy.DifferentiallyPrivateFactory
_SIZE = 40_000
_VECTOR = ct.TensorType(np.float32, [_SIZE])


def _noise(noise_multiplier, clip, clients_per_round, seed, rounds=1):
  """The results of `rounds` rounds of zero values from two clients."""
  process = DPFactory.gaussian_fixed(noise_multiplier, clients_per_round,
                                     clip, noise_seed=seed).create(_VECTOR)
  zeros = [np.zeros(_SIZE, np.float32)] * 2
  state = process.initialize()
  results = []
  for _ in range(rounds):
    output = process.next(state, zeros)
    state = output.state
    results.append(np.asarray(output.result, np.float64))
  return results


class DifferentiallyPrivateFactoryTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('seed_0', 0),
      ('seed_1', 1),
      ('seed_12345', 12345),
  )
  def test_noise_has_mean_zero_and_stddev_of_mechanism(self, seed):
    noise_multiplier, clip, clients_per_round = 1.2, 0.5, 3
    stddev = noise_multiplier * clip / clients_per_round

    [noise] = _noise(noise_multiplier, clip, clients_per_round, seed)

    self.assertLess(abs(noise.mean()), 5 * stddev / math.sqrt(_SIZE))
    self.assertAlmostEqual(noise.std(), stddev,
                           delta=5 * stddev / math.sqrt(2 * _SIZE))

  def test_noise_is_reproducible_from_seed_and_new_each_round(self):

    first_run = _noise(1.0, 1.0, 2, seed=7, rounds=2)
    second_run = _noise(1.0, 1.0, 2, seed=7, rounds=2)
    [other_seed] = _noise(1.0, 1.0, 2, seed=8)

    np.testing.assert_array_equal(first_run[0], second_run[0])
    np.testing.assert_array_equal(first_run[1], second_run[1])
    # Independent draws: correlations are within 5 / sqrt(n) of 0.
    bound = 5 / math.sqrt(_SIZE)
    self.assertLess(abs(np.corrcoef(first_run[0], first_run[1])[0, 1]), bound)
    self.assertLess(abs(np.corrcoef(first_run[0], other_seed)[0, 1]), bound)

  def test_noise_seed_none_draws_a_seed_per_initialization(self):
    process = DPFactory.gaussian_fixed(1.0, 2, 1.0).create(np.float32)

    seeds = [process.initialize()['noise_seed'] for _ in range(2)]

    self.assertFalse(np.array_equal(seeds[0], seeds[1]))

  def test_leaves_of_a_struct_get_independent_noise(self):
    value_type = collections.OrderedDict(a=_VECTOR, b=_VECTOR)
    process = DPFactory.gaussian_fixed(1.0, 1, 1.0,
                                       noise_seed=3).create(value_type)
    zeros = np.zeros(_SIZE, np.float32)

    output = process.next(process.initialize(), [dict(a=zeros, b=zeros)])

    correlation = np.corrcoef(output.result['a'], output.result['b'])[0, 1]
    self.assertLess(abs(correlation), 5 / math.sqrt(_SIZE))
    self.assertAlmostEqual(np.std(output.result['a']), 1.0,
                           delta=5 / math.sqrt(2 * _SIZE))

  def test_without_noise_result_is_mean_of_clipped_values(self):
    process = DPFactory.gaussian_fixed(0.0, 2, 1.0).create(
        ct.TensorType(np.float32, [2]))

    output = process.next(process.initialize(), [[3.0, 4.0], [0.3, 0.4]])

    # [3, 4] has norm 5: clipped to [0.6, 0.8]; divided by 2 clients.
    np.testing.assert_allclose(output.result, [0.45, 0.6], rtol=1e-6)
    self.assertEqual(output.measurements, collections.OrderedDict(
        dp_query_metrics=collections.OrderedDict(clip=1.0), dp=()))

  def test_fixed_clip_state_and_measurement_types(self):

    process = DPFactory.gaussian_fixed(1.0, 10, 1.0).create(np.float32)

    self.assertEqual(str(process.state_type),
                     '<noise_seed=int64[2],record_agg=<>>@SERVER')
    self.assertEqual(str(process.next.type_signature.result.measurements),
                     '<dp_query_metrics=<clip=float32>,dp=<>>@SERVER')

  def test_adaptive_clip_spends_budget_on_count(self):

    factory = DPFactory.gaussian_adaptive(noise_multiplier=1.0,
                                          clients_per_round=100)

    # clipped_count_stddev defaults to 0.05 * 100 = 5.
    self.assertAlmostEqual(factory.noise_multiplier,
                           (1.0 - (2 * 5.0)**-2)**-0.5)
    self.assertEqual(
        str(factory.create(np.float32).state_type),
        '<noise_seed=int64[2],clip=<current_estimate=float32,record_agg=<>,'
        'noise_seed=int64[2]>,record_agg=<>>@SERVER')

  @parameterized.named_parameters(
      ('norms_above', 10.0, math.exp(0.2 * 0.5)),
      ('norms_below', 0.01, math.exp(-0.2 * 0.5)),
  )
  def test_adaptive_clip_moves_towards_client_norms(self, client_value,
                                                    factor):
    # Without noise, the geometric update is exact.
    process = DPFactory.gaussian_adaptive(
        noise_multiplier=0.0, clients_per_round=2, initial_l2_norm_clip=0.1,
        target_unclipped_quantile=0.5, learning_rate=0.2).create(np.float32)
    state = process.initialize()

    clips = []
    for _ in range(3):
      output = process.next(state, [client_value, -client_value])
      state = output.state
      clips.append(output.measurements['dp_query_metrics']['clip'])

    np.testing.assert_allclose(clips, [0.1, 0.1 * factor, 0.1 * factor**2],
                               rtol=1e-5)

  @parameterized.named_parameters(
      ('negative_noise', dict(noise_multiplier=-1.0),
       errors.ParameterValueError, '`noise_multiplier` to be a finite number'),
      ('zero_clients', dict(clients_per_round=0), errors.ParameterValueError,
       '`clients_per_round` to be positive'),
      ('string_clip', dict(clip='1.0'), errors.ParameterTypeError, '`clip`'),
      ('weighted_record_factory',
       dict(record_aggregation_factory=mean.MeanFactory()),
       errors.FactoryTypeError, '`record_aggregation_factory`'),
      ('float_seed', dict(noise_seed=0.5), errors.ParameterTypeError,
       '`noise_seed`'),
  )
  def test_construction_refuses_bad_arguments(self, changes, error, message):
    kwargs = dict(noise_multiplier=1.0, clients_per_round=10, clip=1.0)
    kwargs.update(changes)

    with self.assertRaisesRegex(error, message):
      DPFactory(**kwargs)

  def test_gaussian_fixed_refuses_estimation_process_clip(self):
    clip = quantile_estimation.PrivateQuantileEstimationProcess(1.0, 0.5, 0.2)

    with self.assertRaisesRegex(errors.ParameterTypeError,
                                'Tip: use gaussian_adaptive'):
      DPFactory.gaussian_fixed(1.0, 10, clip)

  def test_gaussian_adaptive_refuses_too_small_count_stddev(self):

    with self.assertRaisesRegex(errors.ParameterValueError,
                                '`clipped_count_stddev` \\(0.5\\)'):
      DPFactory.gaussian_adaptive(1.0, 10)

  def test_create_refuses_integer_values(self):

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError,
                                'DifferentiallyPrivateFactory.create'):
      DPFactory.gaussian_fixed(1.0, 10, 1.0).create(np.int32)


if __name__ == '__main__':
  absltest.main()
