import functools

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.executors import aggregation_streams
from tffx.executors import client_batches
from tffx.executors import errors
from tffx.executors import value_arithmetic
from tffx.types import computation_types as ct
from tffx.types import structure

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


def _feed(stream, batches):
  start = 0
  for batch in batches:
    stream.add(batch, start)
    start += batch.count
  return stream.result()


class SumStreamTest(parameterized.TestCase):

  @parameterized.named_parameters(('members', None), ('stacked', 0),
                                  ('mixed', 8))
  def test_sum_adds_in_client_order_exactly(self, stacked_from):
    # Values of very different magnitudes: the order of additions shows.
    values = list(np.float32(np.random.default_rng(0).normal(size=23) *
                             10.0**np.arange(23) % 1e7))
    stream = aggregation_streams.SumStream(F32, 'federated_sum')

    result = _feed(stream, _batches(F32, values, stacked_from))

    self.assertEqual(result, functools.reduce(np.add, values))
    self.assertEqual(result.dtype, np.float32)

  def test_integer_sum_wraps_like_numpy(self):
    values = [np.int32(2**31 - 1)] * 5
    stream = aggregation_streams.SumStream(I32, 'federated_sum')

    result = _feed(stream, _batches(I32, values, stacked_from=0))

    with np.errstate(over='ignore'):
      self.assertEqual(result, functools.reduce(np.add, values))
    self.assertEqual(result.dtype, np.int32)

  def test_sum_of_zero_clients_is_zero_struct(self):
    member = ct.StructType([('a', I32), ('b', ct.TensorType(np.float32, [2]))])
    stream = aggregation_streams.SumStream(member, 'federated_sum')

    result = stream.result()

    self.assertEqual(result.a, 0)
    np.testing.assert_array_equal(result.b, [0.0, 0.0])

  def test_sum_of_zero_clients_of_unknown_shape_raises(self):
    stream = aggregation_streams.SumStream(
        ct.TensorType(np.float32, [None]), 'federated_sum')

    with self.assertRaisesRegex(errors.AggregationError, r'float32\[\?\]'):
      stream.result()

  def test_sum_refuses_sequences(self):
    with self.assertRaisesRegex(TypeError, 'tensors or structs of tensors'):
      aggregation_streams.SumStream(ct.SequenceType(F32), 'federated_sum')


class MeanAndExtremumStreamTest(parameterized.TestCase):

  def test_mean_divides_ordered_sum_by_count(self):
    values = [np.float32(v) for v in (0.1, 0.2, 0.7, 1e6, -1e6)]
    stream = aggregation_streams.MeanStream(F32, 'federated_mean', 5)

    result = _feed(stream, _batches(F32, values, stacked_from=4))

    self.assertEqual(result, functools.reduce(np.add, values) / 5)

  def test_mean_of_zero_clients_raises(self):
    with self.assertRaisesRegex(errors.AggregationError, 'over 0 clients'):
      aggregation_streams.MeanStream(F32, 'federated_mean', 0)

  def test_mean_refuses_integers(self):
    with self.assertRaisesRegex(TypeError, 'floating-point.*int32'):
      aggregation_streams.MeanStream(I32, 'federated_mean', 2)

  @parameterized.named_parameters(('min', np.minimum, [-4.0, 1.0]),
                                  ('max', np.maximum, [5.0, 7.0]))
  def test_extremum_is_element_wise(self, ufunc, expected):
    member = ct.TensorType(np.float32, [2])
    values = [np.float32([1, 7]), np.float32([-4, 3]), np.float32([5, 1]),
              np.float32([0, 2]), np.float32([2, 2])]
    stream = aggregation_streams.ExtremumStream(member, 'federated_x', 5,
                                                ufunc)

    result = _feed(stream, _batches(member, values, stacked_from=4))

    np.testing.assert_array_equal(result, expected)


class WeightedMeanStreamTest(absltest.TestCase):

  def test_weighted_mean_casts_weights_per_leaf(self):
    member = ct.StructType([('a', F32), ('b', ct.TensorType(np.float64, [2]))])
    values = [Struct.named(a=np.float32(1), b=np.array([0.0, 4.0])),
              Struct.named(a=np.float32(4), b=np.array([2.0, 1.0]))]
    weights = [np.int32(1), np.int32(3)]
    stream = aggregation_streams.WeightedMeanStream(member, 'wm', 2)

    stream.add(ClientBatch.of_members(member, values),
               ClientBatch.of_members(I32, weights), 0)
    result = stream.result()

    self.assertEqual(result.a, np.float32((1 * 1 + 4 * 3) / 4))
    np.testing.assert_allclose(result.b, [6.0 / 4, 7.0 / 4])
    self.assertEqual(result.b.dtype, np.float64)

  def test_weighted_mean_refuses_non_scalar_weight_naming_client(self):
    stream = aggregation_streams.WeightedMeanStream(F32, 'wm', 3)
    batch = ClientBatch.of_members(F32, [np.float32(1)])

    stream.add(batch, ClientBatch.of_members(F32, [np.float32(1)]), 0)
    with self.assertRaisesRegex(TypeError, r'shape \(2,\) at client 1'):
      stream.add(batch, ClientBatch.of_members(F32, [np.float32([1, 2])]), 1)

  def test_weighted_mean_raises_on_zero_total_weight(self):
    stream = aggregation_streams.WeightedMeanStream(F32, 'wm', 2)
    stream.add(ClientBatch.of_members(F32, [np.float32(1), np.float32(2)]),
               ClientBatch.of_members(F32, [np.float32(0), np.float32(0)]), 0)

    with self.assertRaisesRegex(errors.AggregationError,
                                r'sum to zero; weights: \[0.0, 0.0\]'):
      stream.result()


class SecureSumStreamTest(absltest.TestCase):

  def _stream(self, bound, member=I32):
    bounds = value_arithmetic.bound_leaves(np.int32(bound), member)
    return aggregation_streams.SecureSumStream(
        member, 'secure', bounds, lambda leaf: f'max_input={bounds[leaf]}')

  def test_secure_sum_equals_sum_in_range(self):
    stream = self._stream(7)

    result = _feed(stream, _batches(I32, [np.int32(v) for v in (7, 0, 3)]))

    self.assertEqual(result, 10)

  def test_secure_sum_names_client_outside_range(self):
    stream = self._stream(7)

    with self.assertRaisesRegex(errors.SecureBoundsError,
                                r'client 5 has the value 8.*max_input=7'):
      _feed(stream, _batches(I32, [np.int32(v) for v in (1, 2, 3, 4, 5, 8)]))

  def test_secure_sum_refuses_negative_bound_and_floats(self):
    with self.assertRaisesRegex(errors.SecureBoundsError, 'non-negative'):
      self._stream(-1)
    with self.assertRaisesRegex(TypeError, 'integer'):
      self._stream(1, member=F32)


if __name__ == '__main__':
  absltest.main()
