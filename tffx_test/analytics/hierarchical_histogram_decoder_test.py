from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

import tffx

# Bins of [0, 8): counts 3, 0, 2, 5, 1, 1, 0, 4 (16 records), arity 2.
_LEAVES = np.array([3, 0, 2, 5, 1, 1, 0, 4], np.float64)


def _tree(leaves, arity=2):
  layers = [np.asarray(leaves, np.float64)]
  while layers[0].size > 1:
    layers.insert(0, layers[0].reshape(-1, arity).sum(axis=1))
  return layers


class HierarchicalHistogramDecoderTest(parameterized.TestCase):

  def test_node_query_reads_a_ragged_tensor_like_tffs(self):
    ragged = tf.ragged.constant([list(layer) for layer in _tree(_LEAVES)])

    decoder = tffx.analytics.HierarchicalHistogramDecoder(ragged, 0.0, 8.0)

    self.assertEqual(decoder.node_query(0, 0), 16.0)
    self.assertEqual(decoder.node_query(2, 1), 7.0)
    self.assertEqual(decoder.node_query(3, 7), 4.0)

  @parameterized.named_parameters(('plain', False), ('efficient', True))
  def test_range_query_equals_the_sum_of_bins(self, use_efficient):
    decoder = tffx.analytics.HierarchicalHistogramDecoder(
        _tree(_LEAVES), 0.0, 8.0, use_efficient=use_efficient)

    for left in range(8):
      for right in range(left, 8):
        self.assertAlmostEqual(decoder.range_query(left, right),
                               _LEAVES[left:right + 1].sum())

  def test_range_query_with_arity_three(self):
    leaves = np.arange(9, dtype=np.float64)
    decoder = tffx.analytics.HierarchicalHistogramDecoder(
        _tree(leaves, 3), 0.0, 9.0)

    self.assertEqual(decoder.range_query(2, 6), leaves[2:7].sum())

  def test_efficient_node_query_averages_a_node_with_its_children(self):
    # Root 10 but children 4 + 4: leaves have variance 1, their sum 2; the
    # inverse-variance weighted estimate is (10 * 2 + 8 * 1) / 3.
    decoder = tffx.analytics.HierarchicalHistogramDecoder(
        [[10.0], [4.0, 4.0]], 0.0, 1.0, use_efficient=True)

    self.assertAlmostEqual(decoder.node_query(0, 0), 28.0 / 3.0)

  @parameterized.named_parameters(
      ('min', 0.0, 0.0), ('first', 0.1, 0.0), ('median', 0.5, 3.0),
      ('third_quartile', 0.75, 5.0), ('max', 1.0, 7.0))
  def test_quantile_query_returns_the_lower_edge_of_the_bin(self, q,
                                                             expected):
    decoder = tffx.analytics.HierarchicalHistogramDecoder(
        _tree(_LEAVES), 0.0, 8.0)

    self.assertEqual(decoder.quantile_query(q), expected)

  def test_enforce_consistency_keeps_an_exact_tree(self):
    decoder = tffx.analytics.HierarchicalHistogramDecoder(
        _tree(_LEAVES), 0.0, 8.0)

    decoder.enforce_consistency()

    for layer, values in enumerate(_tree(_LEAVES)):
      for index, value in enumerate(values):
        self.assertAlmostEqual(decoder.node_query(layer, index), value)

  def test_enforce_consistency_makes_parents_the_sum_of_children(self):
    # Least squares over x1, x2 for observations root=10, x1=4, x2=4:
    # x1 = x2 = 14 / 3, root = 28 / 3.
    decoder = tffx.analytics.HierarchicalHistogramDecoder(
        [[10.0], [4.0, 4.0]], 0.0, 1.0)

    decoder.enforce_consistency()

    self.assertAlmostEqual(decoder.node_query(1, 0), 14.0 / 3.0)
    self.assertAlmostEqual(decoder.node_query(0, 0), 28.0 / 3.0)

  @parameterized.named_parameters(
      ('layer', 'node_query', (4, 0)), ('index', 'node_query', (1, 2)),
      ('reversed', 'range_query', (3, 2)), ('right', 'range_query', (0, 8)),
      ('q', 'quantile_query', (1.5,)))
  def test_queries_raise_value_error_out_of_range(self, method, args):
    decoder = tffx.analytics.HierarchicalHistogramDecoder(
        _tree(_LEAVES), 0.0, 8.0)

    with self.assertRaises(ValueError):
      getattr(decoder, method)(*args)

  def test_init_raises_value_error_for_a_tree_of_mixed_arity(self):
    with self.assertRaises(ValueError):
      tffx.analytics.HierarchicalHistogramDecoder(
          [[3.0], [1.0, 2.0], [1.0, 0.0, 2.0]], 0.0, 1.0)


if __name__ == '__main__':
  absltest.main()
