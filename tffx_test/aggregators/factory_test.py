import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import mean
from tffx.aggregators import quantile_estimation
from tffx.aggregators import sum_factory
from tffx.templates import aggregation_process
from tffx.types import computation_types as ct


class DelegatingSumFactory(factory.UnweightedAggregationFactory):
  """A user-written factory, creating the processes of `SumFactory`."""

  def create(self, value_type):
    return sum_factory.SumFactory().create(value_type)


class FactoryBaseClassesTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('unweighted', factory.UnweightedAggregationFactory),
      ('weighted', factory.WeightedAggregationFactory),
  )
  def test_base_classes_are_abstract(self, base_class):

    with self.assertRaisesRegex(TypeError, 'abstract'):
      base_class()

  def test_user_factory_fits_an_unweighted_slot(self):
    mean_factory = mean.MeanFactory(value_sum_factory=DelegatingSumFactory())

    process = mean_factory.create(np.float32, np.float32)
    output = process.next(process.initialize(), [1.0, 3.0], [1.0, 1.0])

    self.assertIsInstance(process, aggregation_process.AggregationProcess)
    self.assertEqual(output.result, 2.0)

  @parameterized.named_parameters(
      ('weighted', mean.MeanFactory(), True),
      ('unweighted', sum_factory.SumFactory(), False),
  )
  def test_create_process_passes_weight_only_to_weighted_factory(
      self, given, weighted):

    process = factory.create_process(given, ct.TensorType(np.float32),
                                     ct.TensorType(np.float32))

    self.assertEqual(process.is_weighted, weighted)


class CheckTypesTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('numeric_scalar', np.int64, factory.NUMERIC, 'int64'),
      ('float_struct', [np.float16, (np.float64, [2])], factory.FLOAT,
       '<float16,float64[2]>'),
      ('integer_tensor', ct.TensorType(np.uint8, [None]), factory.INTEGER,
       'uint8[?]'),
      ('empty_struct', [], factory.FLOAT, '<>'),
  )
  def test_check_value_type_returns_type(self, spec, kinds, expected):

    value_type = factory.check_value_type(spec, 'Test.create', kinds)

    self.assertEqual(str(value_type), expected)

  @parameterized.named_parameters(
      ('int_for_float', np.int32, factory.FLOAT,
       'floating-point tensor type.*found int32. Tip: a tip'),
      ('float_for_integer', np.float32, factory.INTEGER,
       'integer tensor type.*found float32'),
      ('sequence', ct.SequenceType(np.int32), factory.NUMERIC,
       r'found int32\*'),
      ('not_a_type', object(), factory.NUMERIC, 'which is not a type'),
  )
  def test_check_value_type_refuses_other_kinds(self, spec, kinds, message):

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError,
                                f'Test.create expects `value_type`.*{message}'):
      factory.check_value_type(spec, 'Test.create', kinds, tip='a tip')

  @parameterized.named_parameters(
      ('float', np.float32),
      ('int', np.int64),
  )
  def test_check_weight_type_accepts_numeric_scalars(self, spec):

    weight_type = factory.check_weight_type(spec, 'Test.create')

    self.assertEqual(weight_type, ct.TensorType(spec))

  @parameterized.named_parameters(
      ('vector', ct.TensorType(np.float32, [1])),
      ('bool', np.bool_),
      ('struct', [np.float32]),
  )
  def test_check_weight_type_refuses_non_numeric_scalars(self, spec):

    with self.assertRaisesRegex(errors.UnsupportedValueTypeError,
                                'a client weight is one number'):
      factory.check_weight_type(spec, 'Test.create')


class CheckFactoryTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('weighted_for_unweighted', mean.MeanFactory(),
       factory.UnweightedAggregationFactory,
       'found a weighted factory, MeanFactory. Tip: this slot aggregates'),
      ('unweighted_for_weighted', sum_factory.SumFactory(),
       factory.WeightedAggregationFactory,
       'found an unweighted factory, SumFactory. Tip: this slot passes'),
      ('not_a_factory', 3, factory.WeightedAggregationFactory,
       'found int: 3.'),
  )
  def test_check_factory_names_both_kinds(self, given, expected, message):

    with self.assertRaisesRegex(errors.FactoryTypeError,
                                f'Owner expects `slot` to be a '
                                f'tffx.aggregators.{expected.__name__}; '
                                f'{message}'):
      factory.check_factory(given, expected, 'slot', 'Owner')


class CheckNormTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('int', 2, 2.0),
      ('numpy_float', np.float32(0.5), 0.5),
      ('infinite', math.inf, math.inf),
  )
  def test_check_norm_returns_positive_numbers_as_floats(self, norm, expected):

    checked = factory.check_norm(norm, 'norm', 'Owner')

    self.assertIsInstance(checked, float)
    self.assertEqual(checked, expected)

  def test_check_norm_returns_norm_process(self):
    process = quantile_estimation.PrivateQuantileEstimationProcess(1.0, 0.5,
                                                                   0.2)

    self.assertIs(factory.check_norm(process, 'norm', 'Owner'), process)

  @parameterized.named_parameters(
      ('zero', 0.0, errors.ParameterValueError, 'positive'),
      ('nan', math.nan, errors.ParameterValueError, 'positive'),
      ('bool', True, errors.ParameterTypeError, 'found bool'),
      ('none', None, errors.ParameterTypeError, 'found NoneType'),
  )
  def test_check_norm_refuses_bad_norms(self, norm, error, message):

    with self.assertRaisesRegex(error, f'Owner expects `norm`.*{message}'):
      factory.check_norm(norm, 'norm', 'Owner')


if __name__ == '__main__':
  absltest.main()
