"""Tests for tffx/types/structure.py."""

import collections
import copy
import pickle

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.types import computation_types
from tffx.types import structure
from tffx.types.structure import Struct
from tffx_test.types.type_test_utils import AttrsLike
from tffx_test.types.type_test_utils import Pair
from tffx_test.types.type_test_utils import Point


class StructTest(parameterized.TestCase):

  def test_elements_are_reachable_by_name_index_and_attribute(self):

    struct = Struct([('a', 1), (None, 2), ('c', 3)])

    self.assertEqual(struct.a, 1)
    self.assertEqual(struct['a'], 1)
    self.assertEqual(struct[1], 2)
    self.assertEqual(struct[-1], 3)
    self.assertEqual(struct[1:], [2, 3])
    self.assertLen(struct, 3)
    self.assertEqual(list(struct), [1, 2, 3])
    self.assertEqual(struct.names(), ['a', None, 'c'])
    self.assertEqual(struct.values(), [1, 2, 3])
    self.assertEqual(list(struct.items()), [('a', 1), (None, 2), ('c', 3)])

  def test_named_and_unnamed_constructors(self):

    named = Struct.named(a=1, b=2)
    unnamed = Struct.unnamed(1, 2)

    self.assertEqual(named, Struct([('a', 1), ('b', 2)]))
    self.assertEqual(unnamed, Struct([(None, 1), (None, 2)]))

  def test_unknown_name_raises(self):
    struct = Struct.named(a=1)

    with self.assertRaisesRegex(KeyError, "no element named 'b'"):
      struct['b']  # pylint: disable=pointless-statement
    with self.assertRaisesRegex(AttributeError, "no element named 'b'"):
      struct.b  # pylint: disable=pointless-statement

  @parameterized.named_parameters(
      ('not_pairs', [1, 2], TypeError, 'Expected \\(name, value\\) pairs'),
      ('empty_name', [('', 1)], TypeError, 'non-empty strings'),
      ('int_name', [(3, 1)], TypeError, 'non-empty strings'),
      ('duplicate_name', [('a', 1), ('a', 2)], ValueError, 'Duplicate'),
  )
  def test_construction_raises_for_invalid_elements(self, elements, error,
                                                     message):

    with self.assertRaisesRegex(error, message):
      Struct(elements)

  def test_setattr_and_delattr_raise(self):
    struct = Struct.named(a=1)

    with self.assertRaisesRegex(AttributeError, 'immutable'):
      struct.a = 2
    with self.assertRaisesRegex(AttributeError, 'immutable'):
      del struct.a
    self.assertEqual(struct.a, 1)

  @parameterized.named_parameters(
      ('same', Struct.named(a=1, b=2), Struct.named(a=1, b=2), True),
      ('other_value', Struct.named(a=1), Struct.named(a=2), False),
      ('other_name', Struct.named(a=1), Struct.named(b=1), False),
      ('named_and_unnamed', Struct.named(a=1), Struct.unnamed(1), False),
      ('other_length', Struct.unnamed(1), Struct.unnamed(1, 2), False),
      ('numpy_arrays', Struct.unnamed(np.array([1, 2])),
       Struct.unnamed(np.array([1, 2])), True),
      ('numpy_arrays_differ', Struct.unnamed(np.array([1, 2])),
       Struct.unnamed(np.array([1, 3])), False),
      ('numpy_shapes_differ', Struct.unnamed(np.array([1, 2])),
       Struct.unnamed(np.array([1, 2, 3])), False),
      ('numpy_broadcastable_shapes', Struct.unnamed(np.array([1, 1])),
       Struct.unnamed(np.array(1)), False),
      ('numpy_scalar_and_int', Struct.unnamed(np.int32(3)), Struct.unnamed(3),
       True),
      ('string_arrays', Struct.unnamed(np.array([b'a'])),
       Struct.unnamed(np.array([b'a'])), True),
      ('tensors', Struct.unnamed(tf.constant([1, 2])),
       Struct.unnamed(tf.constant([1, 2])), True),
      ('tensors_differ', Struct.unnamed(tf.constant([1, 2])),
       Struct.unnamed(tf.constant([1, 2, 3])), False),
      ('lists_of_arrays', Struct.unnamed([np.array([1]), np.array([2])]),
       Struct.unnamed([np.array([1]), np.array([2])]), True),
      ('lists_of_arrays_differ', Struct.unnamed([np.array([1])]),
       Struct.unnamed([np.array([2])]), False),
      ('nested', Struct.named(a=Struct.unnamed(np.zeros([2]))),
       Struct.named(a=Struct.unnamed(np.zeros([2]))), True),
      ('not_a_struct', Struct.unnamed(1), (1,), False),
  )
  def test_equality(self, first, second, expected):

    equal = first == second

    self.assertIs(equal, expected)
    self.assertIs(first != second, not expected)

  def test_equal_structs_hash_equal(self):

    first = Struct.named(a=1, b=(2,))
    second = Struct.named(a=1, b=(2,))

    self.assertEqual(hash(first), hash(second))

  @parameterized.named_parameters(
      ('pickle', lambda s: pickle.loads(pickle.dumps(s))),
      ('copy', copy.copy),
      ('deepcopy', copy.deepcopy),
  )
  def test_round_trips(self, round_trip):
    struct = Struct([('a', np.array([1, 2])), (None, Struct.named(b=3))])

    result = round_trip(struct)

    self.assertIsInstance(result, Struct)
    self.assertEqual(result, struct)

  def test_str_and_repr(self):
    struct = Struct([('a', 1), (None, 2)])

    self.assertEqual(str(struct), '<a=1,2>')
    self.assertEqual(repr(struct), "Struct([('a', 1), (None, 2)])")


class NestTest(parameterized.TestCase):

  def test_map_structure_applies_to_leaves(self):
    first = Struct([('a', 1), (None, Struct.unnamed(2, 3))])
    second = Struct([('a', 10), (None, Struct.unnamed(20, 30))])

    result = structure.map_structure(lambda x, y: x + y, first, second)

    self.assertEqual(result, Struct([('a', 11),
                                     (None, Struct.unnamed(22, 33))]))

  @parameterized.named_parameters(
      ('other_names', Struct.named(a=1), Struct.named(b=1)),
      ('other_length', Struct.unnamed(1), Struct.unnamed(1, 2)),
      ('struct_and_leaf', Struct.unnamed(1), 1),
      ('leaf_and_struct', Struct.unnamed(1), Struct.unnamed(Struct.unnamed(1))),
  )
  def test_map_structure_raises_for_other_structure(self, first, second):

    with self.assertRaisesRegex(ValueError, 'Structures differ'):
      structure.map_structure(lambda x, y: x, first, second)

  def test_flatten_and_pack_sequence_as_round_trip(self):
    nest = Struct([('a', 1), (None, Struct.named(b=2, c=Struct.unnamed(3))),
                   ('d', 4)])

    flat = structure.flatten(nest)
    packed = structure.pack_sequence_as(nest, [x * 10 for x in flat])

    self.assertEqual(flat, [1, 2, 3, 4])
    self.assertEqual(packed, Struct([
        ('a', 10), (None, Struct.named(b=20, c=Struct.unnamed(30))),
        ('d', 40)]))

  def test_flatten_of_leaf_is_single_item(self):

    self.assertEqual(structure.flatten(5), [5])

  @parameterized.named_parameters(
      ('too_many', [1, 2, 3]),
      ('too_few', [1]),
  )
  def test_pack_sequence_as_raises_for_wrong_leaf_count(self, flat):

    with self.assertRaisesRegex(ValueError, 'Expected 2 leaves'):
      structure.pack_sequence_as(Struct.unnamed(0, 0), flat)


# (name, Python container, its type; to_python must rebuild the container).
_CONTAINER_CASES = [
    ('list', [1, 2], [np.int32, np.int32]),
    ('tuple', (1, 2), (np.int32, np.int32)),
    ('dict', {'b': 1, 'a': 2}, {'b': np.int32, 'a': np.int32}),
    ('ordered_dict', collections.OrderedDict(b=1, a=2),
     collections.OrderedDict(b=np.int32, a=np.int32)),
    ('namedtuple', Point(1, 2), Point(np.int32, np.int32)),
    ('dataclass', Pair(1, 2), Pair(np.int32, np.int32)),
    ('attrs', AttrsLike(1, 2), AttrsLike(np.int32, np.int32)),
]


class ConversionTest(parameterized.TestCase):

  @parameterized.named_parameters(_CONTAINER_CASES)
  def test_from_container_then_to_python_round_trips(self, value, spec):
    type_spec = computation_types.to_type(spec)

    struct = structure.from_container(value)
    rebuilt = structure.to_python(struct, type_spec)

    self.assertIsInstance(struct, Struct)
    self.assertEqual(struct.values(), [1, 2] if not isinstance(
        value, dict) else list(value.values()))
    self.assertIs(type(rebuilt), type(value))
    self.assertEqual(rebuilt, value)

  @parameterized.named_parameters(_CONTAINER_CASES)
  def test_to_python_accepts_the_container_itself(self, value, spec):

    rebuilt = structure.to_python(value, computation_types.to_type(spec))

    self.assertEqual(rebuilt, value)

  def test_from_container_names_elements(self):

    struct = structure.from_container(Point(1, 2))

    self.assertEqual(struct, Struct([('x', 1), ('y', 2)]))

  def test_from_container_recursive_converts_nested_containers(self):
    value = {'a': [1, (2, 3)], 'b': Struct.unnamed({'c': 4})}

    struct = structure.from_container(value, recursive=True)

    self.assertEqual(struct, Struct([
        ('a', Struct.unnamed(1, Struct.unnamed(2, 3))),
        ('b', Struct.unnamed(Struct.named(c=4)))]))

  def test_from_container_non_recursive_keeps_nested_containers(self):

    struct = structure.from_container({'a': [1]})

    self.assertEqual(struct.a, [1])

  @parameterized.named_parameters(
      ('int', 3),
      ('array', np.zeros([2])),
      ('string', 'abc'),
  )
  def test_from_container_returns_non_containers_unchanged(self, value):

    self.assertIs(structure.from_container(value), value)

  def test_to_python_keeps_struct_for_plain_struct_type(self):
    type_spec = computation_types.StructType([('a', np.int32), np.int32])

    rebuilt = structure.to_python(Struct.unnamed(1, 2), type_spec)

    self.assertEqual(rebuilt, Struct([('a', 1), (None, 2)]))

  def test_to_python_rebuilds_nested_containers(self):
    type_spec = computation_types.to_type(
        {'a': [np.int32, Point(np.int32, np.int32)],
         'b': computation_types.StructType([('c', np.int32)])})
    value = Struct([('a', Struct.unnamed(1, Struct.unnamed(2, 3))),
                    ('b', Struct.unnamed(4))])

    rebuilt = structure.to_python(value, type_spec)

    self.assertEqual(rebuilt, {'a': [1, Point(2, 3)],
                               'b': Struct.named(c=4)})

  def test_to_python_returns_non_struct_values_unchanged(self):
    value = np.zeros([2])

    rebuilt = structure.to_python(
        value, computation_types.TensorType(np.float64, [2]))

    self.assertIs(rebuilt, value)

  def test_to_python_raises_for_other_length(self):
    type_spec = computation_types.to_type([np.int32, np.int32])

    with self.assertRaisesRegex(TypeError, 'with 2 elements .* found 1'):
      structure.to_python(Struct.unnamed(1), type_spec)


class TffStructureFunctionsTest(parameterized.TestCase):

  def test_element_and_name_functions(self):
    struct = Struct([('a', 1), (None, 2), ('c', 3)])

    self.assertEqual(structure.to_elements(struct),
                     [('a', 1), (None, 2), ('c', 3)])
    self.assertEqual(list(structure.iter_elements(struct)),
                     [('a', 1), (None, 2), ('c', 3)])
    self.assertEqual(structure.name_list(struct), ['a', 'c'])
    self.assertEqual(structure.name_list_with_nones(struct), ['a', None, 'c'])
    self.assertEqual(structure.name_to_index_map(struct), {'a': 0, 'c': 2})
    self.assertTrue(structure.has_field(struct, 'c'))
    self.assertFalse(structure.has_field(struct, 'b'))

  def test_iter_elements_of_a_struct_type(self):
    type_spec = computation_types.StructType([('a', np.int32)])

    elements = list(structure.iter_elements(type_spec))

    self.assertEqual(elements, [('a', computation_types.TensorType(np.int32))])

  def test_to_elements_of_a_non_struct_raises_type_error(self):
    with self.assertRaises(TypeError):
      structure.to_elements([1, 2])

  def test_to_odict_recursive(self):
    struct = Struct([('a', 1), ('b', Struct([('c', 2)]))])

    flat = structure.to_odict(struct)
    nested = structure.to_odict(struct, recursive=True)

    self.assertEqual(flat, collections.OrderedDict(a=1, b=Struct([('c', 2)])))
    self.assertEqual(nested, collections.OrderedDict(
        a=1, b=collections.OrderedDict(c=2)))
    self.assertIsInstance(nested['b'], collections.OrderedDict)

  def test_to_odict_of_unnamed_elements_raises_value_error(self):
    with self.assertRaises(ValueError):
      structure.to_odict(Struct([('a', 1), (None, 2)]))

  def test_to_odict_or_tuple(self):
    struct = Struct([('a', Struct.unnamed(1, 2)), ('b', 3)])

    converted = structure.to_odict_or_tuple(struct)

    self.assertEqual(converted, collections.OrderedDict(a=(1, 2), b=3))

  def test_to_odict_or_tuple_of_mixed_names_raises_value_error(self):
    with self.assertRaises(ValueError):
      structure.to_odict_or_tuple(Struct([('a', 1), (None, 2)]))

  @parameterized.named_parameters(
      ('same', Struct([('a', 1), ('b', Struct.unnamed(2))]),
       Struct([('a', 5), ('b', Struct.unnamed(6))]), True),
      ('different_names', Struct([('a', 1)]), Struct([('b', 1)]), False),
      ('different_lengths', Struct.unnamed(1), Struct.unnamed(1, 2), False),
      ('struct_vs_leaf', Struct.unnamed(Struct.unnamed(1)), Struct.unnamed(1),
       False),
      ('nested_difference', Struct.unnamed(Struct([('a', 1)]), 2),
       Struct.unnamed(Struct([('b', 1)]), 2), False),
      ('leaf_structure_differs', Struct.unnamed([1, 2]), Struct.unnamed(1),
       False),
  )
  def test_is_same_structure(self, a, b, expected):
    self.assertEqual(structure.is_same_structure(a, b), expected)

  @parameterized.named_parameters(
      ('struct', Struct([('a', 1), (None, 2)]), Struct([('a', 9), (None, 2)])),
      ('namedtuple', Point(1, 2), Point(9, 2)),
      ('dict', {'a': 1, 'b': 2}, {'a': 9, 'b': 2}),
      ('ordered_dict', collections.OrderedDict(a=1, b=2),
       collections.OrderedDict(a=9, b=2)),
      ('dataclass', Pair(1, 2), Pair(9, 2)),
  )
  def test_update_struct(self, value, expected):

    updated = structure.update_struct(value, a=9) if not isinstance(
        value, Point) else structure.update_struct(value, x=9)

    self.assertEqual(updated, expected)
    self.assertIs(type(updated), type(expected))

  def test_update_struct_of_missing_field_raises_key_error(self):
    with self.assertRaises(KeyError):
      structure.update_struct({'a': 1}, b=2)

  def test_update_struct_of_list_raises_type_error(self):
    with self.assertRaises(TypeError):
      structure.update_struct([1, 2], a=1)


if __name__ == '__main__':
  absltest.main()
