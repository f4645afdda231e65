import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.aggregators import sampling
from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.templates import aggregation_process
from tffx.types import computation_types as ct

_MEMBER = collections.OrderedDict(a=np.int32, b=ct.TensorType(np.float32, [2]))


def _client_values(count):
  return [
      collections.OrderedDict(a=i, b=np.array([i, -i], np.float32))
      for i in range(count)
  ]


def _sampler(max_num_samples):
  return federated_computation.federated_computation(
      lambda v: sampling.federated_sample(v, max_num_samples),
      ct.type_at_clients(_MEMBER))


class FederatedSampleTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_type_adds_a_sample_dimension_at_server(self):

    sampler = _sampler(3)

    self.assertEqual(str(sampler.type_signature.result),
                     '<a=int32[?],b=float32[?,2]>@SERVER')

  def test_samples_distinct_whole_client_values(self):

    sample = _sampler(3)(_client_values(6))

    self.assertLen(sample['a'], 3)
    self.assertLen(set(sample['a'].tolist()), 3)
    for a, b in zip(sample['a'], sample['b']):
      np.testing.assert_array_equal(b, [a, -a])

  def test_fewer_clients_than_samples_keeps_all(self):

    sample = _sampler(5)(_client_values(2))

    self.assertCountEqual(sample['a'].tolist(), [0, 1])

  def test_keep_largest_selects_the_largest_keys(self):
    keys = tf.constant([5, 1, 9, 3], tf.int64)
    rows = tf.constant([[50], [10], [90], [30]])

    kept_keys, [kept_rows] = sampling._keep_largest(keys, [rows], 2)  # pylint: disable=protected-access

    self.assertCountEqual(kept_keys.numpy().tolist(), [9, 5])
    self.assertCountEqual(kept_rows.numpy().ravel().tolist(), [90, 50])

  def test_raises_for_non_positive_max_num_samples(self):

    with self.assertRaises(ValueError):
      _sampler(0)


class UnweightedReservoirSamplingFactoryTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_type_signature_has_samples_and_non_finite_counts(self):

    process = sampling.UnweightedReservoirSamplingFactory(3).create(_MEMBER)

    self.assertIsInstance(process, sampling.SampleAggregationProcess)
    self.assertNotIsInstance(process, aggregation_process.AggregationProcess)
    self.assertEqual(
        str(process.next.type_signature),
        '(<state=<>@SERVER,value={<a=int32,b=float32[2]>}@CLIENTS> -> '
        '<state=<>@SERVER,result=<a=int32[?],b=float32[?,2]>@SERVER,'
        'measurements=<a=int64,b=int64>@SERVER>)')

  @parameterized.named_parameters(('fewer', 2, 2), ('as_many', 3, 3),
                                  ('more', 7, 3))
  def test_samples_up_to_sample_size_whole_clients(self, clients, expected):
    process = sampling.UnweightedReservoirSamplingFactory(3).create(_MEMBER)

    output = process.next(process.initialize(), _client_values(clients))

    self.assertLen(output.result['a'], expected)
    self.assertLen(set(output.result['a'].tolist()), expected)
    self.assertContainsSubset(output.result['a'].tolist(), range(clients))
    for a, b in zip(output.result['a'], output.result['b']):
      np.testing.assert_array_equal(b, [a, -a])
    self.assertEqual(output.state, ())

  def test_measurements_count_clients_with_non_finite_leaves(self):
    values = [
        collections.OrderedDict(a=1, b=np.array([1.0, np.nan], np.float32)),
        collections.OrderedDict(a=2, b=np.array([np.inf, 2.0], np.float32)),
        collections.OrderedDict(a=3, b=np.array([1.0, 2.0], np.float32)),
    ]
    process = sampling.UnweightedReservoirSamplingFactory(1).create(_MEMBER)

    output = process.next(process.initialize(), values)

    self.assertEqual(dict(output.measurements), {'a': 0, 'b': 2})

  def test_sampling_metadata_returns_the_reservoir(self):
    factory = sampling.UnweightedReservoirSamplingFactory(
        2, return_sampling_metadata=True)
    process = factory.create(_MEMBER)

    result = process.next(process.initialize(), _client_values(5)).result

    self.assertEqual(list(result), ['random_seed', 'random_values', 'samples'])
    self.assertLen(result['random_values'], 2)
    self.assertLen(result['samples']['a'], 2)
    self.assertEqual(result['random_seed'].shape, (2,))

  def test_tensor_value_type_samples_rows(self):
    process = sampling.UnweightedReservoirSamplingFactory(5).create(
        ct.TensorType(np.float32, [2]))

    output = process.next(process.initialize(),
                          [np.array([i, i], np.float32) for i in range(3)])

    self.assertCountEqual(output.result[:, 0].tolist(), [0.0, 1.0, 2.0])
    self.assertEqual(output.measurements, 0)

  def test_merge_keeps_the_largest_keys_of_both_reservoirs(self):
    member = ct.TensorType(np.int32)
    merge = sampling.build_merge_fn(member, 2)
    a = collections.OrderedDict(random_seed=np.array([1, 2], np.int64),
                                random_values=np.array([5, 1], np.int32),
                                samples=np.array([50, 10], np.int32))
    b = collections.OrderedDict(random_seed=np.array([3, 4], np.int64),
                                random_values=np.array([9], np.int32),
                                samples=np.array([90], np.int32))

    merged = merge(a, b)

    self.assertCountEqual(merged['samples'].tolist(), [50, 90])
    np.testing.assert_array_equal(merged['random_seed'], [1, 2])

  @parameterized.named_parameters(('zero', 0, ValueError),
                                  ('negative', -1, ValueError),
                                  ('float', 2.0, TypeError))
  def test_raises_for_bad_sample_size(self, sample_size, error):

    with self.assertRaises(error):
      sampling.UnweightedReservoirSamplingFactory(sample_size)

  def test_raises_for_non_bool_metadata_flag(self):

    with self.assertRaises(TypeError):
      sampling.UnweightedReservoirSamplingFactory(2, 'yes')

  def test_raises_for_value_type_of_unknown_rank(self):
    factory = sampling.UnweightedReservoirSamplingFactory(2)

    with self.assertRaises(TypeError):
      factory.create(ct.TensorType(np.float32, None))


if __name__ == '__main__':
  absltest.main()
