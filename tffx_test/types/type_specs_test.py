"""Tests for tffx/types/type_specs.py."""

import collections
import dataclasses

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.types import errors
from tffx.types import type_specs

Point = collections.namedtuple('Point', ['x', 'y'])


@dataclasses.dataclass
class Pair:
  a: object
  b: object


class DtypeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('numpy_class', np.float16, np.dtype(np.float16)),
      ('tf_dtype', tf.complex64, np.dtype(np.complex64)),
      ('name', 'uint8', np.dtype(np.uint8)),
      ('python_bool', bool, np.dtype(np.bool_)),
      ('big_endian', np.dtype('>f8'), np.dtype(np.float64)),
      ('bytes', np.dtype('S5'), type_specs.STRING_DTYPE),
      ('tf_bfloat16', tf.bfloat16, np.dtype(tf.bfloat16.as_numpy_dtype)),
  )
  def test_to_numpy_dtype(self, dtype, expected):

    result = type_specs.to_numpy_dtype(dtype)

    self.assertEqual(result, expected)
    self.assertIsInstance(result, np.dtype)

  def test_to_numpy_dtype_uses_native_byte_order(self):

    result = type_specs.to_numpy_dtype(np.dtype('>i8'))

    self.assertEqual(result.byteorder, '=')

  @parameterized.named_parameters(
      ('none', None),
      ('structured', np.dtype([('a', np.int32)])),
      ('timedelta', np.dtype('m8[s]')),
      ('not_a_dtype', [1, 2]),
  )
  def test_to_numpy_dtype_raises_for_non_tensor_dtype(self, dtype):

    with self.assertRaises(errors.InvalidTypeError):
      type_specs.to_numpy_dtype(dtype)

  @parameterized.named_parameters(
      ('int32', np.dtype(np.int32), 'int32', 'np.int32'),
      ('bool', np.dtype(np.bool_), 'bool', 'np.bool'),
      ('string', type_specs.STRING_DTYPE, 'str', 'np.str_'),
      ('bfloat16', np.dtype(tf.bfloat16.as_numpy_dtype), 'bfloat16',
       "np.dtype('bfloat16')"),
  )
  def test_dtype_name_and_repr(self, dtype, name, representation):

    self.assertEqual(type_specs.dtype_name(dtype), name)
    self.assertEqual(type_specs.dtype_repr(dtype), representation)
    rebuilt = eval(representation, {'np': np})  # pylint: disable=eval-used
    self.assertEqual(type_specs.to_numpy_dtype(rebuilt), dtype)


class ShapeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('list', [1, None], (1, None)),
      ('numpy_array', np.array([2, 3]), (2, 3)),
      ('numpy_int', np.int64(5), (5,)),
      ('tensor_shape', tf.TensorShape([None, 4]), (None, 4)),
      ('unknown_rank', None, None),
  )
  def test_to_shape(self, shape, expected):

    result = type_specs.to_shape(shape)

    self.assertEqual(result, expected)

  def test_to_shape_turns_numpy_ints_into_python_ints(self):

    result = type_specs.to_shape(np.array([2, 3]))

    self.assertEqual([type(d) for d in result], [int, int])

  @parameterized.named_parameters(
      ('negative', [-1]),
      ('float', [2.0]),
      ('bool', True),
      ('string_dim', ['2']),
      ('not_iterable', 1.5),
  )
  def test_to_shape_raises_for_non_shape(self, shape):

    with self.assertRaises(errors.InvalidTypeError):
      type_specs.to_shape(shape)


class SpecPredicatesTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('numpy_class', np.int32, True),
      ('numpy_dtype', np.dtype('int32'), True),
      ('tf_dtype', tf.int32, True),
      ('python_int', int, False),
      ('name', 'int32', False),
      ('tensor_spec', tf.TensorSpec([], tf.int32), False),
  )
  def test_is_dtype_spec(self, spec, expected):

    self.assertIs(type_specs.is_dtype_spec(spec), expected)

  @parameterized.named_parameters(
      ('dims', [2, None], True),
      ('empty', (), True),
      ('int', 3, True),
      ('tensor_shape', tf.TensorShape(None), True),
      ('bool', True, False),
      ('dtypes', [np.int32], False),
      ('namedtuple', Point(1, 2), False),
      ('none', None, False),
  )
  def test_is_shape_spec(self, spec, expected):

    self.assertIs(type_specs.is_shape_spec(spec), expected)

  @parameterized.named_parameters(
      ('dtype_and_dims', (np.float32, [2, None]), True),
      ('dtype_and_unknown_rank', (tf.float32, None), True),
      ('two_dtypes', (np.float32, np.int32), False),
      ('list', [np.float32, [2]], False),
      ('three_items', (np.float32, [2], None), False),
      ('named', ('a', np.int32), False),
  )
  def test_is_tensor_pair(self, spec, expected):

    self.assertIs(type_specs.is_tensor_pair(spec), expected)

  @parameterized.named_parameters(
      ('named', ('a', np.int32), True),
      ('unnamed', (None, np.int32), False),
      ('list', ['a', np.int32], False),
      ('namedtuple', Point('a', 1), False),
      ('tensor_pair', (np.int32, [2]), False),
  )
  def test_is_name_value_pair(self, spec, expected):

    self.assertIs(type_specs.is_name_value_pair(spec), expected)


class ElementPairsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('mixed_list', [('a', 1), 2, (None, 3)],
       [('a', 1), (None, 2), (None, 3)]),
      ('tuple', (1, ('b', 2)), [(None, 1), ('b', 2)]),
      ('dict', {'a': 1, 'b': 2}, [('a', 1), ('b', 2)]),
      ('namedtuple', Point(1, 2), [('x', 1), ('y', 2)]),
      ('dataclass', Pair(1, 2), [('a', 1), ('b', 2)]),
      ('tensor_pair_element', [(np.int32, [2])], [(None, (np.int32, [2]))]),
  )
  def test_element_pairs(self, elements, expected):

    pairs = type_specs.element_pairs(elements)

    self.assertEqual(pairs, expected)

  @parameterized.named_parameters(
      ('not_container', 3, 'Expected struct elements'),
      ('duplicate', [('a', 1), ('a', 2)], "found 'a' more than once"),
      ('empty_name', {'': 1}, "found ''"),
      ('int_name', {1: 1}, 'found 1'),
  )
  def test_element_pairs_raises_for_invalid_elements(self, elements, message):

    with self.assertRaises(errors.InvalidTypeError) as raised:
      type_specs.element_pairs(elements)

    self.assertIn(message, str(raised.exception))


class ContainerTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('list', list, [None, 'a']),
      ('tuple', tuple, []),
      ('dict', dict, ['a']),
      ('namedtuple', Point, ['x', 'y']),
      ('dataclass', Pair, ['a', 'b']),
  )
  def test_check_container_accepts(self, container, names):

    type_specs.check_container(container, names)

  @parameterized.named_parameters(
      ('instance', [], [], 'container class'),
      ('str', str, [], 'container class'),
      ('unnamed_dict', dict, [None], 'to be named'),
      ('namedtuple_names', Point, ['y', 'x'], 'named after its fields'),
  )
  def test_check_container_raises(self, container, names, message):

    with self.assertRaisesRegex(errors.InvalidTypeError, message):
      type_specs.check_container(container, names)

  @parameterized.named_parameters(
      ('none', None, 'no container (Struct)'),
      ('ordered_dict', collections.OrderedDict, 'collections.OrderedDict'),
      ('list', list, 'list'),
      ('namedtuple', Point, 'Point'),
  )
  def test_container_repr(self, container, expected):

    self.assertEqual(type_specs.container_repr(container), expected)


if __name__ == '__main__':
  absltest.main()
