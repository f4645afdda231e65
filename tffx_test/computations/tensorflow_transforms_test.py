import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx.computations import tensorflow_transforms
from tffx.types import structure
from tffx_test.types import type_test_utils


class TransformsTest(absltest.TestCase):

  def test_eager_tensors_and_variables_become_numpy_in_place(self):
    point = collections.namedtuple('Point', ['x', 'y'])
    value = collections.OrderedDict(
        b=[tf.constant([1, 2]), (tf.Variable(3.5), 'text')],
        a={'z': tf.constant(1.0), 'y': np.int64(4)},
        p=point(tf.constant(True), None))

    for transform in (tensorflow_transforms.transform_args,
                      tensorflow_transforms.transform_result):
      result = transform(value)

      self.assertIsInstance(result, collections.OrderedDict)
      self.assertEqual(list(result), ['b', 'a', 'p'])
      self.assertIsInstance(result['b'][0], np.ndarray)
      np.testing.assert_array_equal(result['b'][0], [1, 2])
      self.assertIsInstance(result['b'][1], tuple)
      self.assertEqual(result['b'][1], (np.float32(3.5), 'text'))
      self.assertIsInstance(result['b'][1][0], np.float32)
      self.assertEqual(list(result['a']), ['z', 'y'])
      self.assertIsInstance(result['a']['z'], np.float32)
      self.assertIsInstance(result['p'], point)
      self.assertEqual(result['p'], point(True, None))

  def test_attrs_and_dataclass_fields_become_numpy(self):
    value = [type_test_utils.AttrsLike(tf.constant(1), 'a'),
             type_test_utils.Pair(tf.Variable([2.0]), tf.constant(3))]

    result = tensorflow_transforms.transform_args(value)

    self.assertIsInstance(result[0], type_test_utils.AttrsLike)
    self.assertIsInstance(result[0].a, np.int32)
    self.assertEqual((result[0].a, result[0].b), (1, 'a'))
    self.assertIsInstance(result[1], type_test_utils.Pair)
    self.assertIsInstance(result[1].a, np.ndarray)
    np.testing.assert_array_equal(result[1].a, [2.0])
    self.assertIsInstance(result[1].b, np.int32)

  def test_structs_and_other_leaves_are_kept(self):
    dataset = tf.data.Dataset.range(3)
    value = structure.Struct([('a', tf.constant(2)), (None, dataset)])

    result = tensorflow_transforms.transform_args(value)

    self.assertIsInstance(result, structure.Struct)
    self.assertEqual(result.a, 2)
    self.assertIsInstance(result.a, np.int32)
    self.assertIs(result[1], dataset)

  def test_symbolic_tensors_are_kept(self):
    seen = []

    @tf.function
    def fn(x):
      seen.append(tensorflow_transforms.transform_result(x))
      return x

    fn(tf.constant(1.0))

    self.assertTrue(tf.is_symbolic_tensor(seen[0]))

  def test_exported_as_tff_tensorflow_names(self):
    self.assertIs(tff.tensorflow.transform_args,
                  tensorflow_transforms.transform_args)
    self.assertIs(tff.tensorflow.transform_result,
                  tensorflow_transforms.transform_result)


if __name__ == '__main__':
  absltest.main()
