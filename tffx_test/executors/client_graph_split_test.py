from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.computations import tensorflow_computation
from tffx.executors import client_graph_split
from tffx.types import computation_types as ct

_FLOATS = ct.SequenceType(np.float32)


@tensorflow_computation.tf_computation(np.float32, _FLOATS)
def _scaled_sum(scale, dataset):
  return dataset.reduce(0.0, lambda total, x: total + scale * x) * 2.0


class SplitTest(absltest.TestCase):

  def test_parts_compute_reduction_when_composed(self):
    graph = client_graph_split.split(_scaled_sum.to_building_block())

    @tf.function
    def run(scale, elements):
      state, captured = graph.pre(scale)
      for x in elements:
        (state,) = graph.step(state, x, captured)
      (result,) = graph.post(scale, state)
      return result

    self.assertIsInstance(graph, client_graph_split.ClientGraph)
    self.assertEqual(graph.dataset_leaf, 1)
    self.assertEqual(graph.num_states, 1)
    self.assertAlmostEqual(
        float(run(tf.constant(3.0), [tf.constant(1.0), tf.constant(2.0)])),
        2.0 * 3.0 * (1.0 + 2.0))

  def test_tensor_only_graph_is_all_pre(self):

    @tensorflow_computation.tf_computation(np.float32)
    def double(x):
      return x * 2.0

    graph = client_graph_split.split(double.to_building_block())

    self.assertIsNone(graph.dataset_leaf)
    self.assertIsNone(graph.step)
    self.assertIsNone(graph.post)

  def test_reason_dataset_used_besides_reduction(self):

    @tensorflow_computation.tf_computation(_FLOATS)
    def total_and_count(dataset):
      return (dataset.reduce(0.0, tf.add),
              dataset.reduce(np.int64(0), lambda n, _: n + 1))

    result = client_graph_split.split(total_and_count.to_building_block())

    self.assertIsInstance(result, client_graph_split.NotVectorizable)
    self.assertIn('2 dataset reductions', result.reason)

  def test_reason_reduction_of_dataset_built_in_graph(self):

    @tensorflow_computation.tf_computation(_FLOATS)
    def doubled_sum(dataset):
      return dataset.map(lambda x: 2.0 * x).reduce(0.0, tf.add)

    result = client_graph_split.split(doubled_sum.to_building_block())

    self.assertIsInstance(result, client_graph_split.NotVectorizable)
    self.assertIn('dataset built in the graph', result.reason)

  def test_reason_dataset_result(self):

    @tensorflow_computation.tf_computation(_FLOATS)
    def identity(dataset):
      return dataset

    result = client_graph_split.split(identity.to_building_block())

    self.assertIsInstance(result, client_graph_split.NotVectorizable)
    self.assertIn('not made of tensors', result.reason)

  def test_reason_element_shape_varies_beyond_leading_dimension(self):

    @tensorflow_computation.tf_computation(
        ct.SequenceType(ct.TensorType(np.float32, [None, None])))
    def total(dataset):
      return dataset.reduce(0.0, lambda s, x: s + tf.reduce_sum(x))

    result = client_graph_split.split(total.to_building_block())

    self.assertIsInstance(result, client_graph_split.NotVectorizable)
    self.assertIn('varies beyond its leading dimension', result.reason)


if __name__ == '__main__':
  absltest.main()
