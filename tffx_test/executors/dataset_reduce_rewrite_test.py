import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import tensorflow_computation as tfc
from tffx.executors import dataset_reduce_rewrite
from tffx.executors import tensorflow_runner
from tffx.types import computation_types as ct
from tffx.types import structure

_BATCH = collections.OrderedDict(x=ct.TensorType(np.float32, [None, 3]),
                                 y=ct.TensorType(np.int32, [None]))
_MODEL = collections.OrderedDict(w=ct.TensorType(np.float32, [3, 2]),
                                 b=ct.TensorType(np.float32, [2]))


@tfc.tf_computation(_MODEL, ct.SequenceType(_BATCH), np.float32)
def _train(model, dataset, learning_rate):
  """SGD on softmax regression; `learning_rate` is captured by the step."""

  def step(state, batch):
    w, b, count = state
    with tf.GradientTape() as tape:
      tape.watch([w, b])
      logits = tf.matmul(batch['x'], w) + b
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=batch['y'], logits=logits))
    grad_w, grad_b = tape.gradient(loss, [w, b])
    return (w - learning_rate * grad_w, b - learning_rate * grad_b,
            count + tf.size(batch['y']))

  w, b, count = dataset.reduce((model['w'], model['b'], 0), step)
  return collections.OrderedDict(w=w, b=b, count=count)


@tfc.tf_computation(ct.SequenceType(np.int64), ct.SequenceType(np.float32))
def _two_sums(a, b):
  return (a.reduce(np.int64(0), lambda s, x: s + x),
          b.reduce(np.float32(1.0), lambda s, x: s * x))


def _graph_ops(block):
  graph_def = tf.compat.v1.GraphDef.FromString(block.proto.graph_def)
  return [node.op for node in graph_def.node]


def _dataset(num_examples, seed=0):
  rng = np.random.default_rng(seed)
  return tf.data.Dataset.from_tensor_slices(collections.OrderedDict(
      x=np.float32(rng.normal(size=(num_examples, 3))),
      y=np.int32(rng.integers(0, 2, size=num_examples)))).batch(2)


class RewriteBlockTest(parameterized.TestCase):

  def test_rewrite_block_replaces_top_level_reductions(self):
    block = _train.to_building_block()

    rewritten = dataset_reduce_rewrite.rewrite_block(block)

    self.assertIn('ReduceDataset', _graph_ops(block))
    self.assertNotIn('ReduceDataset', _graph_ops(rewritten))
    self.assertIn('While', _graph_ops(rewritten))
    self.assertEqual(rewritten.type_signature, block.type_signature)
    self.assertEqual(rewritten.name, block.name)

  @parameterized.named_parameters(('empty', 0), ('one_batch', 1),
                                  ('partial_last_batch', 7))
  def test_rewritten_training_gives_identical_results(self, num_examples):
    block = _train.to_building_block()
    model = structure.Struct.named(
        w=np.float32(np.random.default_rng(3).normal(size=(3, 2))),
        b=np.float32([0.5, -0.5]))
    arg = structure.Struct.unnamed(model, _dataset(num_examples),
                                   np.float32(0.3))

    expected = tensorflow_runner.load(block)(arg)
    actual = tensorflow_runner.load(
        dataset_reduce_rewrite.rewrite_block(block))(arg)

    np.testing.assert_array_equal(actual.w, expected.w)
    np.testing.assert_array_equal(actual.b, expected.b)
    self.assertEqual(actual.count, num_examples)

  def test_rewrites_every_reduction_of_a_graph(self):
    block = _two_sums.to_building_block()
    arg = structure.Struct.unnamed(tf.data.Dataset.range(5),
                                   tf.data.Dataset.from_tensor_slices(
                                       np.float32([2, 3, 0.5])))

    rewritten = dataset_reduce_rewrite.rewrite_block(block)
    total, product = tensorflow_runner.load(rewritten)(arg)

    self.assertEqual(_graph_ops(rewritten).count('While'), 2)
    self.assertEqual(total, 10)
    self.assertEqual(product, 3.0)

  def test_rewrite_block_returns_block_without_reductions(self):
    block = tfc.tf_computation(lambda x: x + 1, np.int32).to_building_block()

    self.assertIs(dataset_reduce_rewrite.rewrite_block(block), block)


if __name__ == '__main__':
  absltest.main()
