from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.aggregators import differential_privacy
from tffx.aggregators import encoded
from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import mean
from tffx.backends import reference
from tffx.learning import model_update_aggregator
from tffx.testing import aggregation_assertions
from tffx.types import computation_types as ct

_VECTOR = ct.TensorType(np.float32, [2])
_MEAN_MEASUREMENTS = '<mean_value=<>,mean_weight=<>>'
_CLIPPING = '<clipping={},clipping_norm=float32,clipped_count=int32>'
_ZEROING = '<zeroing={},zeroing_norm=float32,zeroed_count=int32>'


def _create(aggregator):
  if isinstance(aggregator, factory.WeightedAggregationFactory):
    return aggregator.create(_VECTOR, ct.TensorType(np.float32))
  return aggregator.create(_VECTOR)


class RobustAggregatorTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('default', {}, _ZEROING.format(_CLIPPING.format(_MEAN_MEASUREMENTS))),
      ('no_zeroing', dict(zeroing=False),
       _CLIPPING.format(_MEAN_MEASUREMENTS)),
      ('no_clipping', dict(clipping=False),
       _ZEROING.format(_MEAN_MEASUREMENTS)),
      ('neither', dict(zeroing=False, clipping=False), _MEAN_MEASUREMENTS),
      ('unweighted', dict(weighted=False),
       _ZEROING.format(_CLIPPING.format('<mean_value=<>,mean_count=<>>'))),
  )
  def test_measurements_nest_the_enabled_factories(self, flags, measurements):
    aggregator = model_update_aggregator.robust_aggregator(**flags)

    process = _create(aggregator)

    self.assertEqual(process.is_weighted, flags.get('weighted', True))
    self.assertEqual(str(process.next.type_signature.result.measurements),
                     f'{measurements}@SERVER')

  def test_first_round_zeroes_huge_and_clips_large_updates(self):
    process = _create(model_update_aggregator.robust_aggregator())
    # Zeroing starts at 2 * 10 + 1 (largest absolute element), clipping at
    # an L2 norm of 1.
    updates = [[100.0, 0.0], [3.0, 4.0], [0.5, 0.0]]

    output = process.next(process.initialize(), updates, [1.0, 1.0, 2.0])

    # ([0, 0] * 1 + [0.6, 0.8] * 1 + [0.5, 0] * 2) / 4.
    np.testing.assert_allclose(output.result, [0.4, 0.2], rtol=1e-6)
    measurements = output.measurements
    self.assertEqual(measurements['zeroed_count'], 1)
    self.assertEqual(measurements['zeroing_norm'], 21.0)
    self.assertEqual(measurements['zeroing']['clipped_count'], 1)
    self.assertEqual(measurements['zeroing']['clipping_norm'], 1.0)

  def test_debug_measurements_fn_wraps_the_mean(self):
    seen = []

    def debug(given):
      seen.append(given)
      return given

    model_update_aggregator.robust_aggregator(weighted=False,
                                              debug_measurements_fn=debug)

    self.assertLen(seen, 1)
    self.assertIsInstance(seen[0], mean.UnweightedMeanFactory)

  def test_debug_measurements_fn_must_keep_the_kind_of_factory(self):

    with self.assertRaisesRegex(errors.FactoryTypeError,
                                '`debug_measurements_fn\\(...\\)`'):
      model_update_aggregator.robust_aggregator(
          debug_measurements_fn=lambda unused: mean.UnweightedMeanFactory())

  def test_refuses_non_bool_flags(self):

    with self.assertRaisesRegex(errors.ParameterTypeError, '`zeroing`'):
      model_update_aggregator.robust_aggregator(zeroing='yes')


class DpAggregatorTest(absltest.TestCase):

  def test_dp_aggregator_is_unweighted_zeroed_gaussian_adaptive(self):
    aggregator = model_update_aggregator.dp_aggregator(1.0, 100)

    process = aggregator.create(_VECTOR)

    self.assertIsInstance(aggregator, factory.UnweightedAggregationFactory)
    self.assertEqual(
        str(process.next.type_signature.result.measurements),
        '<zeroing=<dp_query_metrics=<clip=float32>,dp=<>>,'
        'zeroing_norm=float32,zeroed_count=int32>@SERVER')

  def test_dp_aggregator_without_zeroing_clips_at_initial_norm(self):
    aggregator = model_update_aggregator.dp_aggregator(0.0, 2, zeroing=False)
    process = aggregator.create(_VECTOR)

    output = process.next(process.initialize(), [[3.0, 4.0], [0.0, 0.05]])

    self.assertIsInstance(aggregator,
                          differential_privacy.DifferentiallyPrivateFactory)
    # Clipped to 0.1: ([0.06, 0.08] + [0, 0.05]) / 2 clients.
    np.testing.assert_allclose(output.result, [0.03, 0.065], rtol=1e-5)


class SecureAggregatorTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('weighted', True, [1.0, 3.0], 0.5 * 1.0 / 4 + 0.25 * 3.0 / 4),
      ('unweighted', False, None, (0.5 + 0.25) / 2),
  )
  def test_secure_aggregator_computes_mean_with_secure_sums(
      self, weighted, weights, expected):
    aggregator = model_update_aggregator.secure_aggregator(weighted=weighted)
    process = _create(aggregator)
    updates = [[0.5, -0.5], [0.25, -0.25]]

    if weighted:
      output = process.next(process.initialize(), updates, weights)
    else:
      output = process.next(process.initialize(), updates)

    np.testing.assert_allclose(output.result, [expected, -expected],
                               atol=1e-5)
    self.assertIn('federated_secure_sum', str(process.next))
    self.assertNotIn('federated_sum', str(process.next))
    inner = output.measurements['zeroing']['clipping']['mean_value']
    self.assertEqual(inner['secure_upper_threshold'], 100.0)
    self.assertEqual(list(inner), ['secure_upper_clipped_count',
                                   'secure_lower_clipped_count',
                                   'secure_upper_threshold',
                                   'secure_lower_threshold'])



class CompressionAggregatorTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('default', {}, _ZEROING.format(_CLIPPING.format(_MEAN_MEASUREMENTS))),
      ('neither', dict(zeroing=False, clipping=False), _MEAN_MEASUREMENTS),
      ('unweighted', dict(weighted=False),
       _ZEROING.format(_CLIPPING.format('<mean_value=<>,mean_count=<>>'))),
  )
  def test_measurements_nest_the_enabled_factories(self, flags, measurements):
    aggregator = model_update_aggregator.compression_aggregator(**flags)

    process = _create(aggregator)

    self.assertEqual(process.is_weighted, flags.get('weighted', True))
    self.assertEqual(str(process.next.type_signature.result.measurements),
                     f'{measurements}@SERVER')

  def test_mean_sums_with_quantization_above_threshold(self):
    seen = []

    def debug_fn(mean_factory):
      seen.append(mean_factory)
      return mean_factory

    model_update_aggregator.compression_aggregator(
        zeroing=False, clipping=False, debug_measurements_fn=debug_fn)

    [mean_factory] = seen
    value_sum = mean_factory._value_sum_factory  # pylint: disable=protected-access
    self.assertIsInstance(value_sum, encoded.EncodedSumFactory)
    encoder_fn = value_sum._encoder_fn  # pylint: disable=protected-access
    self.assertEqual(encoder_fn(tf.TensorSpec([20001], tf.float32)).bits, 8)
    self.assertIsNone(encoder_fn(tf.TensorSpec([20000], tf.float32)))

  def test_large_update_mean_is_close_to_exact_mean(self):
    process = model_update_aggregator.compression_aggregator(
        zeroing=False, clipping=False).create(
            ct.TensorType(np.float32, [20001]), ct.TensorType(np.float32))
    rng = np.random.default_rng(3)
    updates = [rng.uniform(-1, 1, size=20001).astype(np.float32)
               for _ in range(2)]

    output = process.next(process.initialize(), updates, [1.0, 3.0])

    exact = (updates[0] + 3 * updates[1]) / 4
    # Each weighted update spans at most 2 * weight; 255 levels.
    self.assertLessEqual(np.abs(output.result - exact).max(),
                         (2 * 1 + 2 * 3) / 255 / 4 * 1.001)
    self.assertGreater(np.abs(output.result - exact).max(), 0.0)

  def test_debug_measurements_fn_must_keep_the_kind_of_factory(self):

    with self.assertRaises(errors.FactoryTypeError):
      model_update_aggregator.compression_aggregator(
          debug_measurements_fn=lambda f: mean.UnweightedMeanFactory())

  def test_refuses_non_bool_flags(self):

    with self.assertRaises(errors.ParameterTypeError):
      model_update_aggregator.compression_aggregator(zeroing=1)


class DdpSecureAggregatorTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  @parameterized.named_parameters(('zeroing', True), ('no_zeroing', False))
  def test_is_unweighted_and_only_secure(self, zeroing):
    aggregator = model_update_aggregator.ddp_secure_aggregator(
        1.0, 10, zeroing=zeroing)

    process = _create(aggregator)

    self.assertIsInstance(aggregator, factory.UnweightedAggregationFactory)
    aggregation_assertions.assert_contains_secure_aggregation(process.next)
    aggregation_assertions.assert_not_contains_unsecure_aggregation(
        process.next)
    names = process.next.type_signature.result.measurements.member.names()
    self.assertEqual('zeroing' in names, zeroing)

  def test_without_noise_averages_small_updates(self):
    aggregator = model_update_aggregator.ddp_secure_aggregator(
        0.0, 2, zeroing=False)
    process = _create(aggregator)
    values = [np.array([0.01, -0.02], np.float32),
              np.array([0.03, 0.04], np.float32)]

    output = process.next(process.initialize(), values)

    np.testing.assert_allclose(output.result, [0.02, 0.01], atol=1e-4)

  def test_clips_large_updates_to_the_initial_norm(self):
    aggregator = model_update_aggregator.ddp_secure_aggregator(
        0.0, 1, zeroing=False, rotation_type='dft')
    process = _create(aggregator)

    output = process.next(process.initialize(),
                          [np.array([3.0, 4.0], np.float32)])

    np.testing.assert_allclose(output.result, [0.06, 0.08], atol=1e-4)

  @parameterized.named_parameters(
      ('bits', dict(bits=30), errors.ParameterValueError),
      ('rotation', dict(rotation_type='none'), errors.ParameterValueError),
      ('zeroing', dict(zeroing='yes'), errors.ParameterTypeError),
  )
  def test_raises_for_bad_arguments(self, override, error):

    with self.assertRaises(error):
      model_update_aggregator.ddp_secure_aggregator(1.0, 10, **override)


if __name__ == '__main__':
  absltest.main()
