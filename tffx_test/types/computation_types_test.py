"""Tests for tffx/types/computation_types.py."""

import collections
import copy
import pickle

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.types import computation_types
from tffx.types import errors
from tffx.types import placements
from tffx.types.computation_types import AbstractType
from tffx.types.computation_types import FederatedType
from tffx.types.computation_types import FunctionType
from tffx.types.computation_types import PlacementType
from tffx.types.computation_types import SequenceType
from tffx.types.computation_types import StructType
from tffx.types.computation_types import StructWithPythonType
from tffx.types.computation_types import TensorType
from tffx.types.placements import CLIENTS
from tffx.types.placements import SERVER
from tffx_test.types.type_test_utils import AttrsLike
from tffx_test.types.type_test_utils import Pair
from tffx_test.types.type_test_utils import Point

try:
  import attrs  # pylint: disable=g-import-not-at-top
except ImportError:  # attrs is optional: tffx recognizes it without importing.
  attrs = None


I32 = TensorType(np.int32)
F32 = TensorType(np.float32)

# One type of every kind, for the properties every type has.
_ONE_OF_EACH_KIND = [
    ('tensor', I32),
    ('tensor_with_shape', TensorType(np.float32, [2, None])),
    ('tensor_of_unknown_rank', TensorType(np.float32, None)),
    ('string_tensor', TensorType(np.str_, [3])),
    ('bfloat16_tensor', TensorType(tf.bfloat16)),
    ('struct', StructType([('a', np.int32), np.float32])),
    ('empty_struct', StructType([])),
    ('list_struct', StructWithPythonType([np.int32, np.float32], list)),
    ('tuple_struct', StructWithPythonType([np.int32], tuple)),
    ('dict_struct', StructWithPythonType([('a', np.int32)], dict)),
    ('ordered_dict_struct',
     StructWithPythonType([('a', np.int32)], collections.OrderedDict)),
    ('namedtuple_struct',
     StructWithPythonType([('x', np.int32), ('y', np.float32)], Point)),
    ('dataclass_struct',
     StructWithPythonType([('a', np.int32), ('b', np.float32)], Pair)),
    ('attrs_struct',
     StructWithPythonType([('a', np.int32), ('b', np.float32)], AttrsLike)),
    ('sequence', SequenceType(StructType([('a', np.int32)]))),
    ('function', FunctionType(np.int32, np.float32)),
    ('function_without_parameter', FunctionType(None, np.int32)),
    ('abstract', AbstractType('T')),
    ('placement', PlacementType()),
    ('federated_at_clients', FederatedType(np.int32, CLIENTS)),
    ('all_equal_at_clients', FederatedType(np.int32, CLIENTS, True)),
    ('federated_at_server', FederatedType([np.int32], SERVER)),
    ('not_all_equal_at_server', FederatedType(np.int32, SERVER, False)),
]

_REPR_NAMESPACE = {
    'np': np,
    'collections': collections,
    'TensorType': TensorType,
    'StructType': StructType,
    'StructWithPythonType': StructWithPythonType,
    'SequenceType': SequenceType,
    'FunctionType': FunctionType,
    'AbstractType': AbstractType,
    'PlacementType': PlacementType,
    'FederatedType': FederatedType,
    'CLIENTS': CLIENTS,
    'SERVER': SERVER,
    'Point': Point,
    'Pair': Pair,
    'AttrsLike': AttrsLike,
}


def _eval_repr(type_spec):
  return eval(repr(type_spec), dict(_REPR_NAMESPACE))  # pylint: disable=eval-used


class TensorTypeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('numpy_class', np.int32),
      ('numpy_dtype', np.dtype(np.int32)),
      ('tf_dtype', tf.int32),
      ('name', 'int32'),
      ('big_endian', np.dtype('>i4')),
  )
  def test_dtype_is_numpy_dtype_for_every_spelling(self, dtype):

    tensor_type = TensorType(dtype)

    self.assertEqual(tensor_type.dtype, np.dtype(np.int32))
    self.assertIs(tensor_type, I32)

  @parameterized.named_parameters(
      ('numpy_str', np.str_),
      ('numpy_bytes', np.bytes_),
      ('numpy_object', np.object_),
      ('python_str', str),
      ('python_bytes', bytes),
      ('tf_string', tf.string),
  )
  def test_string_dtypes_become_one_str_dtype(self, dtype):

    tensor_type = TensorType(dtype)

    self.assertIs(tensor_type, TensorType(np.str_))
    self.assertEqual(tensor_type.tf_dtype, tf.string)
    self.assertEqual(str(tensor_type), 'str')

  @parameterized.named_parameters(
      ('list', [2, None], (2, None)),
      ('tuple', (2, None), (2, None)),
      ('tensor_shape', tf.TensorShape([2, None]), (2, None)),
      ('numpy_ints', [np.int64(2), np.int32(3)], (2, 3)),
      ('int', 3, (3,)),
      ('scalar', [], ()),
      ('unknown_rank', None, None),
      ('unknown_rank_tensor_shape', tf.TensorShape(None), None),
  )
  def test_shape_is_normalized(self, shape, expected):

    tensor_type = TensorType(np.float32, shape)

    self.assertEqual(tensor_type.shape, expected)

  def test_shape_defaults_to_scalar(self):

    tensor_type = TensorType(np.float32)

    self.assertEqual(tensor_type.shape, ())

  @parameterized.named_parameters(
      ('int32', np.int32, tf.int32),
      ('bool', np.bool_, tf.bool),
      ('bfloat16', tf.bfloat16, tf.bfloat16),
      ('uint8', np.uint8, tf.uint8),
  )
  def test_tf_dtype_matches_dtype(self, dtype, expected):

    tf_dtype = TensorType(dtype).tf_dtype

    self.assertEqual(tf_dtype, expected)

  @parameterized.named_parameters(
      ('none', None, (), 'found None'),
      ('datetime', np.dtype('datetime64[s]'), (), 'Expected a tensor dtype'),
      ('long_double', np.longdouble, (), 'Expected a tensor dtype'),
      ('quantized', tf.qint8, (), 'Expected a tensor dtype'),
      ('resource', tf.resource, (), 'numpy counterpart'),
      ('variant', tf.variant, (), 'numpy counterpart'),
      ('unknown_name', 'not_a_dtype', (), 'Expected a numpy dtype'),
      ('negative_dim', np.int32, [-1], 'non-negative ints or None'),
      ('float_dim', np.int32, [1.5], 'found 1.5'),
      ('bool_dim', np.int32, [True], 'found True'),
      ('string_shape', np.int32, 'ab', "found 'a'"),
      ('object_shape', np.int32, object(), 'Expected a shape'),
  )
  def test_construction_raises_for_invalid_dtype_or_shape(self, dtype, shape,
                                                           message):

    with self.assertRaisesRegex(errors.InvalidTypeError, message):
      TensorType(dtype, shape)


class StructTypeTest(parameterized.TestCase):

  def test_elements_are_reachable_by_index_name_and_attribute(self):
    struct_type = StructType([('a', np.int32), np.float32, ('c', np.bool_)])

    self.assertIs(struct_type[0], I32)
    self.assertIs(struct_type['a'], I32)
    self.assertIs(struct_type.a, I32)
    self.assertIs(struct_type[1], F32)
    self.assertIs(struct_type.c, TensorType(np.bool_))
    self.assertEqual(struct_type[-1], TensorType(np.bool_))
    self.assertEqual(struct_type[:2], [I32, F32])
    self.assertLen(struct_type, 3)
    self.assertEqual(list(struct_type), [I32, F32, TensorType(np.bool_)])
    self.assertEqual(struct_type.names(), ['a', None, 'c'])
    self.assertEqual(
        list(struct_type.items()),
        [('a', I32), (None, F32), ('c', TensorType(np.bool_))])
    self.assertIsNone(struct_type.python_container)
    self.assertIn('a', dir(struct_type))

  def test_getitem_raises_key_error_for_unknown_name(self):
    struct_type = StructType([('a', np.int32)])

    with self.assertRaisesRegex(KeyError, "no element named 'b'"):
      struct_type['b']  # pylint: disable=pointless-statement

  def test_getattr_raises_attribute_error_for_unknown_name(self):
    struct_type = StructType([('a', np.int32)])

    with self.assertRaisesRegex(AttributeError, "no element named 'b'"):
      struct_type.b  # pylint: disable=pointless-statement
    self.assertFalse(hasattr(struct_type, 'b'))

  @parameterized.named_parameters(
      ('named_pairs', [('a', np.int32), ('b', np.float32)]),
      ('tuple_of_pairs', (('a', np.int32), ('b', np.float32))),
      ('dict', {'a': np.int32, 'b': np.float32}),
      ('ordered_dict', collections.OrderedDict(a=np.int32, b=np.float32)),
      ('dataclass', Pair(np.int32, np.float32)),
      ('attrs', AttrsLike(np.int32, np.float32)),
      ('struct_type', StructWithPythonType([('a', I32), ('b', F32)], dict)),
  )
  def test_construction_accepts_every_element_form(self, elements):

    struct_type = StructType(elements)

    self.assertIs(struct_type, StructType([('a', I32), ('b', F32)]))

  def test_construction_accepts_unnamed_and_none_named_elements(self):

    struct_type = StructType([np.int32, (None, np.float32)])

    self.assertEqual(struct_type.names(), [None, None])
    self.assertEqual(list(struct_type), [I32, F32])

  def test_construction_converts_nested_specs(self):

    struct_type = StructType([('a', [np.int32, (np.float32, [2])])])

    self.assertIs(
        struct_type.a,
        StructWithPythonType([I32, TensorType(np.float32, [2])], list))

  @parameterized.named_parameters(
      ('duplicate_names', [('a', np.int32), ('a', np.int32)],
       "found 'a' more than once"),
      ('empty_name', [('', np.int32)], "non-empty strings, found ''"),
      ('int_name', {1: np.int32}, 'non-empty strings, found 1'),
      ('not_a_container', 3, 'Expected struct elements'),
      ('not_a_type', [('a', 'int32')], None),
  )
  def test_construction_raises_for_invalid_elements(self, elements, message):

    with self.assertRaises(TypeError) as raised:
      StructType(elements)

    if message is None:
      self.assertIsInstance(raised.exception, errors.UnsupportedTypeSpecError)
    else:
      self.assertIsInstance(raised.exception, errors.InvalidTypeError)
      self.assertIn(message, str(raised.exception))


class StructWithPythonTypeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('list', [np.int32], list),
      ('tuple', [np.int32], tuple),
      ('named_list', [('a', np.int32)], list),
      ('dict', [('a', np.int32)], dict),
      ('ordered_dict', [('a', np.int32)], collections.OrderedDict),
      ('namedtuple', [('x', np.int32), ('y', np.int32)], Point),
      ('dataclass', [('a', np.int32), ('b', np.int32)], Pair),
      ('attrs', [('a', np.int32), ('b', np.int32)], AttrsLike),
  )
  def test_python_container_is_the_given_class(self, elements, container):

    struct_type = StructWithPythonType(elements, container)

    self.assertIs(struct_type.python_container, container)
    self.assertIsInstance(struct_type, StructType)

  @parameterized.named_parameters(
      ('not_a_class', [np.int32], 3, 'Expected a Python container class'),
      ('not_a_container_class', [np.int32], int,
       'Expected a Python container class'),
      ('unnamed_dict', [np.int32], dict, 'to be named'),
      ('partly_named_ordered_dict', [('a', np.int32), np.int32],
       collections.OrderedDict, 'to be named'),
      ('namedtuple_wrong_names', [('a', np.int32), ('b', np.int32)], Point,
       "fields ['x', 'y']"),
      ('namedtuple_unnamed', [np.int32, np.int32], Point, "fields ['x', 'y']"),
      ('dataclass_wrong_order', [('b', np.int32), ('a', np.int32)], Pair,
       "fields ['a', 'b']"),
      ('attrs_missing_field', [('a', np.int32)], AttrsLike,
       "fields ['a', 'b']"),
  )
  def test_construction_raises_for_invalid_container(self, elements, container,
                                                      message):

    with self.assertRaises(errors.InvalidTypeError) as raised:
      StructWithPythonType(elements, container)

    self.assertIn(message, str(raised.exception))


class OtherTypesTest(parameterized.TestCase):

  def test_sequence_type_has_element(self):

    sequence_type = SequenceType([('a', np.int32)])

    self.assertIs(sequence_type.element, StructType([('a', I32)]))
    self.assertEqual(list(sequence_type.children()), [sequence_type.element])

  def test_function_type_has_parameter_and_result(self):

    function_type = FunctionType(np.int32, [np.float32])

    self.assertIs(function_type.parameter, I32)
    self.assertIs(function_type.result, StructWithPythonType([F32], list))
    self.assertEqual(list(function_type.children()),
                     [function_type.parameter, function_type.result])

  def test_function_type_without_parameter_has_none(self):

    function_type = FunctionType(None, np.int32)

    self.assertIsNone(function_type.parameter)
    self.assertEqual(list(function_type.children()), [I32])

  def test_abstract_type_has_label(self):

    abstract_type = AbstractType('T')

    self.assertEqual(abstract_type.label, 'T')
    self.assertEqual(list(abstract_type.children()), [])

  @parameterized.named_parameters(
      ('server_default', SERVER, None, True),
      ('clients_default', CLIENTS, None, False),
      ('server_not_all_equal', SERVER, False, False),
      ('clients_all_equal', CLIENTS, True, True),
      ('numpy_bool', CLIENTS, np.bool_(True), True),
  )
  def test_federated_type_all_equal(self, placement, all_equal, expected):

    federated_type = FederatedType(np.int32, placement, all_equal)

    self.assertIs(federated_type.all_equal, expected)
    self.assertIs(federated_type.placement, placement)
    self.assertIs(federated_type.member, I32)

  @parameterized.named_parameters(
      ('clients', computation_types.type_at_clients(np.int32),
       FederatedType(np.int32, CLIENTS, False)),
      ('clients_all_equal',
       computation_types.type_at_clients(np.int32, all_equal=True),
       FederatedType(np.int32, CLIENTS, True)),
      ('server', computation_types.type_at_server([np.int32]),
       FederatedType([np.int32], SERVER, True)),
  )
  def test_type_at_helpers_build_federated_types(self, built, expected):

    self.assertIs(built, expected)

  def test_compact_representation_is_str(self):
    federated_type = computation_types.type_at_server([('a', np.int32)])

    representation = federated_type.compact_representation()

    self.assertEqual(representation, '<a=int32>@SERVER')

  def test_base_type_cannot_be_constructed(self):

    with self.assertRaisesRegex(TypeError, 'abstract'):
      computation_types.Type()


class InvalidTypesTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('federated_in_federated',
       lambda: FederatedType(FederatedType(np.int32, CLIENTS), SERVER),
       'found {int32}@CLIENTS.'),
      ('federated_in_struct_in_federated',
       lambda: FederatedType([FederatedType(np.int32, SERVER)], SERVER),
       'found int32@SERVER inside <int32@SERVER>'),
      ('function_in_federated',
       lambda: FederatedType(FunctionType(None, np.int32), CLIENTS),
       'found ( -> int32)'),
      ('placement_in_federated',
       lambda: FederatedType(PlacementType(), SERVER), 'found placement'),
      ('function_in_sequence',
       lambda: SequenceType(FunctionType(None, np.int32)),
       'in the element of a sequence type'),
      ('sequence_in_sequence', lambda: SequenceType(SequenceType(np.int32)),
       'found int32*'),
      ('sequence_in_struct_in_sequence',
       lambda: SequenceType([('a', SequenceType(np.int32))]),
       'found int32* inside <a=int32*>'),
      ('federated_in_sequence',
       lambda: SequenceType(FederatedType(np.int32, SERVER)),
       'found int32@SERVER'),
      ('placement_in_sequence', lambda: SequenceType(PlacementType()),
       'found placement'),
      ('string_placement', lambda: FederatedType(np.int32, 'clients'),
       'Expected a placement'),
      ('non_bool_all_equal', lambda: FederatedType(np.int32, CLIENTS, 'yes'),
       'Expected all_equal to be a bool'),
      ('empty_abstract_label', lambda: AbstractType(''),
       'non-empty string label'),
      ('non_string_abstract_label', lambda: AbstractType(3),
       'non-empty string label'),
      ('duplicate_names', lambda: StructType([('a', np.int32),
                                              ('a', np.float32)]),
       'more than once'),
      ('bad_dims', lambda: TensorType(np.int32, [2, -3]), 'found -3'),
  )
  def test_construction_raises_invalid_type_error(self, build, message):

    with self.assertRaises(errors.InvalidTypeError) as raised:
      build()

    self.assertIn(message, str(raised.exception))

  def test_federated_type_may_hold_sequence_and_struct_of_sequences(self):

    federated_type = FederatedType([('a', SequenceType(np.int32))], CLIENTS)

    self.assertEqual(str(federated_type), '{<a=int32*>}@CLIENTS')

  def test_struct_and_function_may_hold_federated_types(self):
    at_clients = computation_types.type_at_clients(np.int32)

    function_type = FunctionType([at_clients], at_clients)

    self.assertEqual(str(function_type),
                     '(<{int32}@CLIENTS> -> {int32}@CLIENTS)')


def _fn(parameter, result):
  return FunctionType(parameter, result)


# (name, target, source, target.is_assignable_from(source))
_ASSIGNABILITY_CASES = [
    ('tensor_same', I32, I32, True),
    ('tensor_other_dtype', I32, TensorType(np.int64), False),
    ('tensor_float_from_int', F32, I32, False),
    ('tensor_same_shape', TensorType(np.int32, [2, 3]),
     TensorType(np.int32, [2, 3]), True),
    ('tensor_other_size', TensorType(np.int32, [2]),
     TensorType(np.int32, [3]), False),
    ('tensor_unknown_dim_accepts_any_size', TensorType(np.int32, [None, 3]),
     TensorType(np.int32, [7, 3]), True),
    ('tensor_known_dim_refuses_unknown', TensorType(np.int32, [7]),
     TensorType(np.int32, [None]), False),
    ('tensor_other_rank', TensorType(np.int32, [None]),
     TensorType(np.int32, [2, 2]), False),
    ('tensor_scalar_from_vector', I32, TensorType(np.int32, [1]), False),
    ('tensor_unknown_rank_accepts_scalar', TensorType(np.int32, None), I32,
     True),
    ('tensor_unknown_rank_accepts_any_shape', TensorType(np.int32, None),
     TensorType(np.int32, [2, None, 4]), True),
    ('tensor_unknown_rank_accepts_unknown_rank', TensorType(np.int32, None),
     TensorType(np.int32, None), True),
    ('tensor_unknown_rank_keeps_dtype', TensorType(np.int32, None),
     TensorType(np.int64, [2]), False),
    ('tensor_known_rank_refuses_unknown_rank', TensorType(np.int32, [None]),
     TensorType(np.int32, None), False),
    ('tensor_from_struct', I32, StructType([I32]), False),
    ('struct_same', StructType([('a', I32), ('b', F32)]),
     StructType([('a', I32), ('b', F32)]), True),
    ('struct_other_names', StructType([('a', I32)]), StructType([('b', I32)]),
     False),
    ('struct_swapped_names', StructType([('a', I32), ('b', I32)]),
     StructType([('b', I32), ('a', I32)]), False),
    ('struct_named_from_unnamed', StructType([('a', I32), ('b', F32)]),
     StructType([I32, F32]), True),
    ('struct_named_from_partly_named', StructType([('a', I32), ('b', F32)]),
     StructType([I32, ('b', F32)]), True),
    ('struct_unnamed_from_named', StructType([I32]), StructType([('a', I32)]),
     False),
    ('struct_other_length', StructType([I32]), StructType([I32, I32]), False),
    ('struct_element_not_assignable', StructType([('a', I32)]),
     StructType([('a', F32)]), False),
    ('struct_element_unknown_dim', StructType([TensorType(np.int32, [None])]),
     StructType([TensorType(np.int32, [5])]), True),
    ('struct_nested', StructType([('a', [('b', TensorType(np.int32, None))])]),
     StructType([('a', [('b', TensorType(np.int32, [1]))])]), True),
    ('struct_nested_not_assignable', StructType([('a', [I32, I32])]),
     StructType([('a', [I32, F32])]), False),
    ('struct_container_ignored_list_tuple', StructWithPythonType([I32], list),
     StructWithPythonType([I32], tuple), True),
    ('struct_container_ignored_plain_dict',
     StructType([('a', I32)]), StructWithPythonType([('a', I32)], dict), True),
    ('struct_container_ignored_namedtuple',
     StructWithPythonType([('x', I32), ('y', I32)], dict),
     StructWithPythonType([('x', I32), ('y', I32)], Point), True),
    ('struct_from_tensor', StructType([I32]), I32, False),
    ('sequence_same', SequenceType(I32), SequenceType(I32), True),
    ('sequence_element_unknown_dim', SequenceType(TensorType(np.int32, [None])),
     SequenceType(TensorType(np.int32, [3])), True),
    ('sequence_element_not_assignable', SequenceType(I32), SequenceType(F32),
     False),
    ('sequence_from_tensor', SequenceType(I32), I32, False),
    ('function_same', _fn(I32, F32), _fn(I32, F32), True),
    ('function_parameter_contravariant',
     _fn(TensorType(np.int32, [2]), F32),
     _fn(TensorType(np.int32, [None]), F32), True),
    ('function_parameter_not_covariant',
     _fn(TensorType(np.int32, [None]), F32),
     _fn(TensorType(np.int32, [2]), F32), False),
    ('function_result_covariant', _fn(None, TensorType(np.int32, [None])),
     _fn(None, TensorType(np.int32, [2])), True),
    ('function_result_not_contravariant', _fn(None, TensorType(np.int32, [2])),
     _fn(None, TensorType(np.int32, [None])), False),
    ('function_parameter_dtype', _fn(I32, F32), _fn(F32, F32), False),
    ('function_without_from_with_parameter', _fn(None, F32), _fn(I32, F32),
     False),
    ('function_with_from_without_parameter', _fn(I32, F32), _fn(None, F32),
     False),
    ('function_from_tensor', _fn(None, I32), I32, False),
    ('abstract_same', AbstractType('T'), AbstractType('T'), True),
    ('abstract_other_label', AbstractType('T'), AbstractType('U'), False),
    ('abstract_from_tensor', AbstractType('T'), I32, False),
    ('placement_same', PlacementType(), PlacementType(), True),
    ('placement_from_tensor', PlacementType(), I32, False),
    ('federated_same', FederatedType(I32, CLIENTS), FederatedType(I32, CLIENTS),
     True),
    ('federated_other_placement', FederatedType(I32, CLIENTS, True),
     FederatedType(I32, SERVER), False),
    ('federated_member_not_assignable', FederatedType(I32, SERVER),
     FederatedType(F32, SERVER), False),
    ('federated_member_unknown_dim',
     FederatedType(TensorType(np.int32, [None]), SERVER),
     FederatedType(TensorType(np.int32, [4]), SERVER), True),
    ('federated_not_all_equal_from_all_equal', FederatedType(I32, CLIENTS),
     FederatedType(I32, CLIENTS, True), True),
    ('federated_all_equal_from_not_all_equal',
     FederatedType(I32, CLIENTS, True), FederatedType(I32, CLIENTS), False),
    ('federated_server_all_equal_from_not', FederatedType(I32, SERVER),
     FederatedType(I32, SERVER, False), False),
    ('federated_from_member', FederatedType(I32, SERVER), I32, False),
]


class AssignabilityTest(parameterized.TestCase):

  @parameterized.named_parameters(_ASSIGNABILITY_CASES)
  def test_is_assignable_from(self, target, source, expected):

    result = target.is_assignable_from(source)

    self.assertIs(result, expected)

  @parameterized.named_parameters(
      (name, target, source)
      for name, target, source, expected in _ASSIGNABILITY_CASES if expected)
  def test_check_assignable_from_passes_when_assignable(self, target, source):

    target.check_assignable_from(source)

  @parameterized.named_parameters(
      (name, target, source)
      for name, target, source, expected in _ASSIGNABILITY_CASES
      if not expected)
  def test_check_assignable_from_raises_when_not_assignable(self, target,
                                                             source):

    with self.assertRaises(errors.TypeNotAssignableError) as raised:
      target.check_assignable_from(source)

    self.assertIn(f'Expected {target} to be assignable from {source}.',
                  str(raised.exception))
    self.assertIs(raised.exception.target, target)
    self.assertIs(raised.exception.source, source)


# (name, first, second, first.is_equivalent_to(second))
_EQUIVALENCE_CASES = [
    ('tensor_same', TensorType(np.int32, [2]), TensorType(tf.int32, (2,)),
     True),
    ('tensor_unknown_dim', TensorType(np.int32, [None]),
     TensorType(np.int32, [2]), False),
    ('tensor_unknown_rank', TensorType(np.int32, None), I32, False),
    ('struct_containers_differ', StructWithPythonType([I32], list),
     StructWithPythonType([I32], tuple), True),
    ('struct_plain_and_dict', StructType([('a', I32)]),
     StructWithPythonType([('a', I32)], collections.OrderedDict), True),
    ('struct_named_and_unnamed', StructType([('a', I32)]), StructType([I32]),
     False),
    ('federated_all_equal_differs', FederatedType(I32, CLIENTS),
     FederatedType(I32, CLIENTS, True), False),
    ('federated_member_containers_differ',
     FederatedType(StructWithPythonType([I32], list), SERVER),
     FederatedType(StructWithPythonType([I32], tuple), SERVER), True),
    ('function_same', _fn(I32, I32), _fn(I32, I32), True),
    ('function_parameter_unknown_dim', _fn(TensorType(np.int32, [None]), I32),
     _fn(TensorType(np.int32, [2]), I32), False),
    ('different_kinds', I32, SequenceType(I32), False),
]


class EquivalenceTest(parameterized.TestCase):

  @parameterized.named_parameters(_EQUIVALENCE_CASES)
  def test_is_equivalent_to_is_symmetric(self, first, second, expected):

    forward = first.is_equivalent_to(second)
    backward = second.is_equivalent_to(first)

    self.assertIs(forward, expected)
    self.assertIs(backward, expected)

  @parameterized.named_parameters(
      (name, first, second)
      for name, first, second, expected in _EQUIVALENCE_CASES if not expected)
  def test_check_equivalent_to_raises_when_not_equivalent(self, first, second):

    with self.assertRaises(errors.TypesNotEquivalentError) as raised:
      first.check_equivalent_to(second)

    self.assertIn(f'Expected {first} to be equivalent to {second}.',
                  str(raised.exception))

  @parameterized.named_parameters(
      (name, first, second)
      for name, first, second, expected in _EQUIVALENCE_CASES if expected)
  def test_check_equivalent_to_passes_when_equivalent(self, first, second):

    first.check_equivalent_to(second)


# (name, first, second, first.is_identical_to(second))
_IDENTITY_CASES = [
    ('tensor_spellings', TensorType(np.int32, [2]), TensorType(tf.int32, (2,)),
     True),
    ('list_and_tuple', StructWithPythonType([I32], list),
     StructWithPythonType([I32], tuple), False),
    ('plain_and_list', StructType([I32]), StructWithPythonType([I32], list),
     False),
    ('dict_and_ordered_dict', StructWithPythonType([('a', I32)], dict),
     StructWithPythonType([('a', I32)], collections.OrderedDict), False),
    ('namedtuple_and_dict',
     StructWithPythonType([('x', I32), ('y', I32)], Point),
     StructWithPythonType([('x', I32), ('y', I32)], dict), False),
    ('same_namedtuple', StructWithPythonType([('x', I32), ('y', I32)], Point),
     computation_types.to_type(Point(np.int32, np.int32)), True),
    ('nested_containers_differ',
     FederatedType([StructWithPythonType([I32], list)], SERVER),
     FederatedType([StructWithPythonType([I32], tuple)], SERVER), False),
    ('equivalent_federated', FederatedType(I32, SERVER),
     FederatedType(I32, SERVER, True), True),
]


class IdentityTest(parameterized.TestCase):

  @parameterized.named_parameters(_IDENTITY_CASES)
  def test_is_identical_to(self, first, second, expected):

    result = first.is_identical_to(second)

    self.assertIs(result, expected)
    self.assertIs(first == second, expected)

  @parameterized.named_parameters(
      (name, first, second)
      for name, first, second, expected in _IDENTITY_CASES if not expected)
  def test_check_identical_to_raises_when_not_identical(self, first, second):

    with self.assertRaises(errors.TypesNotIdenticalError) as raised:
      first.check_identical_to(second)

    self.assertIn(f'Expected {first} to be identical to {second}.',
                  str(raised.exception))

  @parameterized.named_parameters(
      (name, first, second)
      for name, first, second, expected in _IDENTITY_CASES if expected)
  def test_check_identical_to_passes_when_identical(self, first, second):

    first.check_identical_to(second)


class StringFormTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('scalar', I32, 'int32'),
      ('bool', TensorType(np.bool_), 'bool'),
      ('string', TensorType(tf.string, [2]), 'str[2]'),
      ('shape_with_unknown_dim', TensorType(np.float32, [2, None]),
       'float32[2,?]'),
      ('unknown_rank', TensorType(np.float32, None), 'float32[?]'),
      ('zero_dim', TensorType(np.float32, [0]), 'float32[0]'),
      ('named_struct', StructType([('a', np.int32), ('b', np.float32)]),
       '<a=int32,b=float32>'),
      ('mixed_struct', StructType([('a', np.int32), np.float32]),
       '<a=int32,float32>'),
      ('container_struct', StructWithPythonType([np.int32], list), '<int32>'),
      ('empty_struct', StructType([]), '<>'),
      ('nested_struct', StructType([('a', [np.int32, [('b', np.bool_)]])]),
       '<a=<int32,<b=bool>>>'),
      ('sequence', SequenceType(np.float32), 'float32*'),
      ('sequence_of_struct', SequenceType([('x', np.int32)]), '<x=int32>*'),
      ('function', FunctionType(np.int32, np.float32), '(int32 -> float32)'),
      ('function_without_parameter', FunctionType(None, np.int32),
       '( -> int32)'),
      ('function_of_struct', FunctionType([np.int32, np.int32], np.int32),
       '(<int32,int32> -> int32)'),
      ('abstract', AbstractType('T'), 'T'),
      ('placement', PlacementType(), 'placement'),
      ('clients', FederatedType(np.float32, CLIENTS), '{float32}@CLIENTS'),
      ('server', FederatedType(np.float32, SERVER), 'float32@SERVER'),
      ('all_equal_clients', FederatedType(np.float32, CLIENTS, True),
       'float32@CLIENTS'),
      ('not_all_equal_server', FederatedType(np.float32, SERVER, False),
       '{float32}@SERVER'),
      ('federated_struct', FederatedType([('a', np.int32)], SERVER),
       '<a=int32>@SERVER'),
      ('federated_sequence', FederatedType(SequenceType(np.int32), CLIENTS),
       '{int32*}@CLIENTS'),
      ('function_of_federated',
       FunctionType(FederatedType(np.int32, CLIENTS),
                    FederatedType(np.int32, SERVER)),
       '({int32}@CLIENTS -> int32@SERVER)'),
  )
  def test_str(self, type_spec, expected):

    string = str(type_spec)

    self.assertEqual(string, expected)

  # TFF's reprs of container structs (`... as list`) and federated types
  # (`PlacementLiteral('clients')`) are not Python source.
  @parameterized.named_parameters(
      (name, t) for name, t in _ONE_OF_EACH_KIND
      if not isinstance(t, (StructWithPythonType, FederatedType)))
  def test_repr_round_trips_through_eval(self, type_spec):

    rebuilt = _eval_repr(type_spec)

    self.assertIs(rebuilt, type_spec)

  @parameterized.named_parameters(
      ('tensor', TensorType(np.float32, [2, None]),
       'TensorType(np.float32, (2, None))'),
      ('vector', TensorType(np.int32, [10]), 'TensorType(np.int32, (10,))'),
      ('scalar', I32, 'TensorType(np.int32)'),
      ('unknown_rank', TensorType(np.int32, None),
       'TensorType(np.int32, None)'),
      ('string', TensorType(np.str_), 'TensorType(np.str_)'),
      ('bfloat16', TensorType(tf.bfloat16), "TensorType(np.dtype('bfloat16'))"),
      ('struct', StructType([('a', np.int32), np.bool_]),
       "StructType([('a', TensorType(np.int32)), TensorType(np.bool)])"),
      ('ordered_dict', StructWithPythonType([('a', np.int32)],
                                            collections.OrderedDict),
       "StructType([('a', TensorType(np.int32))]) as OrderedDict"),
      ('list', StructWithPythonType([np.int32, np.bool_], list),
       'StructType([TensorType(np.int32), TensorType(np.bool)]) as list'),
      ('named_tuple', computation_types.to_type(Point(np.int32, np.int32)),
       "StructType([('x', TensorType(np.int32)), ('y', TensorType(np.int32))])"
       " as Point"),
      ('sequence', SequenceType(StructType([np.int32, np.bool_])),
       'SequenceType(StructType([TensorType(np.int32), '
       'TensorType(np.bool)]))'),
      ('server_default', FederatedType(np.int32, SERVER),
       "FederatedType(TensorType(np.int32), PlacementLiteral('server'), True)"),
      ('clients_all_equal', FederatedType(np.float32, CLIENTS, True),
       "FederatedType(TensorType(np.float32), PlacementLiteral('clients'), "
       "True)"),
      ('clients', FederatedType(np.int32, CLIENTS),
       "FederatedType(TensorType(np.int32), PlacementLiteral('clients'), "
       "False)"),
      ('abstract', AbstractType('T'), "AbstractType('T')"),
      ('placement', PlacementType(), 'PlacementType()'),
      ('function', FunctionType(None, np.int32),
       'FunctionType(None, TensorType(np.int32))'),
  )
  def test_repr(self, type_spec, expected):

    representation = repr(type_spec)

    self.assertEqual(representation, expected)


class ValueSemanticsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('tensor', lambda: TensorType(np.int32, [2])),
      ('struct', lambda: StructType([('a', np.int32), np.float32])),
      ('list_struct', lambda: StructWithPythonType([np.int32], list)),
      ('namedtuple', lambda: computation_types.to_type(Point(np.int32,
                                                             np.int32))),
      ('sequence', lambda: SequenceType(np.int32)),
      ('function', lambda: FunctionType(np.int32, np.int32)),
      ('abstract', lambda: AbstractType('T')),
      ('placement', PlacementType),
      ('federated', lambda: FederatedType(np.int32, CLIENTS)),
  )
  def test_constructing_twice_returns_same_object(self, build):

    first = build()
    second = build()

    self.assertIs(first, second)

  def test_tensor_types_are_interned_across_numpy_and_tensorflow(self):

    from_numpy = TensorType(np.int32)
    from_tensorflow = TensorType(tf.int32)

    self.assertIs(from_numpy, from_tensorflow)

  def test_struct_with_container_is_not_the_plain_struct(self):

    plain = StructType([np.int32])
    with_container = StructWithPythonType([np.int32], list)

    self.assertIsNot(plain, with_container)
    self.assertNotEqual(plain, with_container)

  @parameterized.named_parameters(_ONE_OF_EACH_KIND)
  def test_setattr_raises(self, type_spec):

    with self.assertRaisesRegex(AttributeError, 'immutable'):
      type_spec._key = ()  # pylint: disable=protected-access
    with self.assertRaisesRegex(AttributeError, 'immutable'):
      type_spec.new_attribute = 1

  @parameterized.named_parameters(_ONE_OF_EACH_KIND)
  def test_delattr_raises(self, type_spec):

    with self.assertRaisesRegex(AttributeError, 'immutable'):
      del type_spec._key  # pylint: disable=protected-access

  @parameterized.named_parameters(_ONE_OF_EACH_KIND)
  def test_hash_is_usable_as_dict_key(self, type_spec):
    rebuilt = pickle.loads(pickle.dumps(type_spec))

    table = {type_spec: 'value'}

    self.assertEqual(hash(rebuilt), hash(type_spec))
    self.assertEqual(table[rebuilt], 'value')

  @parameterized.named_parameters(_ONE_OF_EACH_KIND)
  def test_pickling_returns_interned_type(self, type_spec):

    unpickled = pickle.loads(pickle.dumps(type_spec))

    self.assertIs(unpickled, type_spec)

  @parameterized.named_parameters(_ONE_OF_EACH_KIND)
  def test_copy_and_deepcopy_return_same_object(self, type_spec):

    shallow = copy.copy(type_spec)
    deep = copy.deepcopy(type_spec)

    self.assertIs(shallow, type_spec)
    self.assertIs(deep, type_spec)


def _dataset_spec(element_spec):
  return tf.data.DatasetSpec(element_spec)


class ToTypeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('type', F32, F32),
      ('numpy_class', np.int32, I32),
      ('numpy_dtype', np.dtype('float32'), F32),
      ('tf_dtype', tf.int32, I32),
      ('tf_string', tf.string, TensorType(np.str_)),
      ('tensor_spec', tf.TensorSpec([None, 3], tf.float32),
       TensorType(np.float32, [None, 3])),
      ('tensor_spec_unknown_rank', tf.TensorSpec(None, tf.int64),
       TensorType(np.int64, None)),
      ('dtype_shape_pair', (np.float32, [2, None]),
       TensorType(np.float32, [2, None])),
      ('tf_dtype_shape_pair', (tf.int32, (3,)), TensorType(np.int32, [3])),
      ('dtype_int_shape_pair', (np.int32, 4), TensorType(np.int32, [4])),
      ('dtype_scalar_pair', (np.int32, []), I32),
      ('dtype_tensor_shape_pair', (np.int32, tf.TensorShape([None])),
       TensorType(np.int32, [None])),
      ('dtype_unknown_rank_pair', (np.int32, None), TensorType(np.int32, None)),
      ('pair_of_dtypes', (np.int32, np.float32),
       StructWithPythonType([I32, F32], tuple)),
      ('list', [np.int32, np.float32], StructWithPythonType([I32, F32], list)),
      ('empty_list', [], StructWithPythonType([], list)),
      ('tuple', (np.int32,), StructWithPythonType([I32], tuple)),
      ('dict', {'a': np.int32, 'b': tf.float32},
       StructWithPythonType([('a', I32), ('b', F32)], dict)),
      ('ordered_dict', collections.OrderedDict(b=np.int32, a=np.float32),
       StructWithPythonType([('b', I32), ('a', F32)], collections.OrderedDict)),
      ('namedtuple', Point(np.int32, (np.float32, [2])),
       StructWithPythonType([('x', I32), ('y', TensorType(np.float32, [2]))],
                            Point)),
      ('dataclass', Pair(np.int32, np.float32),
       StructWithPythonType([('a', I32), ('b', F32)], Pair)),
      ('attrs', AttrsLike(np.int32, [np.float32]),
       StructWithPythonType([('a', I32),
                             ('b', StructWithPythonType([F32], list))],
                            AttrsLike)),
      ('named_pairs', [('a', np.int32), ('b', np.float32)],
       StructType([('a', I32), ('b', F32)])),
      ('named_and_unnamed_pairs', [('a', np.int32), np.float32],
       StructType([('a', I32), F32])),
      ('tuple_of_named_pairs', (('a', np.int32),), StructType([('a', I32)])),
      ('nested_containers', {'a': [np.int32, {'b': (np.float32, [None])}]},
       StructWithPythonType(
           [('a', StructWithPythonType(
               [I32, StructWithPythonType(
                   [('b', TensorType(np.float32, [None]))], dict)], list))],
           dict)),
      ('dataset_spec', _dataset_spec(tf.TensorSpec([2], tf.int32)),
       SequenceType(TensorType(np.int32, [2]))),
      ('dataset_spec_of_struct',
       _dataset_spec({'x': tf.TensorSpec([None], tf.float32),
                      'y': (tf.TensorSpec([], tf.int64),)}),
       SequenceType(StructWithPythonType(
           [('x', TensorType(np.float32, [None])),
            ('y', StructWithPythonType([TensorType(np.int64)], tuple))],
           dict))),
      ('struct_holding_dataset_spec',
       {'data': _dataset_spec(tf.TensorSpec([], tf.int32))},
       StructWithPythonType([('data', SequenceType(I32))], dict)),
  )
  def test_to_type_converts(self, spec, expected):

    converted = computation_types.to_type(spec)

    self.assertIs(converted, expected)

  def test_to_type_converts_element_spec_of_nested_dataset(self):
    dataset = tf.data.Dataset.from_tensor_slices({
        'x': np.zeros([4, 2], np.float32),
        'y': (np.zeros([4], np.int32), np.zeros([4, 3], np.int64)),
    }).batch(2)

    converted = computation_types.to_type(dataset.element_spec)

    self.assertEqual(str(converted), '<x=float32[?,2],y=<int32[?],int64[?,3]>>')
    self.assertIs(converted.python_container, dict)

  def test_to_type_converts_element_spec_of_dataset_of_datasets(self):
    dataset = tf.data.Dataset.range(6).window(3)

    converted = computation_types.to_type(dataset.element_spec)

    self.assertIs(converted, SequenceType(TensorType(np.int64)))

  def test_to_type_refuses_dataset_of_datasets_spec(self):
    dataset = tf.data.Dataset.range(6).window(3)

    with self.assertRaisesRegex(errors.InvalidTypeError,
                                'element of a sequence type'):
      computation_types.to_type(_dataset_spec(dataset.element_spec))

  def test_to_type_raises_for_non_string_dict_key(self):

    with self.assertRaisesRegex(errors.InvalidTypeError, 'found 1'):
      computation_types.to_type({1: np.int32})

  @absltest.skipIf(attrs is None, 'attrs is not installed')
  def test_to_type_converts_real_attrs_instance(self):

    @attrs.define
    class Model:
      w: object
      b: object

    converted = computation_types.to_type(Model(np.float32, np.int32))

    self.assertIs(converted,
                  StructWithPythonType([('w', F32), ('b', I32)], Model))

  @parameterized.named_parameters(
      ('none', None),
      ('int', 3),
      ('dtype_name', 'int32'),
      ('placement', CLIENTS),
      ('ragged_spec', tf.RaggedTensorSpec([None, None], tf.int32)),
      ('sparse_spec', tf.SparseTensorSpec([None], tf.int32)),
      ('object', object()),
      ('nested_unsupported', {'a': [np.int32, 'x']}),
  )
  def test_to_type_raises_for_unsupported_spec(self, spec):

    with self.assertRaisesRegex(errors.UnsupportedTypeSpecError,
                                'Expected a tffx type'):
      computation_types.to_type(spec)


class FormattedRepresentationTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('tensor', TensorType(np.int32, [2]), 'int32[2]'),
      ('empty_struct', StructType([]), '<>'),
      ('struct', StructType([('a', np.int32), ('b', [np.int32, np.bool_])]),
       '<\n  a=int32,\n  b=<\n    int32,\n    bool\n  >\n>'),
      ('federated', FederatedType([('x', np.int32)], CLIENTS),
       '{<\n  x=int32\n>}@CLIENTS'),
      ('all_equal', FederatedType(np.int32, SERVER), 'int32@SERVER'),
      ('sequence', SequenceType([np.int32]), '<\n  int32\n>*'),
      ('function', FunctionType(StructType([np.int32]), np.bool_),
       '(<\n  int32\n> -> bool)'),
      ('no_parameter', FunctionType(None, np.bool_), '( -> bool)'),
  )
  def test_formatted_representation(self, type_spec, expected):

    formatted = type_spec.formatted_representation()

    self.assertEqual(formatted, expected)

  def test_compact_representation_is_one_line(self):
    type_spec = StructType([('a', np.int32), ('b', [np.int32, np.bool_])])

    compact = type_spec.compact_representation()

    self.assertEqual(compact, '<a=int32,b=<int32,bool>>')


class TffToTypeFormsTest(parameterized.TestCase):

  def test_to_type_of_a_lone_named_pair_is_a_tuple_struct(self):

    type_spec = computation_types.to_type(('a', np.int32))

    self.assertIs(type_spec,
                  StructWithPythonType([('a', np.int32)], tuple))
    self.assertEqual(str(type_spec), '<a=int32>')

  def test_to_type_of_a_list_of_pairs_is_a_plain_struct(self):

    type_spec = computation_types.to_type([('a', np.int32), ('b', np.bool_)])

    self.assertIs(type_spec, StructType([('a', np.int32), ('b', np.bool_)]))

  def test_to_type_of_a_struct_is_a_plain_struct(self):
    struct = computation_types.struct_value.Struct([(None, np.int32),
                                                    ('b', np.int64)])

    type_spec = computation_types.to_type(struct)

    self.assertIs(type_spec, StructType([np.int32, ('b', np.int64)]))

  def test_at_clients_and_at_server(self):
    self.assertIs(computation_types.at_clients(np.int32),
                  FederatedType(np.int32, CLIENTS))
    self.assertIs(computation_types.at_server(np.int32),
                  FederatedType(np.int32, SERVER))


class SequenceElementContainerTest(absltest.TestCase):

  def test_list_element_becomes_tuple(self):

    type_spec = SequenceType(StructWithPythonType([np.int32, np.bool_], list))

    self.assertIs(type_spec.element.python_container, tuple)

  def test_nested_list_elements_become_tuples(self):
    inner = StructWithPythonType([np.int32, np.bool_], list)

    type_spec = SequenceType(
        StructWithPythonType([inner, ('a', inner)], list))

    self.assertIs(type_spec.element.python_container, tuple)
    self.assertIs(type_spec.element[0].python_container, tuple)
    self.assertIs(type_spec.element.a.python_container, tuple)

  def test_other_containers_are_kept(self):

    type_spec = SequenceType(
        StructWithPythonType([('a', np.int32)], collections.OrderedDict))

    self.assertIs(type_spec.element.python_container, collections.OrderedDict)


class InvalidMemberTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('federated', FederatedType(np.int32, CLIENTS)),
      ('function', FunctionType(np.int32, np.int32)),
      ('nested_function', StructType([FunctionType(np.int32, np.int32)])),
  )
  def test_federated_type_of_invalid_member_raises_value_error(self, member):
    with self.assertRaises(ValueError):
      FederatedType(member, CLIENTS)

  @parameterized.named_parameters(
      ('federated', FederatedType(np.int32, CLIENTS)),
      ('function', FunctionType(np.int32, np.int32)),
      ('sequence', SequenceType([np.int32])),
  )
  def test_sequence_type_of_invalid_element_raises_value_error(self, element):
    with self.assertRaises(ValueError):
      SequenceType(element)


if __name__ == '__main__':
  absltest.main()
