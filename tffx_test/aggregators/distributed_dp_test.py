from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import distributed_dp
from tffx.aggregators import errors
from tffx.backends import reference
from tffx.testing import aggregation_assertions
from tffx.types import computation_types as ct

_STRUCT = ct.to_type(
    [ct.TensorType(np.float32, [3]), ct.TensorType(np.float32, [1])])
_VALUES = [
    [np.array([0.1, -0.2, 0.3], np.float32), np.array([0.2], np.float32)],
    [np.array([0.1, 0.1, 0.1], np.float32), np.array([0.0], np.float32)],
]


class DistributedDpSumFactoryTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  @parameterized.named_parameters(('hd', 'hd', 'hd'), ('dft', 'dft', 'dft'))
  def test_without_noise_sums_up_to_quantization(self, rotation_type, name):
    factory = distributed_dp.DistributedDpSumFactory(
        0.0, 2, 20, 1.0, rotation_type=rotation_type)
    process = factory.create(_STRUCT)

    output = process.next(process.initialize(), _VALUES)

    np.testing.assert_allclose(output.result[0], [0.2, -0.1, 0.4], atol=1e-4)
    np.testing.assert_allclose(output.result[1], [0.2], atol=1e-4)
    self.assertIn(name, output.measurements['clipping'])
    self.assertEqual(output.measurements['clipped_count'], 0)

  def test_clips_to_the_l2_norm(self):
    process = distributed_dp.DistributedDpSumFactory(0.0, 1, 20, 0.5).create(
        ct.TensorType(np.float32, [2]))

    output = process.next(process.initialize(),
                          [np.array([3.0, 4.0], np.float32)])

    np.testing.assert_allclose(output.result, [0.3, 0.4], atol=1e-4)
    self.assertEqual(output.measurements['clipped_count'], 1)

  def test_noise_of_the_sum_has_stddev_noise_multiplier_times_clip(self):
    process = distributed_dp.DistributedDpSumFactory(1.0, 2, 20, 0.1).create(
        ct.TensorType(np.float32, [4096]))

    output = process.next(process.initialize(),
                          [np.zeros(4096, np.float32)] * 2)

    self.assertAlmostEqual(float(np.std(output.result)), 0.1, delta=0.01)
    self.assertAlmostEqual(float(np.mean(output.result)), 0.0, delta=0.01)

  def test_auto_clip_adapts_and_uses_only_secure_aggregation(self):
    process = distributed_dp.DistributedDpSumFactory(
        0.0, 2, 20, 0.1, auto_l2_clip=True).create(_STRUCT)
    state = process.initialize()

    norms = []
    for _ in range(3):
      output = process.next(state, _VALUES)
      state = output.state
      norms.append(float(output.measurements['clipping_norm']))

    self.assertAlmostEqual(norms[0], 0.1, places=6)
    self.assertGreater(norms[2], norms[0])  # Both clients' norms are larger.
    aggregation_assertions.assert_contains_secure_aggregation(process.next)
    aggregation_assertions.assert_not_contains_unsecure_aggregation(
        process.next)

  @parameterized.named_parameters(
      ('negative_noise', dict(noise_multiplier=-1.0)),
      ('zero_clients', dict(expected_clients_per_round=0)),
      ('too_many_bits', dict(bits=23)),
      ('zero_bits', dict(bits=0)),
      ('zero_clip', dict(l2_clip=0.0)),
      ('rotation', dict(rotation_type='identity')),
  )
  def test_raises_for_parameters_out_of_range(self, override):
    arguments = dict(noise_multiplier=1.0, expected_clients_per_round=2,
                     bits=20, l2_clip=0.1)
    arguments.update(override)

    with self.assertRaises(errors.ParameterValueError):
      distributed_dp.DistributedDpSumFactory(**arguments)

  def test_raises_for_integer_values(self):
    factory = distributed_dp.DistributedDpSumFactory(1.0, 2, 20, 0.1)

    with self.assertRaises(errors.UnsupportedValueTypeError):
      factory.create(ct.TensorType(np.int32, [2]))


if __name__ == '__main__':
  absltest.main()
