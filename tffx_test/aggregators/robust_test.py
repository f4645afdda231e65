import collections
import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import mean
from tffx.aggregators import quantile_estimation
from tffx.aggregators import robust
from tffx.aggregators import sum_factory
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.templates import estimation_process
from tffx.types import computation_types as ct
from tffx.types import placements

_VECTOR = ct.TensorType(np.float32, [2])
_STRUCT = collections.OrderedDict(a=np.float32, b=_VECTOR)


def _estimator(initial_estimate):
  return quantile_estimation.PrivateQuantileEstimationProcess(
      initial_estimate=initial_estimate, target_quantile=0.5,
      learning_rate=math.log(2.0))


def _int_estimation_process():
  """An estimation process of int32 values: not a norm process."""

  @federated_computation.federated_computation
  def initialize():
    return intrinsics.federated_value(0, placements.SERVER)

  @federated_computation.federated_computation(ct.type_at_server(np.int32),
                                               ct.type_at_clients(np.int32))
  def next_fn(state, value):
    del value
    return state

  report = federated_computation.federated_computation(
      lambda state: state, ct.type_at_server(np.int32))
  return estimation_process.EstimationProcess(initialize, next_fn, report)


class ClippingFactoryTest(parameterized.TestCase):

  def test_create_gives_nested_state_and_measurements(self):

    process = robust.clipping_factory(2.0,
                                      sum_factory.SumFactory()).create(_STRUCT)

    self.assertEqual(str(process.state_type),
                     '<clipping_norm=<>,inner_agg=<>,clipped_count_agg=<>>'
                     '@SERVER')
    self.assertEqual(
        str(process.next.type_signature.result.measurements),
        '<clipping=<>,clipping_norm=float32,clipped_count=int32>@SERVER')

  def test_next_clips_global_l2_norm_and_counts_clipped_clients(self):
    process = robust.clipping_factory(2.0,
                                      sum_factory.SumFactory()).create(_STRUCT)
    values = [
        # Norm 5 over both leaves: scaled by 2/5.
        collections.OrderedDict(a=3.0, b=[0.0, 4.0]),
        # Norm 1: unchanged.
        collections.OrderedDict(a=1.0, b=[0.0, 0.0]),
        # Norm 2, at the bound: unchanged.
        collections.OrderedDict(a=0.0, b=[2.0, 0.0]),
    ]

    output = process.next(process.initialize(), values)

    self.assertAlmostEqual(output.result['a'], 1.2 + 1.0, places=6)
    np.testing.assert_allclose(output.result['b'], [2.0, 1.6], rtol=1e-6)
    self.assertEqual(output.measurements, collections.OrderedDict(
        clipping=(), clipping_norm=2.0, clipped_count=1))

  def test_weighted_inner_gives_weighted_factory_with_unchanged_weights(self):
    clipping = robust.clipping_factory(1.0, mean.MeanFactory())

    process = clipping.create(np.float32, np.float32)
    output = process.next(process.initialize(), [4.0, -0.5], [1.0, 3.0])

    self.assertIsInstance(clipping, factory.WeightedAggregationFactory)
    self.assertTrue(process.is_weighted)
    # 4 is clipped to 1: (1 * 1 + -0.5 * 3) / 4.
    self.assertEqual(output.result, -0.125)
    self.assertEqual(output.measurements['clipping'], collections.OrderedDict(
        mean_value=(), mean_weight=()))

  @parameterized.named_parameters(
      ('norms_above', 10.0, 'up'),
      ('norms_below', 0.1, 'down'),
  )
  def test_adaptive_norm_moves_towards_client_norms(self, client_norm,
                                                    direction):
    process = robust.clipping_factory(_estimator(1.0),
                                      sum_factory.SumFactory()).create(_VECTOR)
    values = [[client_norm, 0.0], [0.0, client_norm]]
    state = process.initialize()

    norms = []
    for _ in range(3):
      output = process.next(state, values)
      state = output.state
      norms.append(output.measurements['clipping_norm'])

    # All clients on one side: each round moves the norm by a factor 2**0.5.
    factor = 2**0.5 if direction == 'up' else 2**-0.5
    np.testing.assert_allclose(norms, [1.0, factor, factor**2], rtol=1e-5)
    self.assertAlmostEqual(
        state['clipping_norm']['current_estimate'], factor**3, places=5)

  def test_create_passes_int32_counts_to_clipped_count_sum_factory(self):
    counting = robust.clipping_factory(
        1.0, sum_factory.SumFactory(),
        clipped_count_sum_factory=robust.clipping_factory(
            1.0, sum_factory.SumFactory()))

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError,
                                'floating-point.*found int32'):
      counting.create(np.float32)


class ZeroingFactoryTest(parameterized.TestCase):

  @parameterized.named_parameters(
      # Client [1, 1.5] has norms inf: 1.5, L1: 2.5, L2: 1.80; [0.5, 0.5]
      # stays below 1.7 in every order.
      ('inf_norm', math.inf, [1.5, 2.0], 0),
      ('l1_norm', 1.0, [0.5, 0.5], 1),
      ('l2_norm', 2.0, [0.5, 0.5], 1),
  )
  def test_next_zeroes_values_above_norm_of_order(self, norm_order, expected,
                                                  zeroed):
    process = robust.zeroing_factory(
        1.7, sum_factory.SumFactory(), norm_order=norm_order).create(_VECTOR)

    output = process.next(process.initialize(), [[1.0, 1.5], [0.5, 0.5]])

    np.testing.assert_array_equal(output.result, expected)
    self.assertEqual(output.measurements, collections.OrderedDict(
        zeroing=(), zeroing_norm=np.float32(1.7), zeroed_count=zeroed))

  def test_next_zeroes_values_that_are_not_finite(self):
    process = robust.zeroing_factory(100.0,
                                     sum_factory.SumFactory()).create(_VECTOR)

    output = process.next(process.initialize(),
                          [[np.nan, 1.0], [np.inf, 1.0], [2.0, 3.0]])

    np.testing.assert_array_equal(output.result, [2.0, 3.0])
    self.assertEqual(output.measurements['zeroed_count'], 2)

  def test_weighted_zeroing_keeps_weight_of_zeroed_value(self):
    process = robust.zeroing_factory(5.0, mean.MeanFactory()).create(
        np.float32, np.float32)

    output = process.next(process.initialize(), [10.0, 1.0], [1.0, 1.0])

    self.assertEqual(output.result, 0.5)
    self.assertEqual(str(process.state_type),
                     '<zeroing_norm=<>,inner_agg=<value_sum_process=<>,'
                     'weight_sum_process=<>>,zeroed_count_agg=<>>@SERVER')

  def test_nested_factories_nest_measurements_under_inner_names(self):
    nested = robust.clipping_factory(
        2.0, robust.zeroing_factory(_estimator(4.0), sum_factory.SumFactory()))
    process = nested.create(np.float32)

    output = process.next(process.initialize(), [-3.0, 1.0, 100.0])

    # Clipped to 2 (in norm), then none is above the zeroing norm 4.
    self.assertEqual(output.result, -2.0 + 1.0 + 2.0)
    self.assertEqual(output.measurements, collections.OrderedDict(
        clipping=collections.OrderedDict(
            zeroing=(), zeroing_norm=4.0, zeroed_count=0),
        clipping_norm=2.0,
        clipped_count=2))
    zeroing_state = output.state['inner_agg']['zeroing_norm']
    self.assertEqual(list(zeroing_state), ['current_estimate', 'record_agg'])
    # All clipped norms (2, 1, 2) are at most 4: the estimate shrinks.
    self.assertLess(zeroing_state['current_estimate'], 4.0)


class NormFactoryErrorsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('clipping', robust.clipping_factory, 'clipping_norm'),
      ('zeroing', robust.zeroing_factory, 'zeroing_norm'),
  )
  def test_construction_refuses_norm_that_is_not_positive(self, build, name):

    with self.assertRaisesRegex(errors.ParameterValueError,
                                f'`{name}` to be positive; found -1.0'):
      build(-1.0, sum_factory.SumFactory())

  @parameterized.named_parameters(
      ('string', 'big', 'str'),
      ('bool', True, 'bool'),
      ('int_process', _int_estimation_process(), 'next: '),
  )
  def test_construction_refuses_norm_of_wrong_type(self, norm, found):

    with self.assertRaisesRegex(errors.ParameterTypeError,
                                f'clipping_factory expects.*found {found}'):
      robust.clipping_factory(norm, sum_factory.SumFactory())

  def test_construction_refuses_inner_that_is_not_a_factory(self):

    with self.assertRaisesRegex(errors.FactoryTypeError,
                                '`inner_agg_factory`.*found str'):
      robust.zeroing_factory(1.0, 'sum')

  def test_construction_refuses_weighted_count_sum_factory(self):

    with self.assertRaisesRegex(errors.FactoryTypeError,
                                '`zeroed_count_sum_factory`.*a weighted'):
      robust.zeroing_factory(1.0, sum_factory.SumFactory(),
                             zeroed_count_sum_factory=mean.MeanFactory())

  def test_construction_refuses_norm_order_below_one(self):

    with self.assertRaisesRegex(errors.ParameterValueError, 'norm_order'):
      robust.zeroing_factory(1.0, sum_factory.SumFactory(), norm_order=0.5)

  def test_create_refuses_integer_values(self):
    clipping = robust.clipping_factory(1.0, sum_factory.SumFactory())

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError,
                                r'clipping_factory\(...\).create expects'):
      clipping.create(np.int32)


if __name__ == '__main__':
  absltest.main()
