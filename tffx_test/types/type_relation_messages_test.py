"""Tests for tffx/types/type_relation_messages.py."""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.types import computation_types
from tffx.types import errors
from tffx.types import placements
from tffx.types import type_relation_messages

StructType = computation_types.StructType
StructWithPythonType = computation_types.StructWithPythonType
TensorType = computation_types.TensorType
I32 = TensorType(np.int32)
F32 = TensorType(np.float32)


class AssignableMessageTest(parameterized.TestCase):

  def test_names_both_types_and_path_of_first_difference(self):
    target = StructType([('a', np.int32), ('b', [np.int32, np.int32])])
    source = StructType([('a', np.int32), ('b', [np.int32, np.float32])])

    with self.assertRaises(errors.TypeNotAssignableError) as raised:
      target.check_assignable_from(source)

    self.assertEqual(
        str(raised.exception),
        'Expected <a=int32,b=<int32,int32>> to be assignable from '
        "<a=int32,b=<int32,float32>>. First difference at ['b'][1]: "
        'int32 vs float32.')

  @parameterized.named_parameters(
      ('top_level_tensor', I32, F32, 'Expected int32 to be assignable from '
       'float32.'),
      ('struct_lengths', StructType([I32]), StructType([I32, I32]),
       'The structs have 1 and 2 elements.'),
      ('struct_names', StructType([('a', I32), ('b', I32)]),
       StructType([I32, ('c', I32)]),
       "The element names differ: ['a', 'b'] vs [None, 'c']."),
      ('nested_struct_names', StructType([('x', [('a', I32)])]),
       StructType([('x', [('b', I32)])]),
       "First difference at ['x']: <a=int32> vs <b=int32>. The element names "
       "differ: ['a'] vs ['b']."),
      ('federated_member', computation_types.type_at_server([I32]),
       computation_types.type_at_server([F32]),
       'First difference at member[0]: int32 vs float32.'),
      ('federated_placement', computation_types.type_at_server(I32),
       computation_types.type_at_clients(I32, all_equal=True),
       'The placements differ: SERVER vs CLIENTS.'),
      ('federated_all_equal', computation_types.type_at_clients(I32, True),
       computation_types.type_at_clients(I32),
       'Tip: the expected value is the same at every participant'),
      ('sequence_element', computation_types.SequenceType([('a', I32)]),
       computation_types.SequenceType([('a', F32)]),
       "First difference at element['a']: int32 vs float32."),
      ('struct_in_federated_in_struct',
       StructType([('s', computation_types.type_at_server([('v', I32)]))]),
       StructType([('s', computation_types.type_at_server([('v', F32)]))]),
       "First difference at ['s'].member['v']: int32 vs float32."),
  )
  def test_message_contains(self, target, source, expected):

    message = type_relation_messages.assignable_message(target, source)

    self.assertIn(expected, message)

  def test_message_has_no_path_for_top_level_difference(self):

    message = type_relation_messages.assignable_message(
        I32, computation_types.SequenceType(I32))

    self.assertEqual(message, 'Expected int32 to be assignable from int32*.')


class EquivalentMessageTest(absltest.TestCase):

  def test_names_both_types_and_differing_names(self):
    first = StructType([I32])
    second = StructType([('a', I32)])

    with self.assertRaises(errors.TypesNotEquivalentError) as raised:
      first.check_equivalent_to(second)

    self.assertEqual(
        str(raised.exception),
        "Expected <int32> to be equivalent to <a=int32>. The element names "
        "differ: [None] vs ['a'].")

  def test_notes_all_equal_difference(self):

    message = type_relation_messages.equivalent_message(
        computation_types.type_at_clients(I32),
        computation_types.type_at_clients(I32, all_equal=True))

    self.assertIn('The given value is all-equal; the expected one is not.',
                  message)

  def test_points_at_nested_shape_difference(self):
    first = StructType([('a', TensorType(np.int32, [None]))])
    second = StructType([('a', TensorType(np.int32, [2]))])

    message = type_relation_messages.equivalent_message(first, second)

    self.assertIn("First difference at ['a']: int32[?] vs int32[2].", message)


class IdenticalMessageTest(absltest.TestCase):

  def test_names_differing_containers(self):
    first = StructWithPythonType([I32], list)
    second = StructWithPythonType([I32], tuple)

    with self.assertRaises(errors.TypesNotIdenticalError) as raised:
      first.check_identical_to(second)

    self.assertEqual(
        str(raised.exception),
        'Expected <int32> to be identical to <int32>. The Python containers '
        'differ: list vs tuple.')

  def test_points_at_nested_container_difference(self):
    first = computation_types.type_at_server(
        [('a', StructWithPythonType([('x', I32)], collections.OrderedDict))])
    second = computation_types.type_at_server(
        [('a', StructType([('x', I32)]))])

    message = type_relation_messages.identical_message(first, second)

    self.assertIn(
        "First difference at member['a']: <x=int32> vs <x=int32>. The Python "
        'containers differ: collections.OrderedDict vs no container (Struct).',
        message)


class FirstDifferenceTest(absltest.TestCase):

  def test_returns_innermost_pair_and_path(self):
    target = StructType([I32, [('b', I32)]])
    source = StructType([I32, [('b', F32)]])

    path, target_part, source_part = type_relation_messages.first_difference(
        target, source, lambda t, s: t.is_assignable_from(s))

    self.assertEqual(path, "[1]['b']")
    self.assertIs(target_part, I32)
    self.assertIs(source_part, F32)

  def test_returns_empty_path_for_related_parts(self):
    target = computation_types.type_at_clients(I32, all_equal=True)
    source = computation_types.type_at_clients(I32)

    path, target_part, source_part = type_relation_messages.first_difference(
        target, source, lambda t, s: t.is_assignable_from(s))

    self.assertEqual(path, '')
    self.assertIs(target_part, target)
    self.assertIs(source_part, source)

  def test_does_not_descend_into_other_placement(self):
    target = computation_types.type_at_server(I32)
    source = computation_types.FederatedType(F32, placements.CLIENTS)

    path, _, _ = type_relation_messages.first_difference(
        target, source, lambda t, s: t.is_assignable_from(s))

    self.assertEqual(path, '')


class TypeMismatchErrorMessageTest(parameterized.TestCase):

  def test_short_types_fit_on_one_line(self):
    message = type_relation_messages.type_mismatch_error_message(
        computation_types.TensorType(np.int32),
        computation_types.TensorType(np.bool_),
        type_relation_messages.TypeRelation.EQUIVALENT)

    self.assertEqual(message, 'Type `int32` is not equivalent to type `bool`')

  def test_second_is_expected(self):
    message = type_relation_messages.type_mismatch_error_message(
        computation_types.TensorType(np.int32),
        computation_types.TensorType(np.bool_),
        type_relation_messages.TypeRelation.ASSIGNABLE,
        second_is_expected=True)

    self.assertEqual(
        message, 'Type `int32` is not assignable to expected type `bool`')

  def test_types_printing_the_same_are_shown_by_repr(self):
    message = type_relation_messages.type_mismatch_error_message(
        computation_types.StructWithPythonType([], list),
        computation_types.StructWithPythonType([], tuple),
        type_relation_messages.TypeRelation.IDENTICAL)

    self.assertIn('`StructType([]) as list`', message)
    self.assertIn('`StructType([]) as tuple`', message)

  def test_long_types_are_formatted_with_a_diff(self):
    int32 = computation_types.TensorType(np.int32)
    first = computation_types.StructType([int32] * 20)
    second = computation_types.StructType([int32] * 21)

    message = type_relation_messages.type_mismatch_error_message(
        first, second, type_relation_messages.TypeRelation.EQUIVALENT)

    lines = message.split('\n')
    self.assertEqual(lines[0], 'Type')
    self.assertIn('is not equivalent to type', lines)
    self.assertIn('Diff:', lines)
    self.assertIn('+  int32,', lines)


if __name__ == '__main__':
  absltest.main()
