import math

from absl.testing import absltest
import numpy as np

from tffx.aggregators import mean
from tffx.aggregators import sum_factory
from tffx.backends import reference
from tffx.learning import debug_measurements
from tffx.types import computation_types as ct

_VALUE_TYPE = ct.to_type(
    [ct.TensorType(np.float32, [3]), ct.TensorType(np.float32, [1])])
# TFF's documented example: the unweighted mean is [[-1, -3, -2], [1]].
_CLIENT_A = [np.array([-1.0, -3.0, -5.0], np.float32),
             np.array([2.0], np.float32)]
_CLIENT_B = [np.array([-1.0, -3.0, 1.0], np.float32),
             np.array([0.0], np.float32)]
_NORM_A, _NORM_B = math.sqrt(39.0), math.sqrt(11.0)
_DEBUG_NAMES = ['average_client_norm', 'std_dev_client_norm',
                'server_update_max', 'server_update_norm', 'server_update_min']


class AddDebugMeasurementsTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_unweighted_measures_client_norms_and_server_update(self):
    process = debug_measurements.add_debug_measurements(
        mean.UnweightedMeanFactory()).create(_VALUE_TYPE)

    output = process.next(process.initialize(), [_CLIENT_A, _CLIENT_B])

    np.testing.assert_allclose(output.result[0], [-1.0, -3.0, -2.0])
    measured = output.measurements
    self.assertEqual(list(measured)[-5:], _DEBUG_NAMES)
    self.assertAlmostEqual(measured['average_client_norm'],
                           (_NORM_A + _NORM_B) / 2, places=5)
    # The unbiased std dev of two values is |a - b| / sqrt(2).
    self.assertAlmostEqual(measured['std_dev_client_norm'],
                           abs(_NORM_A - _NORM_B) / math.sqrt(2), places=5)
    self.assertEqual(measured['server_update_max'], 1.0)
    self.assertEqual(measured['server_update_min'], -3.0)
    self.assertAlmostEqual(measured['server_update_norm'], math.sqrt(15.0),
                           places=5)

  def test_weighted_uses_the_aggregation_weights(self):
    factory = debug_measurements.add_debug_measurements(mean.MeanFactory())
    process = factory.create(_VALUE_TYPE, ct.TensorType(np.float32))

    output = process.next(process.initialize(), [_CLIENT_A, _CLIENT_B],
                          [1.0, 3.0])

    measured = output.measurements
    expected_mean = (_NORM_A + 3 * _NORM_B) / 4
    variance = (_NORM_A**2 + 3 * _NORM_B**2) / 4 - expected_mean**2
    correction = 16.0 / (16.0 - 10.0)  # a**2 / (a**2 - b), a=4, b=1+9.
    self.assertAlmostEqual(measured['average_client_norm'], expected_mean,
                           places=5)
    self.assertAlmostEqual(measured['std_dev_client_norm'],
                           math.sqrt(correction * variance), places=4)
    self.assertEqual(measured['server_update_max'], 0.5)  # (2 + 0) / 4

  def test_keeps_the_kind_of_factory_and_the_aggregation(self):
    plain = sum_factory.SumFactory().create(_VALUE_TYPE)
    debug = debug_measurements.add_debug_measurements(
        sum_factory.SumFactory()).create(_VALUE_TYPE)

    plain_result = plain.next(plain.initialize(), [_CLIENT_A]).result
    debug_result = debug.next(debug.initialize(), [_CLIENT_A]).result

    self.assertFalse(debug.is_weighted)
    for got, expected in zip(debug_result, plain_result):
      np.testing.assert_array_equal(got, expected)

  def test_single_client_has_zero_std_dev(self):
    process = debug_measurements.add_debug_measurements(
        mean.UnweightedMeanFactory()).create(_VALUE_TYPE)

    output = process.next(process.initialize(), [_CLIENT_A])

    self.assertEqual(output.measurements['std_dev_client_norm'], 0.0)
    self.assertAlmostEqual(output.measurements['average_client_norm'],
                           _NORM_A, places=5)

  def test_raises_for_a_non_factory(self):

    with self.assertRaises(TypeError):
      debug_measurements.add_debug_measurements(object())


if __name__ == '__main__':
  absltest.main()
