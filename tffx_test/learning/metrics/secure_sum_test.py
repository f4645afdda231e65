import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import federated_computation
from tffx.learning.metrics import aggregator
from tffx.learning.metrics import errors
from tffx.learning.metrics import secure_sum
from tffx.templates import aggregation_process
from tffx.templates import estimation_process
from tffx.testing import aggregation_assertions
from tffx.types import computation_types as ct
from tffx.types import placements

# A mean (total, count), a count of examples and a vector of sums.
_UNFINALIZED_TYPE = ct.to_type(
    collections.OrderedDict(mean_loss=(np.float32, np.float32),
                            num_examples=np.int64,
                            hits=ct.TensorType(np.float32, [2])))
_FINALIZERS = collections.OrderedDict(
    mean_loss=lambda total_and_count: total_and_count[0] / total_and_count[1],
    num_examples=lambda count: count,
    hits=lambda hits: hits)
_CLIENT_METRICS = [
    collections.OrderedDict(mean_loss=(1.0, 1.0), num_examples=1,
                            hits=np.array([1.0, 2.0], np.float32)),
    collections.OrderedDict(mean_loss=(9.0, 3.0), num_examples=3,
                            hits=np.array([0.5, 4.0], np.float32)),
]
_INT_KEY = '0/1048575/int64'
_FLOAT_KEY = '0.0/1048575.0/float32'


def _finalize_all(unfinalized):
  total, count = unfinalized['mean_loss']
  return collections.OrderedDict(mean_loss=total / count,
                                 num_examples=unfinalized['num_examples'],
                                 hits=unfinalized['hits'])


class SecureSumThenFinalizeTest(parameterized.TestCase):

  @parameterized.named_parameters(('mapping', _FINALIZERS),
                                  ('one_function', _finalize_all))
  def test_matches_sum_then_finalize_within_the_ranges(self, finalizers):
    secure = secure_sum.secure_sum_then_finalize(finalizers,
                                                 _UNFINALIZED_TYPE)
    plain = aggregator.sum_then_finalize(finalizers, _UNFINALIZED_TYPE)

    secure_result = secure(_CLIENT_METRICS)
    plain_result = plain(_CLIENT_METRICS)

    self.assertEqual(list(secure_result),
                     ['secure_sum_measurements', 'mean_loss', 'num_examples',
                      'hits'])
    self.assertEqual(secure_result['num_examples'], 4)
    self.assertAlmostEqual(secure_result['mean_loss'],
                           plain_result['mean_loss'], places=3)
    np.testing.assert_allclose(secure_result['hits'], plain_result['hits'],
                               atol=1e-3)

  def test_without_type_is_polymorphic_in_the_argument(self):
    aggregate = secure_sum.secure_sum_then_finalize(_FINALIZERS)

    @federated_computation.federated_computation(
        ct.FederatedType(_UNFINALIZED_TYPE, placements.CLIENTS))
    def run(unfinalized_metrics):
      return aggregate(unfinalized_metrics)

    result = run(_CLIENT_METRICS)

    self.assertEqual(result['num_examples'], 4)
    np.testing.assert_allclose(result['hits'], [1.5, 6.0], atol=1e-3)
    aggregation_assertions.assert_contains_secure_aggregation(run)

  def test_contains_secure_and_no_unsecure_aggregation(self):

    computation = secure_sum.secure_sum_then_finalize(_FINALIZERS,
                                                      _UNFINALIZED_TYPE)

    aggregation_assertions.assert_contains_secure_aggregation(computation)
    aggregation_assertions.assert_not_contains_unsecure_aggregation(
        computation)

  def test_clips_values_outside_the_ranges_and_counts_them(self):
    ranges = collections.OrderedDict(hits=(0.0, 3.0), num_examples=(0, 2))
    computation = secure_sum.secure_sum_then_finalize(
        _FINALIZERS, _UNFINALIZED_TYPE, ranges)

    result = computation(_CLIENT_METRICS)

    np.testing.assert_allclose(result['hits'], [1.5, 5.0], atol=1e-3)
    self.assertEqual(result['num_examples'], 3)  # 1 + min(3, 2)
    measurements = result['secure_sum_measurements']
    self.assertEqual(list(measurements),
                     [_FLOAT_KEY, '0/2/int64', '0.0/3.0/float32'])
    self.assertEqual(measurements['0/2/int64']['secure_upper_clipped_count'],
                     1)
    self.assertEqual(
        measurements['0.0/3.0/float32']['secure_upper_clipped_count'], 1)
    self.assertEqual(measurements[_FLOAT_KEY]['secure_upper_clipped_count'],
                     0)

  def test_negative_values_clip_to_the_default_lower_bound(self):
    values = [collections.OrderedDict(mean_loss=(-4.0, 1.0), num_examples=1,
                                      hits=np.array([1.0, 1.0], np.float32))]
    computation = secure_sum.secure_sum_then_finalize(_FINALIZERS,
                                                      _UNFINALIZED_TYPE)

    result = computation(values)

    self.assertAlmostEqual(result['mean_loss'], 0.0, places=3)
    self.assertEqual(
        result['secure_sum_measurements'][_FLOAT_KEY]
        ['secure_lower_clipped_count'], 1)

  def test_partial_ranges_in_a_list(self):
    ranges = collections.OrderedDict(mean_loss=[None, (0.0, 2.0)])
    computation = secure_sum.secure_sum_then_finalize(
        _FINALIZERS, _UNFINALIZED_TYPE, ranges)

    result = computation(_CLIENT_METRICS)

    # Counts 1 and 3 clip to 1 and 2: (1 + 9) / (1 + 2).
    self.assertAlmostEqual(result['mean_loss'], 10.0 / 3.0, places=3)

  @parameterized.named_parameters(
      ('not_a_tuple', collections.OrderedDict(hits=[0.0, 1.0]), TypeError),
      ('mixed_kinds', collections.OrderedDict(hits=(0, 1.0)), TypeError),
      ('three_values', collections.OrderedDict(hits=(0.0, 1.0, 2.0)),
       ValueError),
      ('not_a_mapping', [(0.0, 1.0)], TypeError),
  )
  def test_raises_for_malformed_ranges(self, ranges, error):

    with self.assertRaises(error):
      secure_sum.secure_sum_then_finalize(_FINALIZERS, _UNFINALIZED_TYPE,
                                          ranges)

  def test_raises_for_mismatched_finalizer_names(self):

    with self.assertRaises(errors.MismatchedMetricNamesError):
      secure_sum.secure_sum_then_finalize(
          collections.OrderedDict(mean_loss=lambda x: x), _UNFINALIZED_TYPE)


class SecureSumFactoryTest(absltest.TestCase):

  def test_groups_tensors_by_range_and_dtype(self):

    process = secure_sum.SecureSumFactory().create(_UNFINALIZED_TYPE)

    self.assertIsInstance(process, aggregation_process.AggregationProcess)
    measurements = process.next.type_signature.result.measurements.member
    self.assertEqual(measurements.names(),
                     ['None/default_estimation_process/float32', _INT_KEY])
    self.assertTrue(process.next.type_signature.result.result.member
                    .is_equivalent_to(_UNFINALIZED_TYPE))
    aggregation_assertions.assert_contains_secure_aggregation(process.next)
    aggregation_assertions.assert_not_contains_unsecure_aggregation(
        process.next)

  def test_sums_with_fixed_ranges_and_keeps_state_empty(self):
    ranges = collections.OrderedDict(mean_loss=((0.0, 100.0), (0.0, 100.0)),
                                     hits=(0.0, 100.0))
    process = secure_sum.SecureSumFactory(ranges).create(_UNFINALIZED_TYPE)

    output = process.next(process.initialize(), _CLIENT_METRICS)

    self.assertAlmostEqual(output.result['mean_loss'][0], 10.0, places=3)
    self.assertAlmostEqual(output.result['mean_loss'][1], 4.0, places=3)
    self.assertEqual(output.result['num_examples'], 4)
    np.testing.assert_allclose(output.result['hits'], [1.5, 6.0], atol=1e-3)
    self.assertEqual(list(output.state), ['0.0/100.0/float32', _INT_KEY])

  def test_float_bound_adapts_over_rounds(self):
    process = secure_sum.SecureSumFactory().create(_UNFINALIZED_TYPE)
    key = 'None/default_estimation_process/float32'
    state = process.initialize()

    thresholds = []
    for _ in range(2):
      output = process.next(state, _CLIENT_METRICS)
      state = output.state
      thresholds.append(output.measurements[key]['secure_upper_threshold'])

    self.assertAlmostEqual(thresholds[0], 100.0)  # 2 * initial 50.
    self.assertLess(thresholds[1], thresholds[0])  # All values are below.

  def test_raises_for_ranges_not_a_mapping(self):

    with self.assertRaises(TypeError):
      secure_sum.SecureSumFactory([(0.0, 1.0)])


class DefaultRangesTest(absltest.TestCase):

  def test_auto_tuned_floats_and_integer_ranges(self):

    ranges = secure_sum.create_default_secure_sum_quantization_ranges(
        _UNFINALIZED_TYPE)

    self.assertEqual(ranges['num_examples'], (0, 2**20 - 1))
    lower, upper = ranges['hits']
    self.assertIsNone(lower)
    self.assertIsInstance(upper, estimation_process.EstimationProcess)

  def test_fixed_bounds_round_inwards_for_integers(self):

    ranges = secure_sum.create_default_secure_sum_quantization_ranges(
        _UNFINALIZED_TYPE, lower_bound=-1.5, upper_bound=10.5,
        use_auto_tuned_bounds_for_float_values=False)

    self.assertEqual(ranges['num_examples'], (-1, 10))
    self.assertEqual(ranges['mean_loss'][0], (-1.5, 10.5))
    self.assertEqual(ranges['hits'], (-1.5, 10.5))

  def test_raises_for_bounds_in_wrong_order(self):

    with self.assertRaisesRegex(ValueError, 'greater than'):
      secure_sum.create_default_secure_sum_quantization_ranges(
          _UNFINALIZED_TYPE, lower_bound=2, upper_bound=1)

  def test_raises_for_integers_without_an_integer_in_range(self):

    with self.assertRaisesRegex(ValueError, 'not wide enough'):
      secure_sum.create_default_secure_sum_quantization_ranges(
          _UNFINALIZED_TYPE, lower_bound=0.2, upper_bound=0.8)

  def test_raises_for_non_numeric_dtype(self):

    with self.assertRaises(errors.UnquantizableDTypeError):
      secure_sum.create_default_secure_sum_quantization_ranges(
          ct.to_type(collections.OrderedDict(flag=np.bool_)))

  def test_raises_for_non_number_bound(self):

    with self.assertRaises(TypeError):
      secure_sum.create_default_secure_sum_quantization_ranges(
          _UNFINALIZED_TYPE, upper_bound='10')


if __name__ == '__main__':
  absltest.main()
