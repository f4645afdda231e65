"""Tests for tffx/executors/tensorflow_runner.py."""

import collections
import concurrent.futures
import threading

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks
from tffx.computations import errors
from tffx.computations import tensorflow_computation
from tffx.executors import errors as executor_errors
from tffx.executors import tensorflow_runner
from tffx.proto import computation_pb2
from tffx.types import computation_types as ct
from tffx.types import structure

tf_computation = tensorflow_computation.tf_computation


def _load(comp) -> tensorflow_runner.Runner:
  return tensorflow_runner.load(comp.to_building_block())


class LoadTest(absltest.TestCase):

  def test_load_returns_same_runner_when_same_block(self):
    block = tf_computation(np.int32)(lambda x: x + 1).to_building_block()

    first = tensorflow_runner.load(block)
    second = tensorflow_runner.load(block)

    self.assertIs(first, second)

  def test_load_returns_same_runner_when_proto_bytes_equal(self):
    block = tf_computation(np.int32)(lambda x: x + 2).to_building_block()
    copy = building_blocks.TensorFlow(
        computation_pb2.TensorFlow.FromString(block.proto.SerializeToString()),
        block.type_signature)

    runner = tensorflow_runner.load(copy)

    self.assertIsNot(copy.proto, block.proto)
    self.assertIs(runner, tensorflow_runner.load(block))

  def test_load_returns_other_runner_when_graph_differs(self):
    add = tf_computation(np.int32)(lambda x: x + 1)
    sub = tf_computation(np.int32)(lambda x: x - 1)

    self.assertIsNot(_load(add), _load(sub))
    self.assertEqual(_load(sub)(5), 4)

  def test_load_raises_named_error_when_result_name_missing(self):
    block = tf_computation(np.int32)(lambda x: x + 3).to_building_block()
    proto = computation_pb2.TensorFlow()
    proto.CopyFrom(block.proto)
    proto.result_names[0] = 'missing:0'

    with self.assertRaisesRegex(errors.TensorFlowExecutionError,
                                'Cannot import the graph of TensorFlow '
                                'computation <lambda>'):
      tensorflow_runner.load(
          building_blocks.TensorFlow(proto, block.type_signature))

  def test_load_raises_when_not_tensorflow_block(self):
    block = building_blocks.Reference('x', np.int32)

    with self.assertRaises(TypeError):
      tensorflow_runner.load(block)


class CallTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('numpy_scalar', np.int32(4)),
      ('numpy_0d_array', np.array(4, np.int32)),
      ('python_int', 4),
      ('eager_tensor', tf.constant(4)),
  )
  def test_call_returns_0d_array_when_scalar_argument(self, arg):
    runner = _load(tf_computation(np.int32)(lambda x: x + 1))

    result = runner(arg)

    self.assertIsInstance(result, np.ndarray)
    self.assertEqual(result.dtype, np.int32)
    self.assertEqual(result.shape, ())
    self.assertEqual(result, 5)

  def test_call_converts_python_int_when_float_parameter(self):
    runner = _load(tf_computation(np.float32)(lambda x: x / 2))

    self.assertEqual(runner(3), 1.5)

  def test_call_returns_array_when_tensor_result(self):
    runner = _load(tf_computation((np.float32, [None]))(lambda x: x * 2))

    result = runner(np.array([1.0, 2.0], np.float32))

    np.testing.assert_array_equal(result, [2.0, 4.0])

  def test_call_returns_struct_when_result_has_container(self):

    @tf_computation(np.int32)
    def fn(x):
      return collections.OrderedDict(a=x, b=[x + 1, (x + 2,)])

    result = _load(fn)(1)

    self.assertEqual(
        result,
        structure.Struct([('a', 1),
                          ('b', structure.Struct([
                              (None, 2), (None, structure.Struct([(None, 3)]))
                          ]))]))

  @parameterized.named_parameters(
      ('struct', structure.Struct([('x', 10), ('y', 3)])),
      ('dict_other_order', {'y': 3, 'x': 10}),
      ('list', [10, 3]),
      ('tuple', (10, 3)),
  )
  def test_call_accepts_struct_forms_when_struct_parameter(self, arg):
    runner = _load(tf_computation(np.int32, np.int32)(lambda x, y: x - y))

    self.assertEqual(runner(arg), 7)

  def test_call_returns_bytes_when_string_result(self):
    runner = _load(tf_computation(np.str_)(lambda s: tf.strings.join([s, '!'])))

    self.assertEqual(runner('hi'), b'hi!')

  def test_call_returns_empty_struct_when_no_result_leaves(self):
    runner = _load(tf_computation(lambda: ()))

    self.assertEqual(runner(), structure.Struct([]))

  @parameterized.named_parameters(
      ('identity', lambda x: x, 7),
      ('unused_parameter', lambda x: 1, 1),
      ('repeated_result', lambda x: (x, x), structure.Struct([(None, 7),
                                                               (None, 7)])),
  )
  def test_call_binds_names_when_graph_is_degenerate(self, fn, expected):
    runner = _load(tf_computation(np.int32)(fn))

    self.assertEqual(runner(7), expected)

  def test_call_runs_on_device_when_given(self):
    runner = _load(tf_computation(np.int32)(lambda x: x * 3))

    self.assertEqual(runner(2, device='/device:CPU:0'), 6)


class SequenceTest(absltest.TestCase):

  def test_call_reduces_dataset_when_sequence_parameter(self):
    runner = _load(
        tf_computation(ct.SequenceType(np.int64))(
            lambda ds: ds.reduce(np.int64(0), lambda a, b: a + b)))

    self.assertEqual(runner(tf.data.Dataset.range(5)), 10)

  def test_call_returns_dataset_when_sequence_result(self):
    runner = _load(tf_computation(lambda: tf.data.Dataset.range(5)))

    result = runner()

    self.assertIsInstance(result, tf.data.Dataset)
    self.assertEqual(list(result.as_numpy_iterator()), [0, 1, 2, 3, 4])

  def test_call_maps_dataset_when_struct_elements(self):
    element = collections.OrderedDict(b=np.int64, a=np.float32)

    @tf_computation(ct.SequenceType(element))
    def scale(ds):
      return ds.map(lambda e: collections.OrderedDict(
          b=e['b'] * 2, a=e['a'] + 1.0))

    result = _load(scale)(
        tf.data.Dataset.from_tensor_slices(
            collections.OrderedDict(b=np.array([1, 2], np.int64),
                                    a=[0.5, 1.5])))

    self.assertEqual(
        list(result.as_numpy_iterator()),
        [collections.OrderedDict(b=2, a=1.5),
         collections.OrderedDict(b=4, a=2.5)])

  def test_call_restructures_dataset_when_element_container_differs(self):
    point = collections.namedtuple('Point', ['y', 'x'])
    element = collections.OrderedDict(x=np.int64, y=np.float32)

    @tf_computation(ct.SequenceType(element))
    def first_x(ds):
      return ds.reduce(np.int64(0), lambda s, e: s + e['x'])

    dataset = tf.data.Dataset.from_tensor_slices(
        point(y=[0.5, 1.5], x=np.array([3, 4], np.int64)))

    self.assertEqual(_load(first_x)(dataset), 7)


class ErrorTest(parameterized.TestCase):

  def test_call_raises_when_argument_given_to_no_parameter_graph(self):
    runner = _load(tf_computation(lambda: 1))

    with self.assertRaisesRegex(executor_errors.ArgumentTypeError,
                                'takes no argument'):
      runner(1)

  def test_call_raises_when_struct_has_wrong_length(self):
    runner = _load(tf_computation(np.int32, np.int32)(lambda x, y: x))

    with self.assertRaisesRegex(executor_errors.ArgumentTypeError,
                                'struct of 2 elements'):
      runner([1, 2, 3])

  @parameterized.named_parameters(
      ('python_float', 1.5),
      ('python_int_out_of_range', 2**40),
      ('numpy_int64', np.int64(3)),
      ('float_array', np.array([1.5, 2.5])),
      ('float_list', [1.5]),
      ('string', 'one'),
      ('struct', structure.Struct([(None, 1)])),
  )
  def test_call_raises_when_value_does_not_fit_int32(self, value):
    runner = _load(tf_computation((np.int32, None))(lambda x: x))

    with self.assertRaisesRegex(executor_errors.ArgumentTypeError,
                                r'expected int32\[\?\]'):
      runner(value)

  @parameterized.named_parameters(
      ('numpy_int32', np.array([1, 2], np.int32), [1, 2]),
      ('python_list', [1, 2], [1, 2]),
      ('python_int', 7, 7),
      ('bool', True, 1),
  )
  def test_call_converts_value_when_it_fits_int64(self, value, expected):
    runner = _load(tf_computation((np.int64, None))(lambda x: x))

    result = runner(value)

    self.assertEqual(result.dtype, np.int64)
    np.testing.assert_array_equal(result, expected)

  def test_call_raises_when_sequence_given_list(self):
    runner = _load(
        tf_computation(ct.SequenceType(np.int32))(lambda ds: ds.cardinality()))

    with self.assertRaisesRegex(executor_errors.ArgumentTypeError,
                                'expected a tf.data.Dataset'):
      runner([1, 2])

  def test_call_raises_named_error_when_tensorflow_fails(self):

    @tf_computation(np.int32)
    def check_positive(x):
      tf.debugging.assert_positive(x, message='not positive')
      return x

    runner = _load(check_positive)

    with self.assertRaisesRegex(errors.TensorFlowExecutionError,
                                'check_positive.*not positive') as caught:
      runner(-1)
    self.assertIsInstance(caught.exception.__cause__, tf.errors.OpError)
    self.assertEqual(runner(2), 2)


class ConcurrencyTest(absltest.TestCase):

  def test_calls_do_not_share_variables_when_run_from_threads(self):

    @tf_computation(np.int32)
    def repeat_add(x):
      total = tf.Variable(0)

      @tf.function
      def add_many_times():
        for _ in tf.range(200):
          total.assign_add(x)

      add_many_times()
      return total.read_value()

    runner = _load(repeat_add)
    barrier = threading.Barrier(8)

    def work(k):
      barrier.wait()
      return [int(runner(k)) for _ in range(20)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
      results = list(pool.map(work, range(8)))

    self.assertEqual(results, [[200 * k] * 20 for k in range(8)])


if __name__ == '__main__':
  absltest.main()
