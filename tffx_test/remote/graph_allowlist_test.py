import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import op_def_registry

from tffx.computations import serialization
from tffx.computations import tensorflow_computation as tfc
from tffx.proto import remote_pb2
from tffx.remote import errors
from tffx.remote import graph_allowlist
from tffx.types import computation_types as ct


def _proto(comp):
  return comp.to_building_block().proto


def _py_function_graph():
  return tfc.tf_computation(
      lambda x: tf.numpy_function(lambda v: v, [x], tf.float32),
      np.float32)


def _eager_py_function_graph():
  return tfc.tf_computation(
      lambda x: tf.py_function(lambda v: v, [x], tf.float32), np.float32)


def _after(op_fn):
  """A computation of a string that runs `op_fn(s)`, then returns 1."""

  def comp(s):
    with tf.control_dependencies([op_fn(s)]):
      return tf.constant(1)

  return tfc.tf_computation(comp, np.str_)


def _write_file_graph():
  return _after(lambda s: tf.io.write_file('/tmp/tffx_never_written', s))


def _read_file_graph():
  return tfc.tf_computation(lambda s: tf.io.read_file(s), np.str_)


def _record_dataset_graph():
  return tfc.tf_computation(
      lambda s: tf.data.TFRecordDataset(s).reduce(
          np.int64(0), lambda n, _: n + 1), np.str_)


def _fed_avg_client_update():
  model = collections.OrderedDict(w=ct.TensorType(np.float32, [2]),
                                  b=ct.TensorType(np.float32))
  batch = collections.OrderedDict(x=ct.TensorType(np.float32, [None, 2]),
                                  y=ct.TensorType(np.float32, [None]))

  @tfc.tf_computation(model, ct.SequenceType(batch))
  def client_update(weights, dataset):

    def step(state, b):
      w, bias = state
      with tf.GradientTape() as tape:
        tape.watch([w, bias])
        loss = tf.reduce_mean(
            tf.square(tf.linalg.matvec(b['x'], w) + bias - b['y']))
      grad_w, grad_b = tape.gradient(loss, [w, bias])
      return w - 0.1 * grad_w, bias - 0.1 * grad_b

    return dataset.shuffle(4, seed=1).reduce((weights['w'], weights['b']),
                                              step)

  return client_update


def _loop_variable_and_random():

  @tfc.tf_computation(np.int32)
  def comp(n):
    v = tf.Variable(0.0)
    noise = tf.random.stateless_uniform([3], seed=[1, 2])
    total = tf.while_loop(lambda i, s: i < n,
                          lambda i, s: (i + 1, s + tf.reduce_sum(noise)),
                          (0, 0.0))[1]
    v.assign_add(total)
    tf.print('total', total)
    return v.read_value() + tf.random.uniform([])

  return comp


def _denied_op_inside_function():

  @tf.function
  def inner(x):
    return tf.numpy_function(lambda v: v, [x], tf.float32)

  return tfc.tf_computation(lambda x: inner(x), np.float32)


def _print_to_file_graph():
  return _after(lambda s: tf.print(s, output_stream='file:///tmp/tffx_print'))


class GraphAllowlistTest(parameterized.TestCase):

  def test_every_allowed_and_denied_op_is_a_registered_op(self):
    names = graph_allowlist.ALLOWED_OPS | set(graph_allowlist.DENIED_OPS)

    unknown = sorted(n for n in names if op_def_registry.get(n) is None)

    self.assertEqual(unknown, [])

  def test_allowed_and_denied_ops_are_disjoint(self):
    both = graph_allowlist.ALLOWED_OPS & set(graph_allowlist.DENIED_OPS)

    self.assertEqual(both, set())

  @parameterized.named_parameters(
      ('fed_avg_client_update', _fed_avg_client_update),
      ('loop_variable_and_random', _loop_variable_and_random),
  )
  def test_allows_programs_of_tffx(self, make_comp):
    allowlist = graph_allowlist.GraphAllowlist()

    allowlist.check_tensorflow(_proto(make_comp()))

  @parameterized.named_parameters(
      ('py_function', _py_function_graph, 'PyFunc', 'runs Python code'),
      ('eager_py_function', _eager_py_function_graph, 'EagerPyFunc',
       'runs Python code'),
      ('write_file', _write_file_graph, 'WriteFile', 'writes files'),
      ('read_file', _read_file_graph, 'ReadFile', 'writes files'),
      ('record_dataset', _record_dataset_graph, 'TFRecordDataset',
       'writes files'),
      ('inside_function', _denied_op_inside_function, 'PyFunc',
       "function '"),
  )
  def test_refuses_graph_naming_the_op(self, make_comp, op, reason):
    allowlist = graph_allowlist.GraphAllowlist()

    with self.assertRaisesRegex(errors.DisallowedOpError,
                                f"the op '{op}'.*{reason}|{reason}.*'{op}'"):
      allowlist.check_tensorflow(_proto(make_comp()))

  def test_refuses_print_to_file(self):
    allowlist = graph_allowlist.GraphAllowlist()

    with self.assertRaisesRegex(errors.DisallowedOpError,
                                "prints to 'file:///tmp/tffx_print'"):
      allowlist.check_tensorflow(_proto(_print_to_file_graph()))

  def test_refuses_call_of_function_the_graph_does_not_define(self):
    graph_def = tf.compat.v1.GraphDef()
    node = graph_def.node.add(name='call', op='StatefulPartitionedCall')
    node.attr['f'].func.name = 'defined_elsewhere'

    with self.assertRaisesRegex(errors.DisallowedOpError,
                                "'defined_elsewhere'.*does not define"):
      graph_allowlist.GraphAllowlist().check_graph_def(graph_def, 'g')

  def test_refuses_op_outside_allowlist_unless_extra(self):
    graph_def = tf.compat.v1.GraphDef()
    graph_def.node.add(name='cross', op='Cross')

    with self.assertRaisesRegex(errors.DisallowedOpError,
                                "'Cross'.*--extra_allowed_ops=Cross"):
      graph_allowlist.GraphAllowlist().check_graph_def(graph_def, 'g')
    graph_allowlist.GraphAllowlist(['Cross']).check_graph_def(graph_def, 'g')

  def test_extra_ops_cannot_allow_denied_op(self):
    with self.assertRaisesRegex(ValueError, r"\['PyFunc'\].*Python"):
      graph_allowlist.GraphAllowlist(['PyFunc'])

  def test_check_message_finds_graph_nested_in_request(self):
    block = _py_function_graph().to_building_block()
    request = remote_pb2.WorkerRequest(session='s')
    argument = request.run.argument.add()
    argument.value.struct.element.add().value.computation.CopyFrom(
        serialization.serialize_building_block(block))

    with self.assertRaisesRegex(errors.DisallowedOpError, 'PyFunc'):
      graph_allowlist.GraphAllowlist().check_message(request)


if __name__ == '__main__':
  absltest.main()
