"""Tests for tffx/computations/tensorflow_computation.py.

Computations run through `tensorflow_runner`, which the executors use too.
"""

import collections
import dataclasses

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tffx import tensorflow as tffx_tensorflow
from tffx.computations import building_blocks
from tffx.computations import computation_impl
from tffx.computations import context_stack
from tffx.computations import errors
from tffx.computations import tensorflow_computation
from tffx.executors import tensorflow_runner
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure

tf_computation = tensorflow_computation.tf_computation

_Point = collections.namedtuple('_Point', ['x', 'y'])


@dataclasses.dataclass
class _Pair:
  first: tf.Tensor
  second: tf.Tensor


def _run(comp, arg=None):
  return tensorflow_runner.load(comp.to_building_block())(arg)


def _graph_def(comp) -> tf.compat.v1.GraphDef:
  return tf.compat.v1.GraphDef.FromString(
      comp.to_building_block().proto.graph_def)


def _all_nodes(graph_def):
  nodes = list(graph_def.node)
  for function in graph_def.library.function:
    nodes.extend(function.node_def)
  return nodes


class _RunnerContext(context_stack.Context):
  """Runs calls on `tensorflow_runner`, rebuilding containers at the edge."""

  def invoke(self, comp, arg):
    result = tensorflow_runner.load(comp.to_building_block())(arg)
    return structure.to_python(result, comp.type_signature.result)


class TypeSignatureTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('one_spec', lambda: tf_computation(np.int32)(lambda x: x + 1),
       '(int32 -> int32)'),
      ('several_specs',
       lambda: tf_computation(np.int32, np.float32)(lambda x, y: x),
       '(<x=int32,y=float32> -> int32)'),
      ('struct_spec_one_parameter',
       lambda: tf_computation([np.int32, np.float32])(lambda s: s[1]),
       '(<int32,float32> -> float32)'),
      ('tf_dtype_specs',
       lambda: tf_computation(tf.int32, tf.string)(lambda x, s: s),
       '(<x=int32,s=str> -> str)'),
      ('shaped_spec',
       lambda: tf_computation((np.float32, [None, 2]))(lambda x: x[0]),
       '(float32[?,2] -> float32[2])'),
      ('no_parameter', lambda: tf_computation(lambda: tf.constant(1.0)),
       '( -> float32)'),
      ('called_directly', lambda: tf_computation(lambda x: x * 2, np.int64),
       '(int64 -> int64)'),
      ('sequence_parameter',
       lambda: tf_computation(ct.SequenceType(np.int64))(
           lambda ds: ds.reduce(np.int64(0), lambda a, b: a + b)),
       '(int64* -> int64)'),
      ('sequence_result', lambda: tf_computation(
          lambda: tf.data.Dataset.range(5)), '( -> int64*)'),
      ('struct_result',
       lambda: tf_computation(np.int32)(lambda x: {'a': x, 'b': [x, 1.0]}),
       '(int32 -> <a=int32,b=<int32,float32>>)'),
  )
  def test_type_signature_is_expected_when_traced(self, make, expected):

    comp = make()

    self.assertEqual(str(comp.type_signature), expected)

  @parameterized.named_parameters(
      ('list', lambda x: [x, x], list),
      ('tuple', lambda x: (x, x), tuple),
      ('dict', lambda x: {'a': x, 'b': x}, dict),
      ('ordered_dict', lambda x: collections.OrderedDict(a=x, b=x),
       collections.OrderedDict),
      ('namedtuple', lambda x: _Point(x, x), _Point),
      ('dataclass', lambda x: _Pair(x, x), _Pair),
  )
  def test_result_type_keeps_container_when_returned(self, fn, container):

    comp = tf_computation(np.int32)(fn)

    self.assertIsInstance(comp.type_signature.result, ct.StructWithPythonType)
    self.assertIs(comp.type_signature.result.python_container, container)
    self.assertEqual(_run(comp, 3).values(), [3, 3])

  def test_result_type_is_plain_struct_when_struct_returned(self):

    comp = tf_computation(np.int32)(
        lambda x: structure.Struct([('a', x), (None, x + 1)]))

    self.assertIs(type(comp.type_signature.result), ct.StructType)
    self.assertEqual(_run(comp, 3), structure.Struct([('a', 3), (None, 4)]))

  @parameterized.named_parameters(
      ('python_int', lambda: 1, '( -> int32)', 1),
      ('python_float', lambda: 2.5, '( -> float32)', 2.5),
      ('numpy_float64', lambda: np.float64(0.5), '( -> float64)', 0.5),
      ('numpy_array', lambda: np.arange(3, dtype=np.int64), '( -> int64[3])',
       [0, 1, 2]),
      ('string', lambda: 'abc', '( -> str)', b'abc'),
  )
  def test_python_value_becomes_constant_when_returned(self, fn, type_string,
                                                      expected):

    comp = tf_computation(fn)

    self.assertEqual(str(comp.type_signature), type_string)
    np.testing.assert_array_equal(_run(comp), expected)

  def test_computation_is_named_after_function(self):

    @tf_computation(np.int32)
    def add_one(x):
      return x + 1

    self.assertEqual(add_one.to_building_block().proto.name, 'add_one')
    self.assertEqual(add_one.name, 'add_one')

  def test_tensorflow_computation_is_tf_computation(self):

    comp = tffx_tensorflow.computation(np.int32)(lambda x: x * 3)

    self.assertIs(tffx_tensorflow.computation, tf_computation)
    self.assertEqual(_run(comp, 2), 6)


class ParameterTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('ordered_dict', collections.OrderedDict(a=np.int32, b=np.int32),
       collections.OrderedDict),
      ('namedtuple', _Point(np.int32, np.int32), _Point),
      ('list', [np.int32, np.int32], list),
      ('plain_struct', ct.StructType([('a', np.int32), ('b', np.int32)]),
       structure.Struct),
  )
  def test_function_receives_container_when_struct_parameter(
      self, spec, expected_class):
    received = []

    @tf_computation(spec)
    def add(arg):
      received.append(arg)
      elements = structure.from_container(arg)
      return elements[0] + elements[1]

    self.assertIsInstance(received[0], expected_class)
    self.assertEqual(_run(add, structure.Struct([('a', 2), ('b', 3)])), 5)

  def test_function_receives_elements_when_several_parameters(self):
    received = []

    @tf_computation(np.int32, ct.SequenceType(np.int64))
    def count(x, ds):
      received.extend([x, ds])
      return tf.cast(x, tf.int64) + ds.reduce(np.int64(0), lambda a, _: a + 1)

    self.assertIsInstance(received[0], tf.Tensor)
    self.assertIsInstance(received[1], tf.data.Dataset)
    self.assertEqual(
        _run(count, structure.Struct([('x', 10),
                                      ('ds', tf.data.Dataset.range(4))])), 14)

  def test_dataset_elements_keep_container_when_struct_sequence(self):
    element = collections.OrderedDict(y=np.float32, x=np.int32)

    @tf_computation(ct.SequenceType(element))
    def total(ds):
      return ds.reduce(np.float32(0),
                       lambda s, e: s + e['y'] * tf.cast(e['x'], tf.float32))

    dataset = tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(y=[1.0, 2.0], x=[3, 4]))
    self.assertEqual(_run(total, dataset), 11.0)


class PolymorphicTest(absltest.TestCase):

  def test_concrete_computation_is_cached_when_same_argument_type(self):
    traced = []

    @tf_computation
    def double(x):
      traced.append(x.dtype)
      return x * 2

    first = double.concrete(np.int32)
    second = double.concrete(np.int32)
    other = double.concrete(np.float32)

    self.assertIs(first, second)
    self.assertIsNot(first, other)
    self.assertEqual(traced, [tf.int32, tf.float32])
    self.assertEqual(str(other.type_signature), '(float32 -> float32)')

  def test_call_traces_at_argument_type_when_polymorphic(self):

    @tf_computation
    def add(x, y):
      return x + y

    with context_stack.with_context(_RunnerContext()):
      result_int = add(1, 2)
      result_float = add(np.float32(1.5), np.float32(2.0))

    self.assertEqual(result_int, 3)
    self.assertEqual(result_float, 3.5)
    self.assertEqual(
        str(add.concrete(np.int32, np.int32).type_signature),
        '(<x=int32,y=int32> -> int32)')


class TracingContextTest(absltest.TestCase):

  def test_call_imports_graph_when_tf_computation_calls_another(self):

    @tf_computation(np.int32)
    def add_one(x):
      return x + 1

    @tf_computation(np.int32)
    def add_three(x):
      return add_one(add_one(add_one(x)))

    placeholders = [n.name for n in _graph_def(add_three).node
                    if n.op == 'Placeholder']
    self.assertEqual(str(add_three.type_signature), '(int32 -> int32)')
    self.assertEqual(_run(add_three, 4), 7)
    self.assertEqual(placeholders, ['arg_0'])

  def test_call_returns_containers_and_datasets_when_imported(self):

    @tf_computation(np.int64)
    def make(n):
      return collections.OrderedDict(
          count=n, data=tf.data.Dataset.range(n))

    @tf_computation(np.int64)
    def use(n):
      made = make(n)
      return made['count'] + made['data'].reduce(np.int64(0),
                                                  lambda a, b: a + b)

    self.assertEqual(_run(use, 4), 4 + 6)

  def test_call_passes_struct_and_dataset_when_imported(self):

    @tf_computation(np.int64, ct.SequenceType(np.int64))
    def scaled_sum(scale, ds):
      return scale * ds.reduce(np.int64(0), lambda a, b: a + b)

    @tf_computation
    def outer():
      return scaled_sum(3, tf.data.Dataset.range(4))

    self.assertEqual(_run(outer), 18)

  def test_call_traces_polymorphic_callee_at_tensor_type(self):

    @tf_computation
    def double(x):
      return x * 2

    @tf_computation(np.float32)
    def quadruple(x):
      return double(double(x))

    self.assertEqual(_run(quadruple, 1.5), 6.0)

  def test_call_raises_when_callee_is_not_tensorflow(self):
    identity = computation_impl.ConcreteComputation(
        building_blocks.Lambda('x', np.int32,
                               building_blocks.Reference('x', np.int32)),
        name='identity')

    with self.assertRaisesRegex(errors.TensorFlowCallError,
                                'Only TensorFlow computations'):
      tf_computation(np.int32)(identity)

  def test_call_raises_when_python_value_does_not_fit(self):
    add_one = tf_computation(np.int32)(lambda x: x + 1)

    with self.assertRaisesRegex(errors.TensorFlowCallError,
                                'expected int32.*does not fit'):
      tf_computation(lambda: add_one(2**40))

  def test_call_raises_when_argument_dtype_differs(self):
    add_one = tf_computation(np.int32)(lambda x: x + 1)

    with self.assertRaisesRegex(errors.TensorFlowCallError,
                                'expected int32.*float32'):
      tf_computation(np.float32)(add_one)


class VariablesTest(absltest.TestCase):

  def test_variables_start_fresh_when_called_again(self):

    @tf_computation(np.int32)
    def accumulate(x):
      v = tf.Variable(10)
      v.assign_add(x)
      v.assign_add(x)
      return v.read_value()

    results = [_run(accumulate, 1), _run(accumulate, 2)]

    self.assertEqual(results, [12, 14])
    self.assertNotEmpty(accumulate.to_building_block().proto.initialize_op)

  def test_variables_are_independent_when_same_shape(self):

    @tf_computation
    def two():
      a = tf.Variable(0)
      b = tf.Variable(0)
      a.assign_add(1)
      return a + b

    self.assertEqual(_run(two), 1)

  def test_variable_handles_are_anonymous_when_stored(self):
    comp = tf_computation(lambda: tf.Variable(1.0).read_value())

    handles = [n for n in _all_nodes(_graph_def(comp))
               if n.op == 'VarHandleOp']

    self.assertLen(handles, 1)
    self.assertEqual(handles[0].attr['shared_name'].s,
                     b'cd2c89b7-88b7-44c8-ad83-06c2a9158347')

  def test_keras_variables_are_returned_as_their_values(self):
    # TFF's tutorials return `model.trainable_variables` from a computation;
    # under Keras 3 these are Keras variables, not `tf.Variable`s.

    @tf_computation
    def server_init():
      model = keras.Sequential([
          keras.layers.Input(shape=(3,)),
          keras.layers.Dense(2, kernel_initializer='ones',
                             bias_initializer='zeros'),
      ])
      return model.trainable_variables

    kernel, bias = _run(server_init)

    self.assertEqual(str(server_init.type_signature),
                     '( -> <float32[3,2],float32[2]>)')
    np.testing.assert_array_equal(kernel, np.ones([3, 2], np.float32))
    np.testing.assert_array_equal(bias, np.zeros([2], np.float32))

  def test_keras_layer_trains_when_created_inside(self):

    @tf_computation((np.float32, [None, 3]))
    def sgd_step(x):
      layer = keras.layers.Dense(1, kernel_initializer='ones', use_bias=False)
      layer.build((None, 3))
      with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
      gradients = tape.gradient(loss, layer.trainable_variables)
      keras.optimizers.SGD(0.1).apply_gradients(
          zip(gradients, layer.trainable_variables))
      return tf.convert_to_tensor(layer.kernel)

    kernels = [_run(sgd_step, np.ones([n, 3], np.float32)) for n in (2, 1)]

    np.testing.assert_allclose(kernels[0], np.full([3, 1], 0.8))
    np.testing.assert_allclose(kernels[1], np.full([3, 1], 0.9))

  def test_initialize_op_is_empty_when_no_variables(self):
    comp = tf_computation(lambda: tf.constant(1))

    self.assertEqual(comp.to_building_block().proto.initialize_op, '')


class GraphTest(absltest.TestCase):

  def _program(self):

    def program(x):
      y = tf.cond(x > 0, lambda: x * 2, lambda: x - 1)
      ds = tf.data.Dataset.range(3).map(lambda e: tf.cast(e, tf.int32) + y)

      @tf.function
      def total(d):
        return d.reduce(0, lambda a, b: a + b)

      with tf.device('/device:CPU:0'):
        return total(ds)

    return program

  def test_bytes_are_equal_when_traced_twice(self):
    first = tf_computation(np.int32)(self._program())
    tf_computation(np.float32)(lambda x: tf.cond(x > 0, lambda: x, lambda: -x))
    second = tf_computation(np.int32)(self._program())

    self.assertEqual(first.to_building_block().proto.SerializeToString(),
                     second.to_building_block().proto.SerializeToString())
    self.assertEqual(_run(first, 1), 2 * 3 + 3)

  def test_nodes_have_no_device_when_user_code_sets_one(self):
    comp = tf_computation(np.int32)(self._program())

    devices = {n.device for n in _all_nodes(_graph_def(comp))}

    self.assertEqual(devices, {''})

  def test_functions_are_named_by_content_when_stored(self):
    comp = tf_computation(np.int32)(self._program())

    names = [f.signature.name for f in _graph_def(comp).library.function]

    self.assertNotEmpty(names)
    for name in names:
      self.assertRegex(name, r'_[0-9a-f]{16}$')

  def test_proto_binds_every_leaf_when_structs(self):

    @tf_computation([np.int32, ct.SequenceType(np.int32)],
                    ct.StructType([('a', np.float32)]))
    def fn(p, q):
      return p[0], q.a, (p[1], p[0])

    proto = fn.to_building_block().proto
    self.assertLen(proto.parameter_names, 3)
    self.assertLen(proto.result_names, 4)


class ErrorTest(parameterized.TestCase):

  def test_trace_raises_when_function_returns_none(self):

    def no_result(x):
      del x

    with self.assertRaisesRegex(errors.TensorFlowNoneResultError,
                                'no_result to return a value, found None'):
      tf_computation(np.int32)(no_result)

  @parameterized.named_parameters(
      ('object', lambda x: object()),
      ('function', lambda x: (lambda: x)),
      ('nested_none', lambda x: (x, None)),
      ('set', lambda x: {x}),
      ('sparse', lambda x: tf.sparse.from_dense([x])),
      ('dict_with_int_keys', lambda x: {1: x}),
  )
  def test_trace_raises_when_result_is_not_tensorflow(self, fn):

    with self.assertRaises(errors.TensorFlowResultError):
      tf_computation(np.int32)(fn)

  @parameterized.named_parameters(
      ('federated', ct.FederatedType(np.int32, placements.CLIENTS)),
      ('function', ct.FunctionType(np.int32, np.int32)),
      ('struct_with_federated',
       ct.StructType([('a', np.int32),
                      ('b', ct.FederatedType(np.int32, placements.SERVER))])),
      ('placement', ct.PlacementType()),
      ('abstract', ct.AbstractType('T')),
  )
  def test_trace_raises_when_parameter_type_not_tensorflow(self, spec):

    with self.assertRaisesRegex(errors.TensorFlowParameterTypeError,
                                'only tensors, sequences and structs'):
      tf_computation(spec)(lambda x: 1)

  def test_trace_raises_user_error_when_function_raises(self):

    def fails(x):
      raise ValueError(f'bad input {x.dtype.name}')

    with self.assertRaisesRegex(ValueError, 'bad input int32'):
      tf_computation(np.int32)(fails)

  def test_errors_are_type_errors(self):

    for error in (errors.TensorFlowParameterTypeError,
                  errors.TensorFlowResultError,
                  errors.TensorFlowNoneResultError, errors.TensorFlowCallError):
      self.assertTrue(issubclass(error, TypeError), error)


if __name__ == '__main__':
  absltest.main()
