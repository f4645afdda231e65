from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.executors import aggregations
from tffx.executors import errors
from tffx.executors import value_arithmetic as arithmetic
from tffx.remote import partial_aggregates as pa
from tffx.types import computation_types as ct
from tffx.types import structure

F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)
MEMBER = ct.StructType([('a', I32), ('b', ct.TensorType(np.int32, [2]))])
Struct = structure.Struct


def _members():
  return [Struct.named(a=np.int32(a), b=np.int32(b))
          for a, b in ((1, [5, 0]), (4, [-2, 7]), (-3, [1, 1]), (2, [0, 9]),
                       (6, [3, -4]))]


class PartialAggregatesTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('sum', 'sum', aggregations.Sum(MEMBER, 'u'), arithmetic.total),
      ('min', 'min', aggregations.Extremum(MEMBER, 'u', 5, np.minimum),
       lambda values, t, uri: arithmetic.minimum(values, t)),
      ('max', 'max', aggregations.Extremum(MEMBER, 'u', 5, np.maximum),
       lambda values, t, uri: arithmetic.maximum(values, t)),
  )
  def test_merged_partials_equal_aggregate_of_all_members(
      self, kind, aggregation, combine):
    members = _members()

    partials = [aggregation.from_wire(pa.partial(kind, part, MEMBER,
                                                 uri='u')[0])
                for part in (members[:2], members[2:3], members[3:])]
    merged = aggregation.merge(aggregation.merge(partials[0], partials[1]),
                               partials[2])

    self.assertEqual(aggregation.finalize(merged),
                     combine(members, MEMBER, 'u'))

  def test_sum_partial_is_exact_state_and_shape_per_leaf(self):
    total = aggregations.Sum(MEMBER, 'u')

    value, value_type = pa.partial('sum', _members(), MEMBER, uri='u')

    self.assertLen(value_type, 4)  # <state a, shape a, state b, shape b>
    self.assertEqual([structure.flatten(value)[i].tolist() for i in (1, 3)],
                     [[], [2]])
    self.assertEqual(total.finalize(total.from_wire(value)),
                     Struct.named(a=np.int32(10), b=np.int32([7, 13])))

  def test_weighted_sum_partial_is_weighted_total_and_weight_total(self):
    members = [np.float32(1.0), np.float32(4.0)]
    weights = [np.int32(3), np.int32(1)]
    mean = aggregations.WeightedMean(F32, 'u', 2)

    value, _ = pa.partial('weighted_sum', members, F32, uri='u',
                          weights=weights)

    self.assertEqual(mean.finalize(mean.from_wire(value)),
                     np.float32(7.0 / 4))

  def test_weighted_sum_refuses_non_scalar_weight_naming_global_client(self):
    with self.assertRaisesRegex(TypeError, r'shape \(2,\) at client 11'):
      pa.partial('weighted_sum', [np.float32(1), np.float32(2)], F32,
                 uri='federated_weighted_mean',
                 weights=[np.int32(1), np.int32([1, 2])], first_client=10)

  def test_bounded_sum_sums_values_in_range(self):
    total = aggregations.Sum(I32, 'u')

    value, _ = pa.partial('bounded_sum', [np.int32(7), np.int32(0)], I32,
                          uri='u', upper_bounds=[np.int32(7)],
                          descriptions=['max_input=7'])

    self.assertEqual(total.finalize(total.from_wire(value)), 7)

  def test_bounded_sum_refuses_value_naming_global_client_and_bound(self):
    with self.assertRaisesRegex(
        errors.SecureBoundsError,
        r'federated_secure_sum: client 6 has the value 8 at \[.b.\], '
        r'outside \[0, 7\] \(max_input=7\)'):
      pa.partial('bounded_sum', _members()[0:1] + [
          Struct.named(a=np.int32(1), b=np.int32([8, 0]))
      ], MEMBER, uri='federated_secure_sum',
                 upper_bounds=[np.int32(9), np.int32(7)],
                 descriptions=['max_input=9', 'max_input=7'], first_client=5)

  def test_partial_refuses_unknown_kind(self):
    with self.assertRaisesRegex(ValueError, "'median'"):
      pa.partial('median', _members(), MEMBER, uri='u')

  def test_partial_refuses_no_members(self):
    with self.assertRaisesRegex(ValueError, 'at least one client'):
      pa.partial('sum', [], MEMBER, uri='u')


if __name__ == '__main__':
  absltest.main()
