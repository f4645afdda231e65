import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import secure_quantized
from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.types import computation_types as ct

fc = federated_computation.federated_computation


def _summer(member_type, lower, upper):
  return fc(
      lambda v: secure_quantized.secure_quantized_sum(v, lower, upper),
      ct.type_at_clients(member_type))


class SecureQuantizedSumTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_floats_are_clipped_then_summed_up_to_quantization(self):
    summer = _summer(ct.TensorType(np.float32, [2]), -1.0, 1.0)

    total = summer([[0.5, 2.0], [-0.25, -3.0], [0.1, 0.3]])

    np.testing.assert_allclose(total, [0.35, 0.3], atol=1e-6)
    self.assertEqual(str(summer.type_signature.result), 'float32[2]@SERVER')

  def test_integers_are_summed_exactly_after_clipping(self):

    total = _summer(np.int32, -5, 5)([3, -7, 4])

    self.assertEqual(int(total), 2)

  def test_struct_values_and_server_placed_bound(self):
    member = collections.OrderedDict(a=np.float64, b=(np.float64, [2]))
    summer = fc(
        lambda v, b: secure_quantized.secure_quantized_sum(v, 0.0, b),
        ct.type_at_clients(member), ct.type_at_server(np.float32))

    total = summer([
        collections.OrderedDict(a=0.5, b=np.array([2.0, 0.25])),
        collections.OrderedDict(a=0.75, b=np.array([-1.0, 0.5])),
    ], 1.0)

    self.assertAlmostEqual(float(total['a']), 1.25, places=6)
    np.testing.assert_allclose(total['b'], [1.0, 0.75], atol=1e-6)

  def test_uses_secure_sum_only(self):
    summer = _summer(np.float32, -1.0, 1.0)

    text = str(summer)

    self.assertIn('federated_secure_sum', text)
    self.assertNotIn('federated_sum', text)

  @parameterized.named_parameters(
      ('unordered_bounds', np.float32, 1.0, -1.0, ValueError),
      ('integer_span_too_large', np.int64, 0, 2**33, ValueError),
      ('mixed_dtypes', collections.OrderedDict(a=np.float32, b=np.float64),
       -1.0, 1.0, TypeError),
  )
  def test_raises(self, member_type, lower, upper, error):

    with self.assertRaises(error):
      _summer(member_type, lower, upper)

  def test_raises_for_server_bound_with_integer_values(self):

    with self.assertRaises(TypeError):
      fc(lambda v, b: secure_quantized.secure_quantized_sum(v, 0, b),
         ct.type_at_clients(np.int32), ct.type_at_server(np.int32))


if __name__ == '__main__':
  absltest.main()
