import collections
import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import quantile_estimation
from tffx.aggregators import secure
from tffx.types import computation_types as ct

_INT_VECTOR = ct.TensorType(np.int32, [2])
_FLOAT_STRUCT = collections.OrderedDict(a=np.float32,
                                        b=ct.TensorType(np.float32, [2]))


def _measurements(upper_count, lower_count, upper, lower):
  return collections.OrderedDict(
      secure_upper_clipped_count=upper_count,
      secure_lower_clipped_count=lower_count,
      secure_upper_threshold=upper,
      secure_lower_threshold=lower)


class SecureSumFactoryTest(parameterized.TestCase):

  def test_create_gives_secure_process_with_threshold_measurements(self):

    process = secure.SecureSumFactory(3).create(_INT_VECTOR)

    self.assertEqual(
        str(process.next.type_signature),
        '(<state=<>@SERVER,value={int32[2]}@CLIENTS> -> <state=<>@SERVER,'
        'result=int32[2]@SERVER,measurements=<secure_upper_clipped_count='
        'int32,secure_lower_clipped_count=int32,secure_upper_threshold=int32,'
        'secure_lower_threshold=int32>@SERVER>)')
    self.assertIn('federated_secure_sum', str(process.next))
    self.assertNotIn('federated_sum', str(process.next))

  def test_integer_sum_clips_to_symmetric_bounds_and_counts_clients(self):
    process = secure.SecureSumFactory(3).create(_INT_VECTOR)

    output = process.next(process.initialize(), [[1, 5], [-7, 2], [0, -3]])

    # Clipped: [1, 3], [-3, 2], [0, -3].
    np.testing.assert_array_equal(output.result, [-2, 2])
    self.assertEqual(output.measurements, _measurements(1, 1, 3, -3))

  def test_integer_sum_in_bounds_is_exact_with_explicit_lower_bound(self):
    process = secure.SecureSumFactory(
        upper_bound_threshold=2**40, lower_bound_threshold=2**30).create(
            np.int64)
    values = [2**40, 2**30, 2**35 + 1]

    output = process.next(process.initialize(), values)

    self.assertEqual(output.result, sum(values))
    self.assertEqual(output.measurements, _measurements(0, 0, 2**40, 2**30))

  def test_float_sum_is_exact_up_to_quantization_step(self):
    process = secure.SecureSumFactory(2.0, 0.0).create(_FLOAT_STRUCT)
    values = [
        collections.OrderedDict(a=1.5, b=[0.25, 3.0]),
        collections.OrderedDict(a=-1.0, b=[1.0, 1.0 / 3.0]),
    ]

    output = process.next(process.initialize(), values)

    # b[1] of the first client is clipped to 2, a of the second to 0.
    step = 2.0 / (2**32 - 1)
    self.assertAlmostEqual(output.result['a'], 1.5, delta=2 * step)
    np.testing.assert_allclose(output.result['b'], [1.25, 2.0 + 1.0 / 3.0],
                               atol=2 * step + 1e-7)
    self.assertEqual(output.measurements, _measurements(1, 1, 2.0, 0.0))

  def test_sum_of_no_client_is_zero(self):
    process = secure.SecureSumFactory(5.0).create(np.float32)

    output = process.next(process.initialize(), [])

    self.assertEqual(output.result, 0.0)

  def test_adaptive_upper_bound_follows_largest_absolute_values(self):
    bound = quantile_estimation.PrivateQuantileEstimationProcess(
        initial_estimate=1.0, target_quantile=0.5,
        learning_rate=math.log(2.0))
    process = secure.SecureSumFactory(bound).create(np.float32)
    state = process.initialize()

    first = process.next(state, [4.0, 3.0, -0.5])
    second = process.next(first.state, [4.0, 3.0, -0.5])

    # Round 1: bounds [-1, 1]. One client in three has its largest absolute
    # value at most 1, below the target 1/2: the bound grows by
    # exp(log(2) * (1/2 - 1/3)) = 2**(1/6) for round 2.
    grown = 2.0**(1.0 / 6.0)
    self.assertAlmostEqual(first.result, 1.0 + 1.0 - 0.5, places=5)
    self.assertEqual(first.measurements, _measurements(2, 0, 1.0, -1.0))
    self.assertAlmostEqual(second.result, 2 * grown - 0.5, places=5)
    self.assertAlmostEqual(second.measurements['secure_upper_threshold'],
                           grown, places=6)
    self.assertAlmostEqual(second.measurements['secure_lower_threshold'],
                           -grown, places=6)
    self.assertEqual(str(process.state_type), str(bound.state_type))

  @parameterized.named_parameters(
      ('zero_upper_alone', dict(upper_bound_threshold=0),
       errors.ParameterValueError, 'positive when it is the only bound'),
      ('lower_above_upper',
       dict(upper_bound_threshold=1.0, lower_bound_threshold=2.0),
       errors.ParameterValueError, r'\(1.0\) to be greater than'),
      ('mixed_kinds', dict(upper_bound_threshold=4, lower_bound_threshold=0.0),
       errors.ParameterTypeError, '`lower_bound_threshold` to be a int'),
      ('string', dict(upper_bound_threshold='max'), errors.ParameterTypeError,
       'found str'),
      ('integer_range_too_wide',
       dict(upper_bound_threshold=2**62, lower_bound_threshold=-1),
       errors.ParameterValueError, r'less than 2\*\*62 apart'),
      ('process_with_lower', dict(
          upper_bound_threshold=quantile_estimation
          .PrivateQuantileEstimationProcess(1.0, 0.5, 0.1),
          lower_bound_threshold=0.0),
       errors.ParameterTypeError, 'to be None when'),
  )
  def test_construction_refuses_bad_thresholds(self, kwargs, error, message):

    with self.assertRaisesRegex(error, message):
      secure.SecureSumFactory(**kwargs)

  @parameterized.named_parameters(
      ('int_bounds_float_values', 3, np.float32, 'integer tensor type'),
      ('float_bounds_int_values', 3.0, np.int32, 'floating-point tensor type'),
      ('mixed_dtypes', 3.0, [np.float32, np.float64], 'one dtype'),
      ('bounds_outside_dtype', 2**40, np.int32, 'fit the dtype'),
  )
  def test_create_refuses_values_of_other_kind_than_bounds(
      self, upper, value_type, message):

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError, message):
      secure.SecureSumFactory(upper).create(value_type)


if __name__ == '__main__':
  absltest.main()
