from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

import tffx
from tffx.analytics import hierarchical_histogram
from tffx.computations import serialization
from tffx.proto import computation_pb2
from tffx.remote import graph_allowlist


def _client_datasets(values_per_client):
  return [tf.data.Dataset.from_tensor_slices(np.asarray(v, np.float32))
          for v in values_per_client]


def _numpy_tree(counts, arity):
  """Layers root first, from NumPy bin counts padded to a power of arity."""
  size = 1
  while size < len(counts):
    size *= arity
  layers = [np.pad(counts, (0, size - len(counts))).astype(np.float64)]
  while layers[0].size > 1:
    layers.insert(0, layers[0].reshape(-1, arity).sum(axis=1))
  return layers


# Crafted data: five clients, values in [0, 10), some on bin edges, one
# client with no records.
_RNG = np.random.default_rng(16)
_CLIENTS = [
    list(_RNG.uniform(0.0, 10.0, 12)) + [0.0, 2.5, 5.0],
    list(_RNG.uniform(0.0, 10.0, 7)),
    [1.0, 1.0, 1.0, 9.99],
    [],
    list(_RNG.uniform(2.0, 4.0, 9)),
]


class BuildHierarchicalHistogramProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('binary_secure', 2, 8, True, 'sub-sampling'),
      ('ternary_plain', 3, 7, False, 'sub-sampling'),
      ('arity_four_one_bin_short', 4, 15, True, 'sub-sampling'),
  )
  def test_every_node_equals_numpy_counts(self, arity, num_bins, secure,
                                          clip_mechanism):
    process = tffx.analytics.build_hierarchical_histogram_process(
        lower_bound=0.0, upper_bound=10.0, num_bins=num_bins, arity=arity,
        clip_mechanism=clip_mechanism, max_records_per_user=100,
        enable_secure_sum=secure)

    _, tree = process.next(process.initialize(), _client_datasets(_CLIENTS))

    counts, _ = np.histogram(np.concatenate(_CLIENTS), bins=num_bins,
                             range=(0.0, 10.0))
    expected = _numpy_tree(counts, arity)
    self.assertLen(tree, len(expected))
    for layer, expected_layer in zip(tree, expected):
      np.testing.assert_array_equal(layer, expected_layer)

  def test_range_and_node_queries_equal_numpy_counts(self):
    num_bins, arity = 10, 2
    process = tffx.analytics.build_hierarchical_histogram_process(
        lower_bound=0.0, upper_bound=10.0, num_bins=num_bins, arity=arity,
        max_records_per_user=100)
    _, tree = process.next(process.initialize(), _client_datasets(_CLIENTS))

    decoder = tffx.analytics.HierarchicalHistogramDecoder(tree, 0.0, 10.0)

    data = np.concatenate(_CLIENTS)
    counts, _ = np.histogram(data, bins=num_bins, range=(0.0, 10.0))
    for left in range(num_bins):
      for right in range(left, num_bins):
        self.assertEqual(decoder.range_query(left, right),
                         counts[left:right + 1].sum(), (left, right))
    expected = _numpy_tree(counts, arity)
    for layer, values in enumerate(expected):
      for index, value in enumerate(values):
        self.assertEqual(decoder.node_query(layer, index), value)

  def test_distinct_counts_each_distinct_value_of_a_client_once(self):
    clients = [[1.0, 1.0, 1.0, 7.0], [1.0, 3.0, 3.0]]
    process = tffx.analytics.build_hierarchical_histogram_process(
        0.0, 8.0, num_bins=4, clip_mechanism='distinct',
        max_records_per_user=10)

    _, tree = process.next(process.initialize(), _client_datasets(clients))

    np.testing.assert_array_equal(tree[-1], [2.0, 1.0, 0.0, 1.0])

  def test_sub_sampling_keeps_at_most_max_records_per_user(self):
    clients = [[1.0] * 20, [5.0] * 3]
    process = tffx.analytics.build_hierarchical_histogram_process(
        0.0, 8.0, num_bins=2, max_records_per_user=4)

    _, tree = process.next(process.initialize(), _client_datasets(clients))

    np.testing.assert_array_equal(tree[-1], [4.0, 3.0])
    self.assertEqual(tree[0][0], 7.0)

  @parameterized.named_parameters(
      ('bounds', dict(lower_bound=1.0, upper_bound=1.0, num_bins=2)),
      ('num_bins', dict(lower_bound=0.0, upper_bound=1.0, num_bins=0)),
      ('arity', dict(lower_bound=0.0, upper_bound=1.0, num_bins=2, arity=1)),
      ('clip', dict(lower_bound=0.0, upper_bound=1.0, num_bins=2,
                    clip_mechanism='clip')),
      ('records', dict(lower_bound=0.0, upper_bound=1.0, num_bins=2,
                       max_records_per_user=0)),
      ('dp', dict(lower_bound=0.0, upper_bound=1.0, num_bins=2,
                  dp_mechanism='central-gaussian')),
  )
  def test_raises_value_error_for_bad_arguments(self, kwargs):
    with self.assertRaises(ValueError):
      tffx.analytics.build_hierarchical_histogram_process(**kwargs)

  def test_next_passes_the_remote_worker_op_allowlist(self):
    process = tffx.analytics.build_hierarchical_histogram_process(
        0.0, 1.0, num_bins=5, clip_mechanism='distinct')
    proto = computation_pb2.Computation.FromString(
        serialization.serialize_computation(process.next))

    graph_allowlist.GraphAllowlist().check_message(proto)  # Does not raise.

  def test_num_layers_counts_the_root(self):
    self.assertEqual(hierarchical_histogram.num_layers(1, 2), 1)
    self.assertEqual(hierarchical_histogram.num_layers(8, 2), 4)
    self.assertEqual(hierarchical_histogram.num_layers(9, 3), 3)
    self.assertEqual(hierarchical_histogram.num_layers(10, 3), 4)


if __name__ == '__main__':
  absltest.main()
