import fractions
import functools

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.executors import aggregations
from tffx.executors import client_batches
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.executors import value_arithmetic
from tffx.types import computation_types as ct
from tffx.types import structure
from tffx_test.executors import test_utils

F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)
ClientBatch = client_batches.ClientBatch
Struct = structure.Struct


def _batches(member_type, values, stacked_from=None):
  """Batches of 4 clients; those starting at `stacked_from` or later stacked."""
  batches = []
  for start in range(0, len(values), 4):
    chunk = values[start:start + 4]
    if stacked_from is not None and start >= stacked_from:
      batches.append(ClientBatch(member_type, len(chunk),
                                 stacked=np.stack(chunk)))
    else:
      batches.append(ClientBatch.of_members(member_type, list(chunk)))
  return batches


def _feed(aggregation, *inputs):
  """Accumulates the batches of each input in order, then finalizes."""
  accumulator, start = aggregation.zero(), 0
  for batches in zip(*inputs):
    accumulator = aggregation.accumulate(accumulator, list(batches), start)
    start += batches[0].count
  return aggregation.finalize(accumulator)


def _merged(aggregation, *inputs):
  """Accumulates each batch from zero, merges in order, then finalizes."""
  accumulators, start = [], 0
  for batches in zip(*inputs):
    accumulators.append(aggregation.accumulate(aggregation.zero(),
                                               list(batches), start))
    start += batches[0].count
  return aggregation.finalize(functools.reduce(aggregation.merge,
                                               accumulators))


class SumTest(parameterized.TestCase):

  @parameterized.named_parameters(('members', None), ('stacked', 0),
                                  ('mixed', 8))
  def test_sum_is_exact_sum_rounded_once_however_grouped(self, stacked_from):
    # Values of very different magnitudes: any rounding before the end shows.
    values = list(np.float32(np.random.default_rng(0).normal(size=23) *
                             10.0**np.arange(23) % 1e7))
    total = aggregations.Sum(F32, 'federated_sum')
    expected = test_utils.round_to_dtype(
        sum(fractions.Fraction(float(v)) for v in values), np.float32)

    fed = _feed(total, _batches(F32, values, stacked_from))
    merged = _merged(total, _batches(F32, values, stacked_from))

    self.assertEqual(fed.tobytes(), expected.tobytes())
    self.assertEqual(merged.tobytes(), expected.tobytes())
    self.assertEqual(fed.dtype, np.float32)

  def test_integer_sum_wraps_like_numpy_and_merges(self):
    values = [np.int32(2**31 - 1)] * 5
    total = aggregations.Sum(I32, 'federated_sum')

    result = _merged(total, _batches(I32, values, stacked_from=0))

    with np.errstate(over='ignore'):
      self.assertEqual(result, functools.reduce(np.add, values))
    self.assertEqual(result.dtype, np.int32)

  def test_sum_of_zero_clients_is_zero_struct(self):
    member = ct.StructType([('a', I32), ('b', ct.TensorType(np.float32, [2]))])
    total = aggregations.Sum(member, 'federated_sum')

    result = total.finalize(total.zero())

    self.assertEqual(result.a, 0)
    np.testing.assert_array_equal(result.b, [0.0, 0.0])

  def test_sum_of_zero_clients_of_unknown_shape_raises(self):
    total = aggregations.Sum(ct.TensorType(np.float32, [None]),
                             'federated_sum')

    with self.assertRaisesRegex(errors.AggregationError, r'float32\[\?\]'):
      total.finalize(total.zero())

  def test_sum_refuses_sequences(self):
    with self.assertRaisesRegex(TypeError, 'tensors or structs of tensors'):
      aggregations.Sum(ct.SequenceType(F32), 'federated_sum')

  def test_sum_survives_the_wire(self):
    member = ct.StructType([('a', I32), ('b', ct.TensorType(np.float32, [2]))])
    values = [Struct.named(a=np.int32(i), b=np.float32([i, -i]))
              for i in range(5)]
    total = aggregations.Sum(member, 'federated_sum')
    partials = [total.accumulate(total.zero(), [b], 0)
                for b in _batches(member, values)]

    wired = [total.from_wire(total.to_wire(p)) for p in partials]
    result = total.finalize(functools.reduce(total.merge, wired))

    self.assertEqual(result.a, 10)
    np.testing.assert_array_equal(result.b, [10.0, -10.0])


class MeanAndExtremumTest(parameterized.TestCase):

  def test_mean_is_exact_mean_rounded_once(self):
    values = [np.float32(v) for v in (0.1, 0.2, 0.7, 1e6, -1e6)]
    mean = aggregations.Mean(F32, 'federated_mean', 5)
    expected = test_utils.round_to_dtype(
        sum(fractions.Fraction(float(v)) for v in values) / 5, np.float32)

    result = _feed(mean, _batches(F32, values, stacked_from=4))

    self.assertEqual(result.tobytes(), expected.tobytes())

  def test_mean_of_zero_clients_raises(self):
    with self.assertRaisesRegex(errors.AggregationError, 'over 0 clients'):
      aggregations.Mean(F32, 'federated_mean', 0)

  def test_mean_refuses_integers(self):
    with self.assertRaisesRegex(TypeError, 'floating-point.*int32'):
      aggregations.Mean(I32, 'federated_mean', 2)

  @parameterized.named_parameters(('min', np.minimum, [-4.0, 1.0]),
                                  ('max', np.maximum, [5.0, 7.0]))
  def test_extremum_is_element_wise_however_grouped(self, ufunc, expected):
    member = ct.TensorType(np.float32, [2])
    values = [np.float32([1, 7]), np.float32([-4, 3]), np.float32([5, 1]),
              np.float32([0, 2]), np.float32([2, 2])]
    extremum = aggregations.Extremum(member, 'federated_x', 5, ufunc)

    fed = _feed(extremum, _batches(member, values, stacked_from=4))
    merged = _merged(extremum, _batches(member, values))

    np.testing.assert_array_equal(fed, expected)
    np.testing.assert_array_equal(merged, expected)


class WeightedMeanTest(absltest.TestCase):

  def test_weighted_mean_casts_weights_per_leaf(self):
    member = ct.StructType([('a', F32), ('b', ct.TensorType(np.float64, [2]))])
    values = [Struct.named(a=np.float32(1), b=np.array([0.0, 4.0])),
              Struct.named(a=np.float32(4), b=np.array([2.0, 1.0]))]
    weights = [np.int32(1), np.int32(3)]
    mean = aggregations.WeightedMean(member, 'wm', 2)

    result = _feed(mean, [ClientBatch.of_members(member, values)],
                   [ClientBatch.of_members(I32, weights)])

    self.assertEqual(result.a, np.float32((1 * 1 + 4 * 3) / 4))
    np.testing.assert_allclose(result.b, [6.0 / 4, 7.0 / 4])
    self.assertEqual(result.b.dtype, np.float64)

  def test_weighted_mean_refuses_non_scalar_weight_naming_client(self):
    mean = aggregations.WeightedMean(F32, 'wm', 3)
    batch = ClientBatch.of_members(F32, [np.float32(1)])
    accumulator = mean.accumulate(
        mean.zero(), [batch, ClientBatch.of_members(F32, [np.float32(1)])], 0)

    with self.assertRaisesRegex(TypeError, r'shape \(2,\) at client 1'):
      mean.accumulate(accumulator, [
          batch, ClientBatch.of_members(F32, [np.float32([1, 2])])], 1)

  def test_weighted_mean_raises_on_zero_total_weight(self):
    mean = aggregations.WeightedMean(F32, 'wm', 2)

    with self.assertRaisesRegex(errors.AggregationError, 'sum to zero'):
      _feed(mean,
            [ClientBatch.of_members(F32, [np.float32(1), np.float32(2)])],
            [ClientBatch.of_members(F32, [np.float32(0), np.float32(0)])])


class SecureSumTest(absltest.TestCase):

  def _secure_sum(self, bound, member=I32):
    bounds = value_arithmetic.bound_leaves(np.int32(bound), member)
    return aggregations.SecureSum(member, 'secure', bounds,
                                  [f'max_input={b}' for b in bounds])

  def test_secure_sum_equals_sum_in_range(self):
    result = _feed(self._secure_sum(7),
                   _batches(I32, [np.int32(v) for v in (7, 0, 3)]))

    self.assertEqual(result, 10)

  def test_secure_sum_names_client_outside_range(self):
    with self.assertRaisesRegex(errors.SecureBoundsError,
                                r'client 5 has the value 8.*max_input=7'):
      _feed(self._secure_sum(7),
            _batches(I32, [np.int32(v) for v in (1, 2, 3, 4, 5, 8)]))

  def test_secure_sum_refuses_negative_bound_and_floats(self):
    with self.assertRaisesRegex(errors.SecureBoundsError, 'non-negative'):
      self._secure_sum(-1)
    with self.assertRaisesRegex(TypeError, 'integer'):
      self._secure_sum(1, member=F32)


def _members():
  return [Struct.named(a=np.int32(a), b=np.int32(b))
          for a, b in ((1, [5, 0]), (4, [-2, 7]), (-3, [1, 1]), (2, [0, 9]),
                       (6, [3, -4]))]


MEMBER = ct.StructType([('a', I32), ('b', ct.TensorType(np.int32, [2]))])
CLIENTS_MEMBER = ct.type_at_clients(MEMBER)


class WireKindTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('sum', aggregations.Sum(MEMBER, 'u'), value_arithmetic.total),
      ('min', aggregations.Extremum(MEMBER, 'u', 5, np.minimum),
       lambda values, t, uri: value_arithmetic.minimum(values, t)),
      ('max', aggregations.Extremum(MEMBER, 'u', 5, np.maximum),
       lambda values, t, uri: value_arithmetic.maximum(values, t)),
  )
  def test_merged_worker_partials_equal_aggregate_of_all_members(
      self, aggregation, combine):
    members = _members()

    partials = []
    for part in (members[:2], members[2:3], members[3:]):
      worker = aggregations.for_wire_kind(aggregation.wire_kind, MEMBER, 'u',
                                          len(part))
      value = worker.to_wire(worker.of_values(
          [federated_value.FederatedValue(CLIENTS_MEMBER, part)]))
      partials.append(aggregation.from_wire(value))
    merged = functools.reduce(aggregation.merge, partials)

    self.assertEqual(aggregation.finalize(merged),
                     combine(members, MEMBER, 'u'))

  def test_sum_wire_form_is_exact_state_and_shape_per_leaf(self):
    total = aggregations.for_wire_kind('sum', MEMBER, 'u', 5)

    value = total.to_wire(total.of_values(
        [federated_value.FederatedValue(CLIENTS_MEMBER, _members())]))

    self.assertLen(value, 4)  # <state a, shape a, state b, shape b>
    self.assertEqual([structure.flatten(value)[i].tolist() for i in (1, 3)],
                     [[], [2]])
    self.assertEqual(total.finalize(total.from_wire(value)),
                     Struct.named(a=np.int32(10), b=np.int32([7, 13])))

  def test_weighted_sum_kind_is_weighted_mean_naming_global_client(self):
    mean = aggregations.for_wire_kind('weighted_sum', F32, 'wm', 2)
    values = [federated_value.FederatedValue(ct.type_at_clients(F32), [
        np.float32(1.0), np.float32(4.0)])]

    result = mean.finalize(mean.of_values(values + [
        federated_value.FederatedValue(ct.type_at_clients(I32), [
            np.int32(3), np.int32(1)])]))

    self.assertIsInstance(mean, aggregations.WeightedMean)
    self.assertEqual(result, np.float32(7.0 / 4))
    with self.assertRaisesRegex(TypeError, r'shape \(2,\) at client 11'):
      mean.of_values(values + [federated_value.FederatedValue(
          ct.type_at_clients(I32), [np.int32(1), np.int32([1, 2])])], 10)

  def test_bounded_sum_kind_names_global_client_and_bound(self):
    secure = aggregations.for_wire_kind(
        'bounded_sum', MEMBER, 'federated_secure_sum', 2,
        [np.int32(9), np.int32(7)], ['max_input=9', 'max_input=7'])
    members = _members()[0:1] + [Struct.named(a=np.int32(1),
                                              b=np.int32([8, 0]))]

    with self.assertRaisesRegex(
        errors.SecureBoundsError,
        r'federated_secure_sum: client 6 has the value 8 at \[.b.\], '
        r'outside \[0, 7\] \(max_input=7\)'):
      secure.of_values(
          [federated_value.FederatedValue(CLIENTS_MEMBER, members)], 5)

  def test_for_wire_kind_refuses_unknown_kind_and_no_clients(self):
    with self.assertRaisesRegex(ValueError, "'median'"):
      aggregations.for_wire_kind('median', MEMBER, 'u', 5)
    with self.assertRaisesRegex(ValueError, 'at least one client'):
      aggregations.for_wire_kind('sum', MEMBER, 'u', 0)


if __name__ == '__main__':
  absltest.main()
