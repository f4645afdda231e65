from concurrent import futures

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.executors import client_strategy
from tffx.executors import environment
from tffx.executors import interpreter
from tffx.executors import tensorflow_runner
from tffx.executors import value_serialization
from tffx.remote import controller_values as cv
from tffx.remote import remote_strategy
from tffx.remote import worker_session
from tffx.types import computation_types as ct
from tffx.types import structure

F32 = ct.TensorType(np.float32)


def _evaluate(block, arg=None):
  """Evaluates `block` (a function, applied to `arg` if given) with no
  workers."""
  session = worker_session.WorkerSession((), futures.ThreadPoolExecutor(1),
                                         call_timeout_seconds=1)
  fn = interpreter.Interpreter(
      remote_strategy.RemoteStrategy(session, 0),
      lambda b: client_strategy.TensorFlowFunction(
          b, tensorflow_runner.load(b))).eval(block, environment.Environment())
  return fn if arg is None else fn(arg)


def _shard(index, start, stop):
  return worker_session.Shard(index, None, start, stop)


class FunctionTest(absltest.TestCase):

  def test_closed_block_of_closed_function_is_the_block(self):
    block = bb.Lambda('x', F32, bb.Reference('x', F32))

    fn = _evaluate(block)

    self.assertIs(cv.closed_block(fn), block)

  def test_closed_block_binds_captured_struct_of_tensors(self):
    captured_type = ct.StructType([('a', F32), ('b', F32)])
    body = bb.Lambda('x', F32, bb.Selection(
        bb.Reference('c', captured_type), name='b'))
    outer = bb.Lambda('c', captured_type, body)
    fn = _evaluate(outer, structure.Struct.named(a=np.float32(1),
                                                 b=np.float32(2)))

    closed = cv.closed_block(fn)

    self.assertIsInstance(closed, bb.Block)
    self.assertEqual([name for name, _ in closed.locals], ['c'])
    self.assertEqual(_evaluate(closed, np.float32(0)), np.float32(2))

  def test_free_references_skip_names_bound_inside(self):
    inner = bb.Lambda('y', F32, bb.Struct([bb.Reference('y', F32),
                                           bb.Reference('z', F32)]))
    block = bb.Block([('y', bb.Reference('w', F32))], inner)

    free = cv.free_references(block)

    self.assertEqual(free, {'w': F32, 'z': F32})

  def test_closed_block_refuses_captured_dataset(self):
    sequence = ct.SequenceType(F32)
    body = bb.Lambda('x', F32, bb.Call(
        bb.Intrinsic('sequence_sum', ct.FunctionType(sequence, F32)),
        bb.Reference('d', sequence)))
    outer = bb.Lambda('d', sequence, body)
    fn = _evaluate(outer,
                   tf.data.Dataset.from_tensor_slices(np.float32([1, 2])))

    with self.assertRaisesRegex(NotImplementedError,
                                "captures 'd' of type float32\\*"):
      cv.closed_block(fn)


class ClientsValueTest(absltest.TestCase):

  def test_shared_value_sends_one_member_and_a_count(self):
    value = cv.ClientsValue(ct.type_at_clients(F32), 5,
                            shared=np.float32(3))

    argument = value.argument(_shard(0, 1, 4))

    self.assertEqual(argument.value.federated.member_count, 3)
    self.assertLen(argument.value.federated.member, 1)
    self.assertTrue(value.wire_type().all_equal)

  def test_local_value_sends_its_shard_slice(self):
    value = cv.ClientsValue(ct.type_at_clients(F32), 4, members=tuple(
        np.float32(i) for i in range(4)))

    argument = value.argument(_shard(0, 1, 3))

    members, _ = value_serialization.deserialize_value(argument.value)
    self.assertEqual(list(members.members), [1.0, 2.0])
    self.assertFalse(value.is_shared)

  def test_local_datasets_travel_as_graphs(self):
    sequences = ct.type_at_clients(ct.SequenceType(F32))
    value = cv.ClientsValue(sequences, 3, members=tuple(
        tf.data.Dataset.from_tensor_slices(np.float32([i, i + 1]))
        for i in range(3)))

    argument = value.argument(_shard(0, 1, 3))

    self.assertEqual(argument.WhichOneof('kind'), 'dataset_graphs')
    self.assertLen(argument.dataset_graphs.graph_def, 2)

  def test_datasets_that_cannot_be_graphs_travel_as_elements(self):
    sequences = ct.type_at_clients(ct.SequenceType(F32))
    double = lambda x: tf.reshape(
        tf.py_function(lambda v: v * 2, [x], tf.float32), [])
    value = cv.ClientsValue(sequences, 2, members=(
        tf.data.Dataset.from_tensor_slices(np.float32([1])),
        tf.data.Dataset.from_tensor_slices(np.float32([2])).map(double)))

    argument = value.argument(_shard(0, 0, 2))

    members, _ = value_serialization.deserialize_value(argument.value)
    self.assertEqual([list(d.as_numpy_iterator()) for d in members.members],
                     [[1.0], [4.0]])

  def test_stored_value_sends_its_shards_handle(self):
    value = cv.ClientsValue(ct.type_at_clients(F32), 4,
                            handles=['v3', 'v4'])

    argument = value.argument(_shard(1, 2, 4))

    self.assertEqual(argument.handle, 'v4')


if __name__ == '__main__':
  absltest.main()
