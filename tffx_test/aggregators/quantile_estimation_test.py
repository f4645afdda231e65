import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import mean
from tffx.aggregators import quantile_estimation
from tffx.templates import estimation_process

QuantileProcess = quantile_estimation.PrivateQuantileEstimationProcess


def _run(process, rounds_of_values):
  state = process.initialize()
  for values in rounds_of_values:
    state = process.next(state, values)
  return state


class PrivateQuantileEstimationProcessTest(parameterized.TestCase):

  def test_type_signatures_take_client_norms_and_report_estimate(self):

    process = QuantileProcess(1.0, 0.5, 0.1)

    self.assertEqual(
        str(process.next.type_signature),
        '(<state=<current_estimate=float32,record_agg=<>>@SERVER,'
        'value={float32}@CLIENTS> -> '
        '<current_estimate=float32,record_agg=<>>@SERVER)')
    self.assertEqual(str(process.report.type_signature.result),
                     'float32@SERVER')

  @parameterized.named_parameters(
      # The fraction b of clients at or below 1 moves the estimate by
      # exp(-0.5 * (b - 0.5)).
      ('all_above', [3.0, 4.0, 5.0], math.exp(0.25)),
      ('all_below', [0.25, 1.0], math.exp(-0.25)),
      ('half_below', [0.5, 1.0, 1.5, 2.0], 1.0),
      ('no_client', [], 1.0),
  )
  def test_geometric_update_follows_fraction_below(self, values, expected):
    process = QuantileProcess(initial_estimate=1.0, target_quantile=0.5,
                              learning_rate=0.5)

    state = _run(process, [values])

    self.assertAlmostEqual(process.report(state), expected, places=6)

  def test_arithmetic_update_subtracts_scaled_error(self):
    process = QuantileProcess(initial_estimate=1.0, target_quantile=0.25,
                              learning_rate=0.1, geometric_update=False)

    state = _run(process, [[0.0, 0.5]])

    self.assertAlmostEqual(process.report(state), 1.0 - 0.1 * 0.75, places=6)

  def test_estimate_approaches_target_quantile_over_rounds(self):
    process = QuantileProcess(initial_estimate=1.0, target_quantile=0.5,
                              learning_rate=0.5)
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]

    state = _run(process, [values] * 12)

    # The median is 5; steps shrink to a factor exp(+-0.5/18) around it.
    self.assertBetween(process.report(state), 4.0, 6.0)

  def test_no_noise_maps_report_affinely(self):

    process = QuantileProcess.no_noise(2.0, 0.5, 0.5, multiplier=3.0,
                                       increment=1.0)
    state = _run(process, [[0.1, 0.2]])

    self.assertNotIsInstance(process, QuantileProcess)
    self.assertIsInstance(process, estimation_process.EstimationProcess)
    self.assertAlmostEqual(state['current_estimate'], 2.0 * math.exp(-0.25),
                           places=6)
    self.assertAlmostEqual(process.report(state),
                           3.0 * 2.0 * math.exp(-0.25) + 1.0, places=5)

  def test_no_noise_without_affine_map_is_quantile_process(self):

    process = QuantileProcess.no_noise(2.0, 0.5, 0.5)

    self.assertIsInstance(process, QuantileProcess)

  def test_secure_estimation_sums_securely_and_exactly(self):
    secure = QuantileProcess.no_noise(1.0, 0.5, 0.5, secure_estimation=True)
    plain = QuantileProcess.no_noise(1.0, 0.5, 0.5)
    rounds = [[3.0, 0.5, 4.0]] * 2

    secure_state = _run(secure, rounds)
    plain_state = _run(plain, rounds)

    self.assertIn('federated_secure_sum', str(secure.next))
    self.assertNotIn('federated_secure_sum', str(plain.next))
    self.assertAlmostEqual(secure.report(secure_state),
                           plain.report(plain_state), places=6)

  def test_noised_count_is_reproducible_from_seed(self):

    def estimates(seed):
      process = QuantileProcess(1.0, 0.5, 0.5, below_estimate_stddev=1.0,
                                expected_num_records=4, noise_seed=seed)
      state = _run(process, [[0.5, 2.0, 3.0, 4.0]] * 2)
      return process.report(state), state['noise_seed']

    first, second, other = estimates(7), estimates(7), estimates(8)

    self.assertEqual(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    self.assertNotEqual(first[0], other[0])

  def test_noised_update_moves_towards_clients_when_noise_is_small(self):
    process = QuantileProcess(1.0, 0.5, 0.5, below_estimate_stddev=1e-3,
                              expected_num_records=4, noise_seed=0)

    state = _run(process, [[5.0, 6.0, 7.0, 8.0]])

    # The noised fraction below is 0 up to 1e-3 / 4.
    self.assertAlmostEqual(process.report(state), math.exp(0.25), places=3)
    self.assertEqual(list(state), ['current_estimate', 'record_agg',
                                   'noise_seed'])

  @parameterized.named_parameters(
      ('quantile_above_one', dict(target_quantile=1.5),
       errors.ParameterValueError, r'`target_quantile` in \[0.0, 1.0\]; found 1.5'),
      ('zero_geometric_estimate', dict(initial_estimate=0.0),
       errors.ParameterValueError, '`initial_estimate` in \\(0.0'),
      ('negative_learning_rate', dict(learning_rate=-0.1),
       errors.ParameterValueError, '`learning_rate`'),
      ('string_learning_rate', dict(learning_rate='fast'),
       errors.ParameterTypeError, '`learning_rate` to be a number'),
      ('noise_without_expected_count', dict(below_estimate_stddev=1.0),
       errors.ParameterValueError, '`expected_num_records`'),
      ('weighted_record_factory',
       dict(record_aggregation_factory=mean.MeanFactory()),
       errors.FactoryTypeError, '`record_aggregation_factory`'),
      ('float_seed', dict(noise_seed=1.5), errors.ParameterTypeError,
       '`noise_seed`'),
  )
  def test_construction_refuses_bad_arguments(self, changes, error, message):
    kwargs = dict(initial_estimate=1.0, target_quantile=0.5, learning_rate=0.2)
    kwargs.update(changes)

    with self.assertRaisesRegex(error, message):
      QuantileProcess(**kwargs)

  def test_no_noise_refuses_non_positive_multiplier(self):

    with self.assertRaisesRegex(errors.ParameterValueError, '`multiplier`'):
      QuantileProcess.no_noise(1.0, 0.5, 0.2, multiplier=0.0)


if __name__ == '__main__':
  absltest.main()
