import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.executors import errors
from tffx.executors import value_arithmetic as arithmetic
from tffx.types import computation_types as ct
from tffx.types import structure

F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)
MEMBER = ct.StructType([('a', I32), ('b', ct.TensorType(np.int32, [2]))])
Struct = structure.Struct


def _members():
  return [Struct.named(a=np.int32(a), b=np.int32(b))
          for a, b in ((1, [5, 0]), (4, [-2, 7]), (-3, [1, 1]))]


class TensorTypesTest(absltest.TestCase):

  def test_tensor_types_yields_paths_depth_first(self):
    type_spec = ct.to_type(collections.OrderedDict(
        x=F32, y=ct.StructType([(None, I32), ('z', F32)])))

    paths = [(path, t) for path, t in arithmetic.tensor_types(type_spec)]

    self.assertEqual(paths, [("['x']", F32), ("['y'][0]", I32),
                             ("['y']['z']", F32)])

  def test_tensor_types_refuses_sequences(self):
    with self.assertRaisesRegex(TypeError, 'structs of tensors'):
      list(arithmetic.tensor_types(ct.SequenceType(F32)))


class ChecksTest(parameterized.TestCase):

  def test_check_dtypes_names_offending_leaf(self):
    member = collections.OrderedDict(x=F32, n=I32)

    with self.assertRaisesRegex(TypeError, r"int32 at \['n'\]"):
      arithmetic.check_dtypes(ct.to_type(member), 'fc', 'floating-point',
                              'federated_mean')

  def test_check_dtypes_names_top_level(self):
    with self.assertRaisesRegex(
        TypeError, 'federated_mean needs floating-point values, found int32 '
        'at the top level'):
      arithmetic.check_dtypes(I32, 'fc', 'floating-point', 'federated_mean')

  def test_check_not_empty_refuses_zero_clients(self):
    with self.assertRaisesRegex(errors.AggregationError,
                                'federated_min over 0 clients.*Tip:'):
      arithmetic.check_not_empty(0, 'federated_min')

  def test_check_not_empty_accepts_one_client(self):
    arithmetic.check_not_empty(1, 'federated_min')  # Does not raise.

  def test_check_scalar_weights_names_client_from_first_client(self):
    with self.assertRaisesRegex(TypeError, r'shape \(2,\) at client 11'):
      arithmetic.check_scalar_weights([1, [1, 2]], 'federated_weighted_mean',
                                      first_client=10)

  def test_check_non_negative_bounds_names_the_bound(self):
    with self.assertRaisesRegex(
        errors.SecureBoundsError,
        r'federated_secure_sum needs a non-negative bound, found '
        r'max_input=-1\.'):
      arithmetic.check_non_negative_bounds(
          [np.int32(3), np.int32(-1)], 'federated_secure_sum',
          ['max_input=3', 'max_input=-1'])

  def test_check_in_range_names_client_leaf_and_bound(self):
    members = _members()[:1] + [Struct.named(a=np.int32(1),
                                             b=np.int32([8, 0]))]

    with self.assertRaisesRegex(
        errors.SecureBoundsError,
        r'federated_secure_sum: client 6 has the value 8 at \[.b.\], '
        r'outside \[0, 7\] \(max_input=7\)\. Tip:'):
      arithmetic.check_in_range(members, MEMBER, [9, 7],
                                'federated_secure_sum',
                                ['max_input=9', 'max_input=7'],
                                first_client=5)

  @parameterized.named_parameters(('negative', -1), ('above', 8))
  def test_check_in_range_refuses_value_outside_bounds(self, value):
    with self.assertRaises(errors.SecureBoundsError):
      arithmetic.check_in_range([np.int32(value)], I32, [7], 'u',
                                ['max_input=7'])


class ArithmeticTest(absltest.TestCase):

  def test_total_adds_element_wise(self):
    result = arithmetic.total(_members(), MEMBER, 'federated_sum')

    self.assertEqual(result, Struct.named(a=np.int32(2),
                                          b=np.int32([4, 8])))

  def test_total_of_nothing_is_zeros(self):
    result = arithmetic.total([], MEMBER, 'federated_sum')

    self.assertEqual(result, Struct.named(a=np.int32(0),
                                          b=np.int32([0, 0])))

  def test_zeros_refuses_unknown_shape(self):
    with self.assertRaisesRegex(errors.AggregationError,
                                'shape is not fully known'):
      arithmetic.zeros(ct.TensorType(np.float32, [None]), 'federated_sum')

  def test_minimum_and_maximum_are_element_wise(self):
    members = _members()

    low = arithmetic.minimum(members, MEMBER)
    high = arithmetic.maximum(members, MEMBER)

    self.assertEqual(low, Struct.named(a=np.int32(-3), b=np.int32([-2, 0])))
    self.assertEqual(high, Struct.named(a=np.int32(4), b=np.int32([5, 7])))

  def test_map_leaves_casts_to_leaf_dtype(self):
    result = arithmetic.map_leaves(lambda t, x: x / 2, I32, np.int32(7))

    self.assertEqual(result.dtype, np.int32)
    self.assertEqual(result, 3)

  def test_weighted_total_casts_weights_to_leaf_dtype(self):
    weights = arithmetic.check_scalar_weights([np.int32(3), np.int32(1)], 'u')

    result = arithmetic.weighted_total([np.float32(1.5), np.float32(4.0)],
                                       weights, F32)

    self.assertEqual(result.dtype, np.float32)
    self.assertEqual(result, np.float32(8.5))

  def test_bound_leaves_applies_scalar_bound_to_every_leaf(self):
    bounds = arithmetic.bound_leaves(np.int32(7), MEMBER)

    self.assertEqual([b.item() for b in bounds], [7, 7])

  def test_bound_leaves_takes_struct_bound_per_leaf(self):
    bound = Struct([(None, np.int32(3)), (None, np.int32(9))])

    bounds = arithmetic.bound_leaves(bound, MEMBER)

    self.assertEqual([b.item() for b in bounds], [3, 9])


if __name__ == '__main__':
  absltest.main()
