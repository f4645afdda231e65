"""Tests for type_analysis: TFF's predicates over types."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import type_analysis

I32 = ct.TensorType(np.int32)
F32 = ct.TensorType(np.float32)


class ContainsTest(parameterized.TestCase):

  def test_contains_finds_nested_type(self):
    type_spec = ct.StructType([('a', I32), ('b', ct.SequenceType(F32))])

    found = type_analysis.contains(
        type_spec, lambda t: isinstance(t, ct.SequenceType))

    self.assertTrue(found)

  def test_contains_is_false_when_nothing_passes(self):
    type_spec = ct.StructType([I32, F32])

    found = type_analysis.contains(
        type_spec, lambda t: isinstance(t, ct.FederatedType))

    self.assertFalse(found)

  def test_contains_only_checks_the_type_itself(self):
    type_spec = ct.FederatedType(I32, placements.CLIENTS)

    only_tensors = type_analysis.contains_only(
        type_spec, lambda t: isinstance(t, ct.TensorType))

    self.assertFalse(only_tensors)

  def test_count_counts_in_preorder(self):
    type_spec = ct.StructType([I32, ct.StructType([I32, F32])])

    tensors = type_analysis.count(type_spec,
                                  lambda t: isinstance(t, ct.TensorType))

    self.assertEqual(tensors, 3)


class StructureOfTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('int', I32, True),
      ('float', F32, False),
      ('empty_struct', ct.StructType([]), True),
      ('struct_of_ints', ct.StructType([I32, ct.TensorType(np.int64, [2])]),
       True),
      ('mixed', ct.StructType([I32, F32]), False),
      ('federated', ct.FederatedType([I32], placements.SERVER), True),
      ('sequence', ct.SequenceType(I32), False),
  )
  def test_is_structure_of_integers(self, type_spec, expected):
    self.assertEqual(type_analysis.is_structure_of_integers(type_spec),
                     expected)

  @parameterized.named_parameters(
      ('float', F32, True),
      ('float64_struct', ct.StructType([ct.TensorType(np.float64)]), True),
      ('int', I32, False),
  )
  def test_is_structure_of_floats(self, type_spec, expected):
    self.assertEqual(type_analysis.is_structure_of_floats(type_spec), expected)

  @parameterized.named_parameters(
      ('tensor', I32, True),
      ('struct', ct.StructType([I32, ct.StructType([F32])]), True),
      ('federated', ct.FederatedType(I32, placements.SERVER), False),
      ('sequence', ct.SequenceType(I32), False),
  )
  def test_is_structure_of_tensors(self, type_spec, expected):
    self.assertEqual(type_analysis.is_structure_of_tensors(type_spec),
                     expected)

  @parameterized.named_parameters(
      ('none', None, True),
      ('sequence', ct.StructType([ct.SequenceType(I32), F32]), True),
      ('federated', ct.FederatedType(I32, placements.SERVER), False),
      ('function', ct.FunctionType(I32, I32), False),
  )
  def test_is_tensorflow_compatible_type(self, type_spec, expected):
    self.assertEqual(type_analysis.is_tensorflow_compatible_type(type_spec),
                     expected)


class IntrinsicCompatibilityTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('int', I32, True),
      ('float_vector', ct.TensorType(np.float32, [3]), True),
      ('unknown_dim', ct.TensorType(np.float32, [None]), False),
      ('unknown_rank', ct.TensorType(np.float32, None), False),
      ('bool', ct.TensorType(np.bool_), False),
      ('string', ct.TensorType(np.str_), False),
      ('federated_struct', ct.FederatedType([I32, F32], placements.CLIENTS),
       True),
  )
  def test_is_sum_compatible(self, type_spec, expected):
    self.assertEqual(type_analysis.is_sum_compatible(type_spec), expected)

  @parameterized.named_parameters(
      ('float', F32, True),
      ('complex', ct.TensorType(np.complex64), True),
      ('int', I32, False),
  )
  def test_is_average_compatible(self, type_spec, expected):
    self.assertEqual(type_analysis.is_average_compatible(type_spec), expected)

  @parameterized.named_parameters(
      ('int', I32, True),
      ('float', F32, True),
      ('complex', ct.TensorType(np.complex64), False),
      ('bool', ct.TensorType(np.bool_), False),
  )
  def test_is_min_max_compatible(self, type_spec, expected):
    self.assertEqual(type_analysis.is_min_max_compatible(type_spec), expected)

  @parameterized.named_parameters(
      ('scalar_int', I32, ct.StructType([F32, F32]), True),
      ('one_element_int', ct.TensorType(np.int64, [1]), F32, True),
      ('float', F32, F32, False),
      ('int_vector', ct.TensorType(np.int32, [2]), F32, False),
      ('matching_struct', ct.StructType([('a', I32), ('b', I32)]),
       ct.StructType([('a', F32), ('b', ct.TensorType(np.float32, [3]))]),
       True),
      ('different_names', ct.StructType([('a', I32)]),
       ct.StructType([('b', F32)]), False),
      ('different_lengths', ct.StructType([I32]), ct.StructType([F32, F32]),
       False),
  )
  def test_is_single_integer_or_matches_structure(self, type_sig, shape_type,
                                                  expected):
    self.assertEqual(
        type_analysis.is_single_integer_or_matches_structure(
            type_sig, shape_type), expected)


class ShapeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('scalar', (), True, 1),
      ('matrix', (2, 3), True, 6),
      ('unknown_dim', (2, None), False, None),
      ('unknown_rank', None, False, None),
  )
  def test_shape_functions(self, shape, fully_defined, num_elements):
    self.assertEqual(type_analysis.is_shape_fully_defined(shape),
                     fully_defined)
    self.assertEqual(type_analysis.num_elements_in_shape(shape), num_elements)


if __name__ == '__main__':
  absltest.main()
