"""Tests for tffx/computations/tensorflow_values.py."""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import tensorflow_values
from tffx.types import computation_types as ct
from tffx.types import structure

_Point = collections.namedtuple('_Point', ['x', 'y'])
_XY = ct.StructType([('x', np.int32), ('y', np.float32)])


class StructElementsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('struct', structure.Struct([('x', 1), ('y', 2.0)])),
      ('dict_other_order', {'y': 2.0, 'x': 1}),
      ('namedtuple', _Point(1, 2.0)),
      ('list', [1, 2.0]),
      ('unnamed_struct', structure.Struct([(None, 1), (None, 2.0)])),
  )
  def test_struct_elements_follow_type_order(self, value):

    elements = tensorflow_values.struct_elements(value, _XY)

    self.assertEqual(elements, [1, 2.0])

  @parameterized.named_parameters(
      ('too_long', [1, 2.0, 3], 'struct of 2 elements'),
      ('scalar', 1, 'expected a struct of type'),
      ('string', 'xy', 'expected a struct of type'),
  )
  def test_struct_elements_raises_when_not_struct_of_type(self, value,
                                                          message):

    with self.assertRaisesRegex(TypeError, message):
      tensorflow_values.struct_elements(value, _XY)


class LeafArrayTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('python_int_to_float', 1, np.float32, np.float32(1)),
      ('int32_to_int64', np.int32(3), np.int64, np.int64(3)),
      ('python_list', [1, 2], np.int32, np.array([1, 2], np.int32)),
      ('bool_to_int', True, np.int32, np.int32(1)),
  )
  def test_leaf_array_converts_when_value_fits(self, value, dtype, expected):

    array = tensorflow_values.leaf_array(value, ct.TensorType(dtype, None),
                                         'x')

    self.assertEqual(array.dtype, dtype)
    np.testing.assert_array_equal(array, expected)

  @parameterized.named_parameters(
      ('float_to_int', 1.5, np.int32),
      ('out_of_range', 2**40, np.int32),
      ('negative_to_unsigned', -1, np.uint8),
      ('int64_to_int32', np.int64(1), np.int32),
      ('float64_to_float32', np.float64(1.0), np.float32),
      ('int_to_bool', 1, np.bool_),
      ('string_to_int', 'one', np.int32),
  )
  def test_leaf_array_raises_when_value_does_not_fit(self, value, dtype):

    with self.assertRaisesRegex(TypeError, 'expected .* at x'):
      tensorflow_values.leaf_array(value, ct.TensorType(dtype, None), 'x')


class ConformDatasetTest(absltest.TestCase):

  def test_conform_dataset_keeps_dataset_when_layout_matches(self):
    dataset = tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(x=np.array([1], np.int32), y=[2.0]))

    result = tensorflow_values.conform_dataset(dataset, _XY)

    self.assertIs(result, dataset)

  def test_conform_dataset_maps_by_name_when_container_differs(self):
    point = collections.namedtuple('Point', ['y', 'x'])
    dataset = tf.data.Dataset.from_tensor_slices(
        point(y=[2.0], x=np.array([1], np.int32)))

    result = tensorflow_values.conform_dataset(dataset, _XY)

    self.assertEqual(list(result.as_numpy_iterator()), [{'x': 1, 'y': 2.0}])

  def test_conform_dataset_raises_when_dtype_differs(self):
    dataset = tf.data.Dataset.range(3)

    with self.assertRaisesRegex(TypeError, 'expected a dataset of int32'):
      tensorflow_values.conform_dataset(dataset, ct.TensorType(np.int32))


class BuildStructTest(absltest.TestCase):

  def test_build_struct_uses_container_when_type_has_one(self):
    type_spec = ct.StructWithPythonType([('x', np.int32), ('y', np.float32)],
                                        _Point)

    value = tensorflow_values.build_struct(type_spec, [('x', 1), ('y', 2.0)])

    self.assertEqual(value, _Point(1, 2.0))

  def test_build_struct_makes_struct_when_plain_type(self):

    value = tensorflow_values.build_struct(_XY, [('x', 1), ('y', 2.0)])

    self.assertEqual(value, structure.Struct([('x', 1), ('y', 2.0)]))


if __name__ == '__main__':
  absltest.main()
