import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.computations import computation_wrapper
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import serialization
from tffx.computations import tensorflow_computation
from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.proto import computation_pb2
from tffx.types import computation_types as ct
from tffx.types import errors
from tffx.types import placements
from tffx.types import structure

_INT_AT_CLIENTS = ct.type_at_clients(np.int32)
_Point = collections.namedtuple('_Point', ['x', 'y'])


def _add_one() -> bb.TensorFlow:
  """A real graph of type (int32 -> int32), built by hand."""
  graph = tf.Graph()
  with graph.as_default():
    x = tf.compat.v1.placeholder(tf.int32, shape=[], name='x')
    y = tf.add(x, 1, name='y')
  proto = computation_pb2.TensorFlow(
      graph_def=graph.as_graph_def().SerializeToString(deterministic=True),
      parameter_names=[x.name],
      result_names=[y.name],
      name='add_one')
  return bb.TensorFlow(proto, ct.FunctionType(np.int32, np.int32))


def _run_graph(block: bb.TensorFlow):
  """Runs a hand-built graph of tensor leaves; the test's TensorFlow loader."""
  graph_def = tf.compat.v1.GraphDef.FromString(block.proto.graph_def)

  def run(arg):
    with tf.Graph().as_default() as graph:
      tf.graph_util.import_graph_def(graph_def, name='')
      with tf.compat.v1.Session(graph=graph) as session:
        leaves = [] if arg is None else structure.flatten(arg)
        results = session.run(
            list(block.proto.result_names),
            dict(zip(block.proto.parameter_names, leaves)))
    return np.asarray(results[0])

  return run


def _intrinsic(uri, parameter, result) -> bb.Intrinsic:
  return bb.Intrinsic(uri, ct.FunctionType(parameter, result))


def _map_then_sum() -> bb.Lambda:
  """(x -> federated_sum(federated_map(<add_one, x>))) over int32 clients."""
  x = bb.Reference('x', _INT_AT_CLIENTS)
  map_fn = _intrinsic('federated_map',
                      ct.StructType([_add_one().type_signature,
                                     _INT_AT_CLIENTS]), _INT_AT_CLIENTS)
  sum_fn = _intrinsic('federated_sum', _INT_AT_CLIENTS,
                      ct.type_at_server(np.int32))
  mapped = bb.Call(map_fn, bb.Struct([_add_one(), x]))
  return bb.Lambda(
      'x', _INT_AT_CLIENTS,
      bb.Block([('mapped', mapped)],
               bb.Call(sum_fn, bb.Reference('mapped', _INT_AT_CLIENTS))))


def _program_with_runnable_kinds() -> bb.Lambda:
  """A program using every kind of block the reference executor runs."""
  arg_type = ct.StructType([('a', _INT_AT_CLIENTS), ('b', np.float32)])
  x = bb.Reference('x', arg_type)
  value_at_server = _intrinsic('federated_value_at_server',
                               ct.TensorType(np.float32, [2]),
                               ct.type_at_server(ct.TensorType(np.float32,
                                                               [2])))
  constant = bb.Lambda(None, None, bb.Literal(np.array([1.5, 2.5],
                                                       np.float32)))
  result = bb.Struct(
      [('sum', bb.Call(_map_then_sum(), bb.Selection(x, name='a'))),
       ('constant', bb.Call(value_at_server, bb.Call(bb.Reference(
           'constant', constant.type_signature)))),
       ('b', bb.Selection(x, index=1)),
       ('where', bb.Placement(placements.CLIENTS))],
      collections.OrderedDict)
  return bb.Lambda('x', arg_type, bb.Block([('constant', constant)], result))


def _every_kind():
  """(name, block) for every building block kind, standing alone."""
  literal = bb.Literal(np.int32(7))
  identity = bb.Lambda('y', np.int32, bb.Reference('y', np.int32))
  return [
      ('reference', bb.Reference('x', ct.StructType([('a', np.int32)]))),
      ('selection', bb.Selection(bb.Struct([literal, bb.Literal(2.0)]),
                                 index=1)),
      ('struct', bb.Struct([('a', literal), (None, bb.Literal(True))])),
      ('struct_list', bb.Struct([literal, literal], list)),
      ('struct_ordered_dict',
       bb.Struct([('b', literal), ('a', literal)], collections.OrderedDict)),
      ('empty_struct', bb.Struct([])),
      ('call', bb.Call(identity, literal)),
      ('call_no_argument', bb.Call(bb.Lambda(None, None, literal))),
      ('lambda', identity),
      ('lambda_no_parameter', bb.Lambda(None, None, literal)),
      ('block', bb.Block([('a', literal), ('b', bb.Reference('a', np.int32))],
                         bb.Reference('b', np.int32))),
      ('intrinsic', _intrinsic('federated_sum', _INT_AT_CLIENTS,
                               ct.type_at_server(np.int32))),
      ('data', bb.Data('file:///data/x', ct.SequenceType(np.float32))),
      ('placement', bb.Placement(placements.SERVER)),
      ('literal', bb.Literal(np.arange(6, dtype=np.float64).reshape(2, 3))),
      ('tensorflow', _add_one()),
      ('program', _map_then_sum()),
      ('program_with_runnable_kinds', _program_with_runnable_kinds()),
  ]


class RoundTripTest(parameterized.TestCase):

  @parameterized.named_parameters(*_every_kind())
  def test_deserialize_building_block_inverts_serialize(self, block):
    proto = serialization.serialize_building_block(block)

    result = serialization.deserialize_building_block(
        computation_pb2.Computation.FromString(proto.SerializeToString()))

    self.assertIs(type(result), type(block))
    self.assertIs(result.type_signature, block.type_signature)
    self.assertEqual(result.compact_representation(),
                     block.compact_representation())
    self.assertEqual(serialization.serialize_building_block(result), proto)

  @parameterized.parameters(np.bool_, np.int8, np.int16, np.int32, np.int64,
                            np.uint8, np.uint16, np.uint32, np.uint64,
                            np.float16, np.float32, np.float64, tf.bfloat16,
                            np.complex64, np.complex128)
  def test_literal_keeps_values_for_numeric_dtype(self, dtype):
    dtype = tf.as_dtype(dtype).as_numpy_dtype
    value = (np.arange(6) % 2 == 1).reshape(2, 3).astype(dtype)
    block = bb.Literal(value)

    result = serialization.deserialize_building_block(
        serialization.serialize_building_block(block))

    self.assertEqual(result.value.dtype, dtype)
    np.testing.assert_array_equal(result.value, value)

  def test_literal_keeps_strings_as_bytes(self):
    block = bb.Literal(np.array(['a', 'é'], dtype=np.str_))

    result = serialization.deserialize_building_block(
        serialization.serialize_building_block(block))

    self.assertIs(result.type_signature, ct.TensorType(np.str_, [2]))
    self.assertEqual(result.value.tolist(), [b'a', 'é'.encode('utf-8')])

  def test_struct_with_namedtuple_comes_back_plain(self):
    literal = bb.Literal(np.int32(1))
    block = bb.Struct([('x', literal), ('y', literal)], _Point)

    result = serialization.deserialize_building_block(
        serialization.serialize_building_block(block))

    self.assertIs(result.type_signature,
                  ct.StructType([('x', np.int32), ('y', np.int32)]))

  def test_tensorflow_block_keeps_its_proto_and_name(self):
    block = _add_one()

    comp = serialization.round_trip(block)

    self.assertEqual(comp.to_building_block().proto, block.proto)
    self.assertEqual(comp.name, 'add_one')

  def test_round_trip_returns_concrete_computation_of_same_type(self):
    comp = computation_impl.ConcreteComputation(_map_then_sum(), name='f')

    result = serialization.round_trip(comp)

    self.assertIsInstance(result, computation_impl.ConcreteComputation)
    self.assertIs(result.type_signature, comp.type_signature)


class DeterminismTest(absltest.TestCase):

  def test_serialize_computation_gives_same_bytes_twice(self):
    comp = computation_impl.ConcreteComputation(_program_with_runnable_kinds())

    first = serialization.serialize_computation(comp)
    second = serialization.serialize_computation(comp)

    self.assertEqual(first, second)

  def test_serialize_computation_gives_same_bytes_for_same_program(self):
    first = serialization.serialize_computation(_program_with_runnable_kinds())
    second = serialization.serialize_computation(_program_with_runnable_kinds())

    self.assertEqual(first, second)

  def test_serialize_computation_gives_other_bytes_for_other_program(self):
    first = serialization.serialize_computation(_map_then_sum())
    second = serialization.serialize_computation(_program_with_runnable_kinds())

    self.assertNotEqual(first, second)


class ExecutionTest(absltest.TestCase):

  def test_deserialized_program_gives_same_result(self):
    executor = reference_executor.ReferenceExecutor(_run_graph)
    block = _program_with_runnable_kinds()
    arg = structure.Struct([
        ('a', federated_value.FederatedValue(
            _INT_AT_CLIENTS, [np.int32(1), np.int32(2), np.int32(3)])),
        ('b', np.float32(0.5))])
    copy = serialization.round_trip(block).to_building_block()

    expected = executor.run(block, arg, 3)
    actual = executor.run(copy, arg, 3)

    self.assertEqual(actual.names(), ['sum', 'constant', 'b', 'where'])
    self.assertEqual(actual.sum.members[0], 9)
    self.assertEqual(expected.sum.members[0], 9)
    np.testing.assert_array_equal(actual.constant.members[0],
                                  expected.constant.members[0])
    self.assertEqual(actual.b, expected.b)
    self.assertIs(actual.where, placements.CLIENTS)


def _trace_program():
  """Traces a federated program over two TensorFlow computations."""

  @tensorflow_computation.tf_computation(np.int32)
  def add_one(x):
    return x + 1

  @tensorflow_computation.tf_computation(
      collections.OrderedDict(a=np.float32, b=(np.str_, [2])))
  def reorder(d):
    return collections.OrderedDict(b=d['b'], a=d['a'] * 2.0)

  @federated_computation.federated_computation(
      _INT_AT_CLIENTS,
      ct.type_at_server(collections.OrderedDict(a=np.float32,
                                                b=(np.str_, [2]))))
  def program(x, d):
    return (intrinsics.federated_sum(intrinsics.federated_map(add_one, x)),
            intrinsics.federated_map(reorder, d))

  return program


class TracedComputationTest(absltest.TestCase):

  def test_serialize_computation_gives_same_bytes_when_traced_twice(self):
    first = serialization.serialize_computation(_trace_program())
    second = serialization.serialize_computation(_trace_program())

    self.assertEqual(first, second)

  def test_round_trip_keeps_traced_program(self):
    program = _trace_program()
    data = serialization.serialize_computation(program)

    result = serialization.deserialize_computation(data)

    self.assertIs(result.type_signature, program.type_signature)
    self.assertEqual(result.to_building_block().formatted_representation(),
                     program.to_building_block().formatted_representation())
    self.assertEqual(serialization.serialize_computation(result), data)

  def test_deserialized_traced_program_gives_same_result(self):

    @federated_computation.federated_computation(_INT_AT_CLIENTS)
    def program(x):

      @tensorflow_computation.tf_computation(np.int32)
      def add_one(value):
        return value + 1

      return intrinsics.federated_sum(intrinsics.federated_map(add_one, x))

    executor = reference_executor.ReferenceExecutor(_run_graph)
    arg = federated_value.FederatedValue(
        _INT_AT_CLIENTS, [np.int32(5), np.int32(6)])
    copy = serialization.round_trip(program).to_building_block()

    expected = executor.run(program.to_building_block(), arg, 2)
    actual = executor.run(copy, arg, 2)

    self.assertEqual(expected.members[0], 13)
    self.assertEqual(actual.members[0], 13)


def _computation_proto(block) -> computation_pb2.Computation:
  return serialization.serialize_building_block(block)


class MalformedComputationTest(parameterized.TestCase):

  def _assert_refused(self, proto, *message_parts):
    data = proto.SerializeToString()
    with self.assertRaises(errors.SerializationError) as caught:
      serialization.deserialize_computation(data)
    for part in message_parts:
      self.assertIn(part, str(caught.exception))

  @parameterized.named_parameters(
      ('empty', b''),
      ('random', b'\x8f\xff\x01\x02\x03garbage\xfe'),
      ('truncated', serialization.serialize_computation(_map_then_sum())[:-7]),
  )
  def test_deserialize_computation_raises_for_bad_bytes(self, data):
    with self.assertRaises(errors.SerializationError):
      serialization.deserialize_computation(data)

  def test_deserialize_computation_raises_for_unset_oneof(self):
    proto = _computation_proto(bb.Lambda(None, None, bb.Literal(1)))
    getattr(proto, 'lambda').result.ClearField('literal')

    self._assert_refused(proto, 'computation.lambda.result', 'no kind set')

  def test_deserialize_computation_raises_for_missing_type(self):
    proto = _computation_proto(bb.Lambda(None, None, bb.Literal(1)))
    getattr(proto, 'lambda').result.ClearField('type')

    self._assert_refused(proto, 'has no type')

  def test_deserialize_computation_raises_for_selection_out_of_range(self):
    struct = bb.Struct([bb.Literal(1), bb.Literal(2)])
    proto = _computation_proto(
        bb.Lambda(None, None, bb.Selection(struct, index=1)))
    getattr(proto, 'lambda').result.selection.index = 5

    self._assert_refused(proto, 'computation.lambda.result.selection',
                         'Index 5 out of range')

  def test_deserialize_computation_raises_for_call_argument_mismatch(self):
    proto = _computation_proto(
        bb.Lambda(None, None, bb.Call(_add_one(), bb.Literal(np.int32(1)))))
    getattr(proto, 'lambda').result.call.argument.CopyFrom(
        _computation_proto(bb.Literal(np.float32(1))))

    self._assert_refused(proto, 'computation.lambda.result.call',
                         'int32', 'float32')

  def test_deserialize_computation_raises_for_unknown_placement_uri(self):
    proto = _computation_proto(
        bb.Lambda(None, None, bb.Placement(placements.SERVER)))
    getattr(proto, 'lambda').result.placement.uri = 'moon'

    self._assert_refused(proto, "'moon'",
                         'computation.lambda.result.placement.uri')

  def test_deserialize_computation_raises_for_lambda_type_mismatch(self):
    proto = _computation_proto(bb.Lambda(None, None, bb.Literal(np.int32(1))))
    proto.type.function.result.tensor.dtype = 'float32'

    self._assert_refused(proto, 'computation.lambda', 'stored with type',
                         '( -> float32)', '( -> int32)')

  def test_deserialize_computation_raises_for_parameter_name_without_type(self):
    proto = _computation_proto(bb.Lambda(None, None, bb.Literal(1)))
    getattr(proto, 'lambda').parameter_name = 'x'

    self._assert_refused(proto, 'parameter name', 'computation.lambda')

  def test_deserialize_computation_raises_for_unknown_intrinsic(self):
    proto = _computation_proto(
        _intrinsic('federated_sum', _INT_AT_CLIENTS,
                   ct.type_at_server(np.int32)))
    proto.intrinsic.uri = 'federated_steal'

    self._assert_refused(proto, "'federated_steal'", 'computation.intrinsic')

  def test_deserialize_computation_raises_for_unbound_reference(self):
    proto = _computation_proto(_map_then_sum())
    getattr(proto, 'lambda').parameter_name = 'z'

    self._assert_refused(proto, "reference 'x'", 'not bound')

  def test_deserialize_building_block_accepts_unbound_reference(self):
    block = bb.Reference('x', np.int32)

    result = serialization.deserialize_building_block(_computation_proto(block))

    self.assertEqual(result.name, 'x')

  def test_deserialize_computation_raises_for_reference_type_mismatch(self):
    proto = _computation_proto(
        bb.Lambda('y', np.int32, bb.Reference('y', np.int32)))
    result = getattr(proto, 'lambda').result
    result.type.tensor.dtype = 'float32'
    proto.type.function.result.tensor.dtype = 'float32'

    self._assert_refused(proto, "reference 'y'", 'binding has type int32')

  def test_deserialize_computation_raises_for_literal_size_mismatch(self):
    proto = _computation_proto(
        bb.Lambda(None, None, bb.Literal(np.zeros([2, 2], np.float32))))
    getattr(proto, 'lambda').result.literal.value.content = b'\x00' * 12

    self._assert_refused(proto, 'needs 16 bytes', 'found 12',
                         'computation.lambda.result.literal.value')

  def test_deserialize_computation_raises_for_literal_dtype_mismatch(self):
    proto = _computation_proto(
        bb.Lambda(None, None, bb.Literal(np.zeros([2], np.float32))))
    value = getattr(proto, 'lambda').result.literal.value
    value.dtype = 'int32'

    self._assert_refused(proto, 'holds a int32 array')

  def test_deserialize_computation_raises_for_unknown_dtype(self):
    proto = _computation_proto(bb.Lambda(None, None, bb.Literal(1)))
    getattr(proto, 'lambda').result.literal.value.dtype = 'float128'

    self._assert_refused(proto, "'float128'")

  def test_deserialize_computation_raises_for_unparsable_graph(self):
    proto = _computation_proto(_add_one())
    proto.tensorflow.graph_def = b'\xff\xff\xff\xff'

    self._assert_refused(proto, 'computation.tensorflow.graph_def',
                         'does not parse')

  def test_deserialize_computation_raises_for_missing_graph_tensor(self):
    proto = _computation_proto(_add_one())
    proto.tensorflow.result_names[0] = 'nothing:0'

    self._assert_refused(proto, 'result_names[0]', "no op 'nothing'")

  def test_deserialize_computation_raises_for_wrong_leaf_count(self):
    proto = _computation_proto(_add_one())
    proto.tensorflow.parameter_names.append('x:0')

    self._assert_refused(proto, '2 parameter_names', '1 leaves')

  def test_deserialize_computation_raises_for_missing_initialize_op(self):
    proto = _computation_proto(_add_one())
    proto.tensorflow.initialize_op = 'init'

    self._assert_refused(proto, "initialize_op names op 'init'")

  def test_deserialize_computation_raises_for_non_function(self):
    proto = _computation_proto(bb.Literal(1))

    self._assert_refused(proto, 'Expected a computation of function type')

  def test_deserialize_computation_raises_for_deep_bytes(self):
    proto = computation_pb2.Computation()
    current = proto
    for _ in range(80):
      current.type.struct.SetInParent()
      current = current.selection.source
    data = proto.SerializeToString()

    with self.assertRaisesRegex(errors.SerializationError, 'deeper than 100'):
      serialization.deserialize_computation(data)

  def test_deserialize_building_block_raises_for_deep_proto(self):
    proto = computation_pb2.Computation()
    current = proto
    for _ in range(2000):
      current = current.selection.source
    current.reference.name = 'x'

    with self.assertRaisesRegex(errors.SerializationError, '100 levels'):
      serialization.deserialize_building_block(proto)


class SerializeErrorsTest(absltest.TestCase):

  def test_serialize_building_block_raises_for_deep_nesting(self):
    block = bb.Literal(1)
    for _ in range(60):
      block = bb.Lambda(None, None, block)

    with self.assertRaisesRegex(errors.SerializationError, '100 levels'):
      serialization.serialize_building_block(block)

  def test_serialize_building_block_raises_for_recursion_limit(self):
    block = bb.Literal(1)
    for _ in range(5000):
      block = bb.Struct([block])

    with self.assertRaisesRegex(errors.SerializationError, 'too deeply'):
      serialization.serialize_building_block(block)

  def test_serialize_building_block_raises_for_unknown_block_class(self):

    class Custom(bb.ComputationBuildingBlock):
      __slots__ = ()

    with self.assertRaisesRegex(errors.SerializationError, 'Custom'):
      serialization.serialize_building_block(Custom(ct.TensorType(np.int32)))

  def test_serialize_computation_raises_type_error_for_polymorphic(self):
    comp = computation_wrapper.PolymorphicComputation(lambda x: x,
                                                      lambda *specs: None)

    with self.assertRaisesRegex(TypeError, 'Tip: a polymorphic'):
      serialization.serialize_computation(comp)

  def test_serialize_computation_raises_type_error_for_non_function(self):
    with self.assertRaisesRegex(TypeError, 'function type'):
      serialization.serialize_computation(bb.Literal(1))


if __name__ == '__main__':
  absltest.main()
