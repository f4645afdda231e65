import collections
import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.aggregators import tensor_math
from tffx.types import computation_types as ct
from tffx.types import structure


class FlattenPackTest(parameterized.TestCase):

  def test_pack_inverts_flatten_with_type_containers(self):
    value_type = ct.to_type(collections.OrderedDict(
        a=np.float32, b=[np.int32, ct.TensorType(np.float32, [2])]))
    value = collections.OrderedDict(a=1.0, b=[2, np.float32([3.0, 4.0])])

    leaves = tensor_math.flatten(value)
    packed = tensor_math.pack(value_type, leaves)

    self.assertEqual(leaves[:2], [1.0, 2])
    self.assertIsInstance(packed, collections.OrderedDict)
    self.assertIsInstance(packed['b'], list)
    np.testing.assert_array_equal(packed['b'][1], [3.0, 4.0])

  def test_pack_gives_struct_for_plain_struct_type(self):
    value_type = ct.StructType([('x', np.float32), np.float32])

    packed = tensor_math.pack(value_type, [1.0, 2.0])

    self.assertEqual(packed, structure.Struct([('x', 1.0), (None, 2.0)]))

  def test_flatten_and_pack_of_tensor_are_identity(self):
    tensor = tf.constant([1.0])

    self.assertEqual(tensor_math.flatten(tensor), [tensor])
    self.assertIs(tensor_math.pack(ct.TensorType(np.float32, [1]), [tensor]),
                  tensor)


class GlobalNormTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('l2', 2.0, 13.0),
      ('l1', 1.0, 19.0),
      ('inf', math.inf, 12.0),
      ('l3', 3.0, (27.0 + 64.0 + 1728.0)**(1.0 / 3.0)),
  )
  def test_global_norm_treats_leaves_as_one_vector(self, order, expected):
    leaves = [tf.constant([3.0, -4.0]), tf.constant([[12.0]], tf.float64)]

    norm = tensor_math.global_norm(leaves, order)

    self.assertEqual(norm.dtype, tf.float32)
    self.assertAlmostEqual(float(norm), expected, places=4)

  @parameterized.named_parameters(('l2', 2.0), ('inf', math.inf))
  def test_global_norm_of_no_element_is_zero(self, order):

    norm = tensor_math.global_norm([tf.zeros([0])], order)

    self.assertEqual(float(norm), 0.0)

  def test_global_norm_does_not_overflow_float32_squares(self):

    norm = tensor_math.global_norm([tf.constant([3e30, 4e30])], 2.0)

    self.assertAlmostEqual(float(norm) / 5e30, 1.0, places=6)


class NoiseTest(absltest.TestCase):

  def test_gaussian_noise_is_determined_by_seed(self):
    leaves = [tf.zeros([3]), tf.zeros([2], tf.float64)]
    seed = tf.constant([4, 0], tf.int64)

    first, next_seed = tensor_math.gaussian_noise(leaves, 2.0, seed)
    second, _ = tensor_math.gaussian_noise(leaves, 2.0, seed)
    third, _ = tensor_math.gaussian_noise(leaves, 2.0, next_seed)

    np.testing.assert_array_equal(first[0], second[0])
    self.assertEqual(first[1].dtype, tf.float64)
    self.assertFalse(np.array_equal(first[0], third[0]))
    self.assertFalse(np.array_equal(next_seed, seed))

  def test_initial_seed_uses_stream_or_draws(self):

    fixed = tensor_math.initial_seed(5, stream=2)
    drawn = tensor_math.initial_seed(None)

    np.testing.assert_array_equal(fixed, [5, 2])
    self.assertEqual(drawn.shape, [2])
    self.assertEqual(drawn.dtype, tf.int64)


if __name__ == '__main__':
  absltest.main()
