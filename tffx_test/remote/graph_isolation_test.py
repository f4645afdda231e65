"""Graphs are rewritten so that no request sees another's state."""

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.computations import errors as computation_errors
from tffx.executors import tensorflow_runner
from tffx.proto import computation_pb2
from tffx.proto import remote_pb2
from tffx.remote import graph_allowlist
from tffx.remote import graph_isolation
from tffx_test.remote import programs


def _graph_def(build):
  graph = tf.Graph()
  with graph.as_default():
    build()
  return graph.as_graph_def()


def _nodes(graph_def, op):
  return [n for n in graph_def.node if n.op == op]


def _isolated(comp) -> bb.TensorFlow:
  block = comp.to_building_block()
  proto = computation_pb2.TensorFlow()
  proto.CopyFrom(block.proto)
  graph_isolation.isolate_message(proto)
  return bb.TensorFlow(proto, block.type_signature)


class GraphIsolationTest(absltest.TestCase):

  def test_variables_become_anonymous(self):
    graph_def = _graph_def(lambda: tf.raw_ops.VarHandleOp(
        dtype=tf.float32, shape=[], shared_name='x', container='c'))

    changed = graph_isolation.isolate_graph(graph_def)

    (node,) = _nodes(graph_def, 'VarHandleOp')
    self.assertTrue(changed)
    self.assertEqual(node.attr['shared_name'].s.decode(),
                     graph_isolation.ANONYMOUS_NAME)
    self.assertEqual(node.attr['container'].s, b'')

  def test_tables_become_anonymous_tables(self):
    graph_def = _graph_def(programs.shared_table)

    graph_isolation.isolate_graph(graph_def)

    self.assertEqual(_nodes(graph_def, 'HashTableV2'), [])
    (node,) = _nodes(graph_def, 'AnonymousHashTable')
    self.assertNotIn('shared_name', node.attr)
    graph_allowlist.GraphAllowlist().check_graph_def(graph_def, 'g')

  def test_empty_is_initialized(self):
    graph_def = _graph_def(lambda: tf.raw_ops.Empty(
        shape=[4], dtype=tf.float32, init=False))

    graph_isolation.isolate_graph(graph_def)

    (node,) = _nodes(graph_def, 'Empty')
    self.assertTrue(node.attr['init'].b)

  def test_graph_without_shared_state_is_unchanged(self):
    data = _graph_def(lambda: tf.constant(1.0) + 2.0).SerializeToString()

    self.assertIsNone(graph_isolation.isolate_graph_bytes(data))

  def test_message_rewrites_dataset_graphs(self):
    graph = _graph_def(lambda: tf.raw_ops.Empty(
        shape=[4], dtype=tf.float32, init=False)).SerializeToString()
    message = remote_pb2.Argument(
        dataset_graphs=remote_pb2.DatasetGraphs(graph_def=[graph]))

    graph_isolation.isolate_message(message)

    rewritten = tf.compat.v1.GraphDef.FromString(
        message.dataset_graphs.graph_def[0])
    self.assertTrue(_nodes(rewritten, 'Empty')[0].attr['init'].b)

  def test_shared_table_leaks_between_graphs_unless_isolated(self):
    written = tensorflow_runner.load(_isolated(programs.write_shared_table))(np.int64(7))
    leaked = tensorflow_runner.load(
        programs.write_shared_table.to_building_block())(np.int64(42))
    seen = tensorflow_runner.load(
        programs.read_shared_table.to_building_block())(np.int64(-1))

    with self.assertRaisesRegex(computation_errors.TensorFlowExecutionError,
                                r'Table not initialized'):
      tensorflow_runner.load(_isolated(programs.read_shared_table))(np.int64(-1))

    self.assertEqual(written, 7)
    self.assertEqual(leaked, 42)
    self.assertEqual(seen, 42)


if __name__ == '__main__':
  absltest.main()
