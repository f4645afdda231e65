"""Tests for tffx.test's type assertions."""

from absl.testing import absltest
import numpy as np

import tffx as tff
from tffx.types import errors


class TypeAssertionsTest(absltest.TestCase):

  def test_assert_types_identical_passes_and_raises(self):
    list_struct = tff.StructWithPythonType([np.int32], list)
    tuple_struct = tff.StructWithPythonType([np.int32], tuple)

    tff.test.assert_types_identical(list_struct, list_struct)
    with self.assertRaises(errors.TypesNotIdenticalError):
      tff.test.assert_types_identical(list_struct, tuple_struct)

  def test_assert_types_equivalent_ignores_containers(self):
    list_struct = tff.StructWithPythonType([np.int32], list)
    tuple_struct = tff.StructWithPythonType([np.int32], tuple)

    tff.test.assert_types_equivalent(list_struct, tuple_struct)
    with self.assertRaises(errors.TypesNotEquivalentError):
      tff.test.assert_types_equivalent(tff.TensorType(np.int32),
                                       tff.TensorType(np.int64))

  def test_assert_type_assignable_from(self):
    unknown = tff.TensorType(np.int32, [None])
    known = tff.TensorType(np.int32, [3])

    tff.test.assert_type_assignable_from(unknown, known)
    with self.assertRaises(errors.TypeNotAssignableError):
      tff.test.assert_type_assignable_from(known, unknown)

  def test_assert_not_type_assignable_from(self):
    unknown = tff.TensorType(np.int32, [None])
    known = tff.TensorType(np.int32, [3])

    tff.test.assert_not_type_assignable_from(known, unknown)
    with self.assertRaises(TypeError):
      tff.test.assert_not_type_assignable_from(unknown, known)


if __name__ == '__main__':
  absltest.main()
