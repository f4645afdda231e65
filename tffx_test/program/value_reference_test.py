import collections

from absl.testing import absltest
import numpy as np

from tffx.program import value_reference
from tffx.types import computation_types as ct
from tffx.types import structure


class _Reference(value_reference.MaterializableValueReference):
  """A reference that counts how often it is materialized."""

  def __init__(self, value):
    self._value = value
    self.calls = 0

  @property
  def type_signature(self):
    return ct.TensorType(np.int32)

  def get_value(self):
    self.calls += 1
    return self._value


class MaterializeValueTest(absltest.TestCase):

  def test_replaces_references_in_nested_containers(self):
    first, second = _Reference(1), _Reference(np.array([2, 3]))
    value = collections.OrderedDict(a=first, b=[second, 'text'],
                                    c=structure.Struct([('x', 4.0)]))

    result = value_reference.materialize_value(value)

    self.assertIsInstance(result, collections.OrderedDict)
    self.assertEqual(result['a'], 1)
    np.testing.assert_array_equal(result['b'][0], [2, 3])
    self.assertEqual(result['b'][1], 'text')
    self.assertEqual(result['c'].x, 4.0)
    self.assertEqual((first.calls, second.calls), (1, 1))

  def test_materializes_single_reference(self):
    self.assertEqual(value_reference.materialize_value(_Reference(7)), 7)

  def test_reference_interface_is_abstract(self):
    with self.assertRaises(TypeError):
      value_reference.MaterializableValueReference()


if __name__ == '__main__':
  absltest.main()
