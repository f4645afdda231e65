import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.aggregators import encoded
from tffx.aggregators import errors
from tffx.backends import reference
from tffx.types import computation_types as ct

_LARGE = ct.TensorType(np.float32, [300])
_SMALL = ct.TensorType(np.float32, [3])
_VALUE = ct.to_type(collections.OrderedDict(w=_LARGE, b=_SMALL, n=np.int32))


class UniformQuantizationEncoderTest(parameterized.TestCase):

  def test_grid_values_round_trip_exactly(self):
    encoder = encoded.UniformQuantizationEncoder(8)
    # min 0, max 255: every value is a quantization level.
    x = tf.constant(np.arange(256, dtype=np.float32))

    codes, low, high = encoder.encode(x)
    decoded = encoder.decode((codes, low, high), tf.float32)

    self.assertEqual(codes.dtype, tf.uint8)
    np.testing.assert_array_equal(codes.numpy(), np.arange(256))
    np.testing.assert_array_equal(decoded.numpy(), x.numpy())

  @parameterized.parameters(2, 8, 12)
  def test_decoded_is_within_one_step(self, bits):
    encoder = encoded.UniformQuantizationEncoder(bits)
    x = tf.constant(np.random.default_rng(1).normal(size=1000), tf.float64)

    decoded = encoder.decode(encoder.encode(x), tf.float64)

    step = (x.numpy().max() - x.numpy().min()) / (2**bits - 1)
    self.assertLessEqual(np.abs(decoded.numpy() - x.numpy()).max(),
                         step * (1 + 1e-9))

  def test_rounding_is_unbiased(self):
    encoder = encoded.UniformQuantizationEncoder(1)
    # Levels are 0 and 1: 0.25 is sent as 1 a quarter of the time.
    x = tf.constant([0.0, 1.0] + [0.25] * 20000, tf.float32)

    decoded = encoder.decode(encoder.encode(x), tf.float32).numpy()

    self.assertAlmostEqual(decoded[2:].mean(), 0.25, delta=0.02)
    self.assertEqual(set(np.unique(decoded[2:])), {0.0, 1.0})

  def test_constant_tensor_round_trips(self):
    encoder = encoded.UniformQuantizationEncoder(8)
    x = tf.fill([5], 3.5)

    decoded = encoder.decode(encoder.encode(x), tf.float32)

    np.testing.assert_array_equal(decoded.numpy(), [3.5] * 5)

  @parameterized.named_parameters(
      ('zero', 0, errors.ParameterValueError),
      ('too_many', 17, errors.ParameterValueError),
      ('float', 8.0, errors.ParameterTypeError),
  )
  def test_raises_for_invalid_bits(self, bits, error):

    with self.assertRaises(error):
      encoded.UniformQuantizationEncoder(bits)


class EncodedSumFactoryTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_quantize_above_threshold_picks_large_float_tensors(self):
    specs = []
    factory = encoded.EncodedSumFactory.quantize_above_threshold(
        quantization_bits=8, threshold=100)
    chosen = factory._encoder_fn  # pylint: disable=protected-access

    for spec in (tf.TensorSpec([300], tf.float32), tf.TensorSpec([3],
                                                                 tf.float32),
                 tf.TensorSpec([300], tf.int32)):
      specs.append(chosen(spec))

    self.assertIsInstance(specs[0], encoded.UniformQuantizationEncoder)
    self.assertEqual(specs[0].bits, 8)
    self.assertEqual(specs[1:], [None, None])

  def test_process_has_empty_state_and_measurements(self):

    process = encoded.EncodedSumFactory.quantize_above_threshold(
        threshold=100).create(_VALUE)

    self.assertFalse(process.is_weighted)
    self.assertEqual(str(process.state_type), '<>@SERVER')
    self.assertEqual(str(process.next.type_signature.result.measurements),
                     '<>@SERVER')
    self.assertTrue(process.next.type_signature.result.result.member
                    .is_equivalent_to(_VALUE))

  def test_sum_is_exact_for_unencoded_and_close_for_quantized(self):
    process = encoded.EncodedSumFactory.quantize_above_threshold(
        quantization_bits=8, threshold=100).create(_VALUE)
    rng = np.random.default_rng(0)
    values = [
        collections.OrderedDict(
            w=rng.normal(size=300).astype(np.float32),
            b=np.array([1.0, 2.0, 3.0], np.float32) * i,
            n=np.int32(i)) for i in range(1, 4)
    ]

    output = process.next(process.initialize(), values)

    np.testing.assert_array_equal(output.result['b'], [6.0, 12.0, 18.0])
    self.assertEqual(output.result['n'], 6)
    steps = sum((v['w'].max() - v['w'].min()) / 255 for v in values)
    true_sum = sum(v['w'] for v in values)
    self.assertLessEqual(np.abs(output.result['w'] - true_sum).max(),
                         steps * 1.0001)
    self.assertGreater(np.abs(output.result['w'] - true_sum).max(), 0.0)

  def test_encoder_fn_receives_tensor_specs(self):
    seen = []

    def encoder_fn(spec):
      seen.append(spec)
      return None

    process = encoded.EncodedSumFactory(encoder_fn).create(_VALUE)
    output = process.next(process.initialize(), [
        collections.OrderedDict(w=np.ones(300, np.float32),
                                b=np.ones(3, np.float32), n=np.int32(1))
    ] * 2)

    self.assertEqual(seen, [tf.TensorSpec([300], tf.float32),
                            tf.TensorSpec([3], tf.float32),
                            tf.TensorSpec([], tf.int32)])
    np.testing.assert_array_equal(output.result['w'], np.full(300, 2.0))

  def test_raises_for_encoder_of_integer_tensor(self):
    factory = encoded.EncodedSumFactory(
        lambda spec: encoded.UniformQuantizationEncoder(8))

    with self.assertRaises(errors.UnsupportedValueTypeError):
      factory.create(ct.TensorType(np.int32, [4]))

  @parameterized.named_parameters(
      ('string', np.str_),
      ('unknown_shape', ct.TensorType(np.float32, [None])),
  )
  def test_raises_for_unsupported_value_type(self, value_type):

    with self.assertRaises(errors.UnsupportedValueTypeError):
      encoded.EncodedSumFactory.quantize_above_threshold().create(value_type)

  def test_raises_for_non_callable_encoder_fn(self):

    with self.assertRaises(errors.ParameterTypeError):
      encoded.EncodedSumFactory('quantize')


if __name__ == '__main__':
  absltest.main()
