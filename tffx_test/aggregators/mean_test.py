import collections
import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import mean
from tffx.aggregators import quantile_estimation
from tffx.aggregators import robust
from tffx.aggregators import sum_factory
from tffx.types import computation_types as ct

_STRUCT = collections.OrderedDict(a=np.float32,
                                  b=ct.TensorType(np.float64, [2]))


class MeanFactoryTest(parameterized.TestCase):

  def test_create_gives_weighted_process_with_nested_state_and_measurements(
      self):

    process = mean.MeanFactory().create(_STRUCT, np.float32)

    self.assertTrue(process.is_weighted)
    state = '<value_sum_process=<>,weight_sum_process=<>>@SERVER'
    member = '<a=float32,b=float64[2]>'
    self.assertEqual(
        str(process.next.type_signature),
        f'(<state={state},value={{{member}}}@CLIENTS,'
        f'weight={{float32}}@CLIENTS> -> <state={state},result={member}@SERVER,'
        f'measurements=<mean_value=<>,mean_weight=<>>@SERVER>)')

  def test_next_computes_weighted_mean_of_structs(self):
    process = mean.MeanFactory().create(_STRUCT, np.float32)
    values = [
        collections.OrderedDict(a=1.0, b=[1.0, -2.0]),
        collections.OrderedDict(a=4.0, b=[5.0, 2.0]),
    ]

    output = process.next(process.initialize(), values, [3.0, 1.0])

    # a: (1*3 + 4*1) / 4; b: ([3, -6] + [5, 2]) / 4.
    self.assertEqual(output.result['a'], 1.75)
    np.testing.assert_array_equal(output.result['b'], [2.0, -1.0])
    self.assertEqual(output.state, collections.OrderedDict(
        value_sum_process=(), weight_sum_process=()))
    self.assertEqual(output.measurements, collections.OrderedDict(
        mean_value=(), mean_weight=()))

  def test_next_accepts_integer_weights(self):
    process = mean.MeanFactory().create(np.float32, np.int32)

    output = process.next(process.initialize(), [2.0, 8.0], [3, 1])

    self.assertEqual(output.result, 3.5)

  def test_next_of_zero_total_weight_is_nan_by_default(self):
    process = mean.MeanFactory().create(np.float32, np.float32)

    output = process.next(process.initialize(), [2.0, 8.0], [0.0, 0.0])

    self.assertTrue(math.isnan(output.result))

  def test_next_of_zero_total_weight_is_zero_with_no_nan_division(self):
    process = mean.MeanFactory(no_nan_division=True).create(
        _STRUCT, np.float32)
    values = [collections.OrderedDict(a=2.0, b=[1.0, 1.0])]

    output = process.next(process.initialize(), values, [0.0])

    self.assertEqual(output.result['a'], 0.0)
    np.testing.assert_array_equal(output.result['b'], [0.0, 0.0])

  def test_inner_sum_factories_nest_states_and_measurements(self):
    clipped_sum = robust.clipping_factory(
        quantile_estimation.PrivateQuantileEstimationProcess(
            initial_estimate=2.0, target_quantile=0.5, learning_rate=0.5),
        sum_factory.SumFactory())
    process = mean.MeanFactory(value_sum_factory=clipped_sum).create(
        np.float32, np.float32)

    output = process.next(process.initialize(), [10.0, 1.0], [1.0, 1.0])

    # The weighted value 10 is clipped to 2: (2 + 1) / 2.
    self.assertEqual(output.result, 1.5)
    self.assertEqual(output.measurements['mean_value'], collections.OrderedDict(
        clipping=(), clipping_norm=2.0, clipped_count=1))
    self.assertEqual(output.measurements['mean_weight'], ())
    # Half the norms (1 of 10 and 1) are at most 2: the estimate stays.
    clipping_state = output.state['value_sum_process']['clipping_norm']
    self.assertAlmostEqual(clipping_state['current_estimate'], 2.0, places=6)

  @parameterized.named_parameters(
      ('value_sum_weighted', dict(value_sum_factory=mean.MeanFactory()),
       'value_sum_factory', 'a weighted factory, MeanFactory'),
      ('weight_sum_weighted', dict(weight_sum_factory=mean.MeanFactory()),
       'weight_sum_factory', 'a weighted factory, MeanFactory'),
      ('not_a_factory', dict(value_sum_factory=sum),
       'value_sum_factory', 'builtin_function_or_method'),
  )
  def test_construction_refuses_wrong_sum_factory(self, kwargs, argument,
                                                  found):

    with self.assertRaisesRegex(errors.FactoryTypeError,
                                f'`{argument}`.*UnweightedAggregationFactory; '
                                f'found {found}'):
      mean.MeanFactory(**kwargs)

  def test_construction_refuses_non_bool_no_nan_division(self):

    with self.assertRaisesRegex(errors.ParameterTypeError, 'no_nan_division'):
      mean.MeanFactory(no_nan_division=1)

  @parameterized.named_parameters(
      ('int_value', np.int32, np.float32, 'floating-point.*found int32'),
      ('struct_with_int', [np.float32, np.int64], np.float32,
       'floating-point.*found <float32,int64>'),
      ('vector_weight', np.float32, ct.TensorType(np.float32, [2]),
       '`weight_type`.*scalar.*found float32\\[2\\]'),
      ('string_weight', np.float32, np.str_, '`weight_type`'),
  )
  def test_create_refuses_unsupported_types(self, value_type, weight_type,
                                            message):

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError, message):
      mean.MeanFactory().create(value_type, weight_type)


class UnweightedMeanFactoryTest(parameterized.TestCase):

  def test_create_gives_unweighted_process_with_count_measurements(self):

    process = mean.UnweightedMeanFactory().create(_STRUCT)

    self.assertFalse(process.is_weighted)
    # TFF's state: an unnamed pair (value sum state, count sum state).
    self.assertEqual(str(process.state_type), '<<>,<>>@SERVER')
    self.assertIs(process.state_type.member.python_container, tuple)
    self.assertEqual(str(process.next.type_signature.result.measurements),
                     '<mean_value=<>,mean_count=<>>@SERVER')

  def test_next_computes_mean_of_clients(self):
    process = mean.UnweightedMeanFactory().create(_STRUCT)
    values = [
        collections.OrderedDict(a=1.0, b=[1.0, 0.0]),
        collections.OrderedDict(a=2.0, b=[2.0, 0.0]),
        collections.OrderedDict(a=6.0, b=[-6.0, 3.0]),
    ]

    output = process.next(process.initialize(), values)

    self.assertEqual(output.result['a'], 3.0)
    np.testing.assert_array_equal(output.result['b'], [-1.0, 1.0])

  def test_next_of_no_client_is_nan(self):
    process = mean.UnweightedMeanFactory().create(np.float32)

    output = process.next(process.initialize(), [])

    self.assertTrue(math.isnan(output.result))

  @parameterized.named_parameters(
      ('value_sum', dict(value_sum_factory=mean.MeanFactory()),
       'value_sum_factory'),
      ('count_sum', dict(count_sum_factory=mean.MeanFactory()),
       'count_sum_factory'),
  )
  def test_construction_refuses_weighted_sum_factory(self, kwargs, argument):

    with self.assertRaisesRegex(errors.FactoryTypeError,
                                f'UnweightedMeanFactory expects `{argument}`'):
      mean.UnweightedMeanFactory(**kwargs)

  def test_create_refuses_integer_values(self):

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError,
                                'Tip: a mean of integers'):
      mean.UnweightedMeanFactory().create(ct.TensorType(np.int32, [2]))


if __name__ == '__main__':
  absltest.main()
