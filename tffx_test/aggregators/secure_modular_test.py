import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import errors
from tffx.aggregators import secure_modular
from tffx.backends import reference

SecureModularSumFactory = secure_modular.SecureModularSumFactory


class SecureModularSumFactoryTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  @parameterized.named_parameters(
      # TFF's example: ((1 % 4) + (3 % 4) + (6 % 4)) % 4 = 2.
      ('in_range', 4, False, [1, 3, 6], 2),
      ('negative_wraps', 5, False, [-1, 2], 1),
      # Modulus 2*4-1 = 7: 6 stands for -1, so 1 + 3 - 1 = 3.
      ('symmetric', 4, True, [1, 3, 6], 3),
      ('symmetric_negative_result', 4, True, [-3, 1], -2),
  )
  def test_sum_is_modular(self, modulus, symmetric, values, expected):
    process = SecureModularSumFactory(modulus, symmetric).create(np.int32)

    output = process.next(process.initialize(), values)

    self.assertEqual(int(output.result), expected)

  def test_struct_of_integers_keeps_dtypes(self):
    value_type = collections.OrderedDict(a=np.int32, b=(np.int64, [2]))
    process = SecureModularSumFactory(10).create(value_type)

    output = process.next(process.initialize(), [
        collections.OrderedDict(a=7, b=np.array([9, 1], np.int64)),
        collections.OrderedDict(a=5, b=np.array([3, 4], np.int64)),
    ])

    self.assertEqual(int(output.result['a']), 2)
    np.testing.assert_array_equal(output.result['b'], [2, 5])
    self.assertEqual(output.result['b'].dtype, np.int64)

  def test_sum_goes_through_a_secure_intrinsic(self):
    process = SecureModularSumFactory(8).create(np.int32)

    text = str(process.next)

    self.assertIn('federated_secure_sum', text)
    self.assertNotIn('federated_sum', text)

  @parameterized.named_parameters(
      ('zero', 0, errors.ParameterValueError),
      ('float', 4.0, errors.ParameterTypeError),
  )
  def test_raises_for_invalid_modulus(self, modulus, error):

    with self.assertRaises(error):
      SecureModularSumFactory(modulus)

  def test_raises_for_float_values(self):

    with self.assertRaises(errors.UnsupportedValueTypeError):
      SecureModularSumFactory(4).create(np.float32)


if __name__ == '__main__':
  absltest.main()
