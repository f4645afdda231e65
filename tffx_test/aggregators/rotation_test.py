import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import measurements
from tffx.aggregators import mean
from tffx.aggregators import rotation
from tffx.aggregators import sum_factory
from tffx.backends import reference
from tffx.types import computation_types as ct

_FACTORIES = (
    ('hadamard', rotation.HadamardTransformFactory, 'hd'),
    ('fourier', rotation.DiscreteFourierTransformFactory, 'dft'),
)
_STRUCT = ct.to_type(
    collections.OrderedDict(
        a=ct.TensorType(np.float32, [3, 2]), b=ct.TensorType(np.int32, [5])))


def _recording_sum():
  """A sum that also reports the rotated sum it computed."""
  return measurements.add_measurements(
      sum_factory.SumFactory(), lambda total: {'rotated': total},
      client_placed_input=False)


class FastWalshHadamardTransformTest(absltest.TestCase):

  def test_matches_hadamard_matrix_and_is_its_own_inverse(self):
    h2 = np.array([[1, 1], [1, -1]])
    h8 = np.kron(np.kron(h2, h2), h2) / np.sqrt(8)
    x = np.arange(8, dtype=np.float32)

    y = rotation.fast_walsh_hadamard_transform(tf.constant(x))

    np.testing.assert_allclose(y, h8 @ x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        rotation.fast_walsh_hadamard_transform(y), x, atol=1e-5)

  def test_raises_for_size_not_power_of_two(self):

    with self.assertRaises(ValueError):
      rotation.fast_walsh_hadamard_transform(tf.zeros([6]))


class RotationFactoryTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  @parameterized.named_parameters(*_FACTORIES)
  def test_type_signature_state_and_measurements(self, factory_cls, name):

    process = factory_cls().create(_STRUCT)

    self.assertEqual(str(process.state_type), '<<>,int64[2]>@SERVER')
    self.assertEqual(str(process.next.type_signature.result.measurements),
                     f'<{name}=<>>@SERVER')
    self.assertTrue(process.next.type_signature.result.result.member
                    .is_equivalent_to(_STRUCT))

  @parameterized.named_parameters(*_FACTORIES)
  def test_sum_round_trips_through_rotation(self, factory_cls, name):
    del name
    process = factory_cls(num_repeats=3).create(_STRUCT)
    rng = np.random.default_rng(0)
    values = [
        collections.OrderedDict(
            a=rng.normal(size=(3, 2)).astype(np.float32),
            b=np.arange(5, dtype=np.int32) * i) for i in range(3)
    ]

    output = process.next(process.initialize(), values)

    np.testing.assert_allclose(output.result['a'],
                               sum(v['a'] for v in values), atol=1e-5)
    np.testing.assert_array_equal(output.result['b'], [0, 3, 6, 9, 12])

  @parameterized.named_parameters(*_FACTORIES)
  def test_inner_sees_a_rotated_vector_of_the_same_norm(self, factory_cls,
                                                        name):
    process = factory_cls(_recording_sum()).create(
        ct.TensorType(np.float32, [8]))
    one_hot = np.eye(8, dtype=np.float32)[2]

    output = process.next(process.initialize(), [one_hot])

    [rotated] = output.measurements[name]['rotated']
    self.assertLen(rotated, 8)
    self.assertAlmostEqual(float(np.linalg.norm(rotated)), 1.0, places=5)
    self.assertLess(np.abs(rotated).max(), 0.99)
    np.testing.assert_allclose(output.result, one_hot, atol=1e-6)

  def test_hadamard_spreads_a_one_hot_vector_evenly(self):
    process = rotation.HadamardTransformFactory(_recording_sum()).create(
        ct.TensorType(np.float32, [5]))

    output = process.next(process.initialize(),
                          [np.eye(5, dtype=np.float32)[0]])

    [rotated] = output.measurements['hd']['rotated']
    np.testing.assert_allclose(np.abs(rotated), np.full(8, 1 / np.sqrt(8)),
                               rtol=1e-5)

  @parameterized.named_parameters(*_FACTORIES)
  def test_seed_counter_advances_each_round(self, factory_cls, name):
    del name
    process = factory_cls(num_repeats=2).create(_STRUCT)
    state = process.initialize()

    first = process.next(state, [collections.OrderedDict(
        a=np.ones((3, 2), np.float32), b=np.ones(5, np.int32))])

    # Two tensors, two repeats: four seeds per round.
    self.assertEqual(int(first.state[1][1]) - int(state[1][1]), 4)
    self.assertEqual(int(first.state[1][0]), int(state[1][0]))

  @parameterized.named_parameters(*_FACTORIES)
  def test_inner_mean_factory_state_is_kept(self, factory_cls, name):
    process = factory_cls(mean.UnweightedMeanFactory()).create(
        ct.TensorType(np.float32, [4]))

    output = process.next(process.initialize(),
                          [np.ones(4, np.float32), np.zeros(4, np.float32)])

    np.testing.assert_allclose(output.result, np.full(4, 0.5), atol=1e-6)
    self.assertEqual(list(output.measurements[name]),
                     ['mean_value', 'mean_count'])

  @parameterized.named_parameters(*_FACTORIES)
  def test_raises_for_invalid_arguments(self, factory_cls, name):
    del name

    with self.assertRaises(errors.ParameterValueError):
      factory_cls(num_repeats=0)
    with self.assertRaises(errors.FactoryTypeError):
      factory_cls(mean.MeanFactory())
    with self.assertRaises(errors.UnsupportedValueTypeError):
      factory_cls().create(ct.TensorType(np.float32, [None]))


if __name__ == '__main__':
  absltest.main()
