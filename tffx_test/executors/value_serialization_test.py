import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.executors import federated_value
from tffx.executors import value_serialization
from tffx.proto import computation_pb2
from tffx.types import computation_types as ct
from tffx.types import errors
from tffx.types import placements
from tffx.types import structure
from tffx.types import type_serialization

_Point = collections.namedtuple('_Point', ['x', 'y'])


def _round_trip(value, type_spec=None, type_hint=None):
  data = value_serialization.serialize_value_to_bytes(value, type_spec)
  return value_serialization.deserialize_value_from_bytes(data, type_hint)


def _elements(dataset: tf.data.Dataset) -> list:
  return list(dataset.as_numpy_iterator())


class ArrayTest(parameterized.TestCase):

  @parameterized.parameters(
      'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32',
      'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128',
      'bfloat16', 'float8_e5m2', 'float8_e4m3fn', 'int4', 'uint4')
  def test_round_trip_keeps_values_for_numeric_dtype(self, name):
    dtype = np.dtype(tf.as_dtype(name).as_numpy_dtype)
    value = np.array([[0, 1, 1], [1, 0, 1]]).astype(dtype)

    result, result_type = _round_trip(value)

    self.assertEqual(result.dtype, dtype)
    self.assertEqual(result.tobytes(), value.tobytes())
    self.assertEqual(result.tolist(), value.tolist())
    self.assertIs(result_type, ct.TensorType(dtype, [2, 3]))

  def test_round_trip_keeps_complex_values(self):
    value = np.array([1 + 2j, -3.5j], np.complex64)

    result, _ = _round_trip(value)

    np.testing.assert_array_equal(result, value)

  def test_round_trip_keeps_extreme_values(self):
    value = np.array([np.iinfo(np.uint64).max, 0], np.uint64)

    result, _ = _round_trip(value)

    np.testing.assert_array_equal(result, value)

  def test_round_trip_keeps_special_floats(self):
    value = np.array([np.nan, np.inf, -np.inf, -0.0], np.float32)

    result, _ = _round_trip(value)

    np.testing.assert_array_equal(result, value)
    self.assertTrue(np.signbit(result[3]))

  @parameterized.named_parameters(
      ('unicode', np.array(['a', 'héllo', ''])),
      ('bytes', np.array([b'a', b'h\xc3\xa9llo', b''])),
      ('object', np.array([b'a', 'héllo', b''], dtype=object)),
  )
  def test_round_trip_gives_bytes_for_strings(self, value):
    result, result_type = _round_trip(value, ct.TensorType(np.str_, [3]))

    self.assertEqual(result.dtype, np.dtype(object))
    self.assertEqual(result.tolist(), [b'a', 'héllo'.encode('utf-8'), b''])
    self.assertIs(result_type, ct.TensorType(np.str_, [3]))

  def test_round_trip_keeps_non_utf8_bytes(self):
    value = np.array(b'\xff\x00\xfe', dtype=object)

    result, _ = _round_trip(value, np.str_)

    self.assertEqual(result.item(), b'\xff\x00\xfe')

  @parameterized.named_parameters(
      ('int', 3, np.int32, np.int32(3)),
      ('int_to_float', 3, np.float32, np.float32(3)),
      ('float', 1.5, np.float64, np.float64(1.5)),
      ('bool', True, np.bool_, np.bool_(True)),
      ('numpy_scalar', np.int64(-7), np.int64, np.int64(-7)),
      ('tensor', tf.constant([1.0, 2.0]), (np.float32, [2]),
       np.array([1.0, 2.0], np.float32)),
      ('list', [[1, 2], [3, 4]], (np.int64, [2, 2]),
       np.array([[1, 2], [3, 4]], np.int64)),
      ('unknown_dims', np.zeros([2, 0], np.int8), (np.int8, [None, None]),
       np.zeros([2, 0], np.int8)),
  )
  def test_round_trip_converts_python_and_tf_values(self, value, type_spec,
                                                    expected):
    result, result_type = _round_trip(value, type_spec)

    self.assertEqual(result.dtype, np.asarray(expected).dtype)
    np.testing.assert_array_equal(result, expected)
    self.assertIs(result_type, ct.TensorType(result.dtype, result.shape))

  def test_deserialize_value_gives_zero_dim_array_for_scalar(self):
    result, _ = _round_trip(np.float32(2.5))

    self.assertIsInstance(result, np.ndarray)
    self.assertEqual(result.shape, ())

  def test_deserialized_array_is_writable(self):
    result, _ = _round_trip(np.zeros([3], np.int32))

    result[0] = 1

    self.assertEqual(result[0], 1)

  @parameterized.named_parameters(
      ('dtype', np.zeros([2], np.int64), (np.int32, [2]), 'dtype int64'),
      ('shape', np.zeros([2], np.int32), (np.int32, [3]), r'shape \[2\]'),
      ('float_to_int', 1.5, np.int32, 'does not convert'),
      ('string_for_number', 'a', np.int32, 'int32'),
      ('number_for_string', np.int32(1), np.str_, 'str'),
      ('overflow', 2**40, np.int32, 'int32'),
  )
  def test_serialize_value_raises_type_error_for_mismatch(
      self, value, type_spec, message):
    with self.assertRaisesRegex(TypeError, message):
      value_serialization.serialize_value(value, type_spec)


class StructTest(absltest.TestCase):

  def test_round_trip_keeps_struct_names_and_nesting(self):
    value = structure.Struct([('a', np.int32(1)),
                              (None, structure.Struct.named(b=np.float32(2)))])

    result, result_type = _round_trip(value)

    self.assertEqual(result, value)
    self.assertIs(result_type, ct.StructType(
        [('a', np.int32), (None, ct.StructType([('b', np.float32)]))]))

  def test_round_trip_gives_struct_for_python_containers(self):
    value = collections.OrderedDict(p=_Point(np.int32(1), np.int32(2)),
                                    q=[np.float32(3.0)])

    result, result_type = _round_trip(value)

    self.assertIsInstance(result, structure.Struct)
    self.assertEqual(result.p.y, 2)
    self.assertEqual(result.q[0], 3.0)
    self.assertTrue(result_type.is_equivalent_to(ct.to_type(
        collections.OrderedDict(p=_Point(np.int32, np.int32),
                                q=[np.float32]))))

  def test_round_trip_returns_type_hint(self):
    type_spec = ct.StructWithPythonType([('x', np.int32), ('y', np.int32)],
                                        _Point)

    result, result_type = _round_trip(_Point(1, 2), type_spec, type_spec)

    self.assertIs(result_type, type_spec)
    self.assertEqual(result, structure.Struct.named(x=np.int32(1),
                                                    y=np.int32(2)))

  def test_serialize_value_matches_dict_elements_by_name(self):
    type_spec = ct.StructType([('a', np.int32), ('b', np.str_)])

    result, _ = _round_trip({'b': 'text', 'a': 1}, type_spec)

    self.assertEqual(result.names(), ['a', 'b'])
    self.assertEqual(result.b.item(), b'text')

  def test_serialize_value_raises_for_wrong_element_count(self):
    with self.assertRaisesRegex(TypeError, 'the 2 elements'):
      value_serialization.serialize_value([1], ct.StructType([np.int32,
                                                              np.int32]))

  def test_serialize_value_raises_for_wrong_names(self):
    with self.assertRaisesRegex(TypeError, r"elements \['a', 'b'\]"):
      value_serialization.serialize_value(
          {'a': 1, 'c': 2}, ct.StructType([('a', np.int32), ('b', np.int32)]))

  def test_serialize_value_names_the_bad_element(self):
    type_spec = ct.StructType([('a', ct.StructType([('b', np.int32)]))])

    with self.assertRaisesRegex(TypeError, r"value\['a'\]\['b'\]"):
      value_serialization.serialize_value({'a': {'b': 1.5}}, type_spec)


class SequenceTest(parameterized.TestCase):

  def test_round_trip_keeps_dataset_of_tensors(self):
    dataset = tf.data.Dataset.range(5)

    result, result_type = _round_trip(dataset)

    self.assertIsInstance(result, tf.data.Dataset)
    self.assertEqual(_elements(result), [0, 1, 2, 3, 4])
    self.assertIs(result_type, ct.SequenceType(np.int64))
    self.assertEqual(result.element_spec, dataset.element_spec)

  def test_round_trip_keeps_dataset_of_dicts(self):
    dataset = tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(x=np.arange(3, dtype=np.float32),
                                y=np.array([b'a', b'b', b'c'])))

    result, result_type = _round_trip(dataset)

    self.assertEqual(result.element_spec, dataset.element_spec)
    self.assertEqual([(e['x'], e['y']) for e in _elements(result)],
                     [(0.0, b'a'), (1.0, b'b'), (2.0, b'c')])
    self.assertIs(result_type,
                  ct.SequenceType(ct.to_type(dataset.element_spec)))

  def test_round_trip_keeps_unknown_dimensions_of_element_type(self):
    element_type = ct.TensorType(np.int32, [None])
    elements = [np.array([1, 2], np.int32), np.array([3], np.int32),
                np.array([4, 5], np.int32)]

    result, result_type = _round_trip(elements, ct.SequenceType(element_type))

    self.assertEqual(result.element_spec,
                     tf.TensorSpec([None], tf.int32))
    self.assertEqual([e.tolist() for e in _elements(result)],
                     [[1, 2], [3], [4, 5]])
    self.assertIs(result_type, ct.SequenceType(element_type))

  def test_round_trip_relaxes_shape_of_uniform_elements(self):
    element_type = ct.TensorType(np.float32, [None, 2])
    dataset = tf.data.Dataset.from_tensors(np.ones([3, 2], np.float32))

    result, _ = _round_trip(dataset, ct.SequenceType(element_type))

    self.assertEqual(result.element_spec, tf.TensorSpec([None, 2], tf.float32))

  @parameterized.named_parameters(
      ('tensor', ct.TensorType(np.float32, [None, 3])),
      ('string', ct.TensorType(np.str_)),
      ('unknown_rank', ct.TensorType(np.int32, None)),
      ('struct', ct.StructType([('a', np.int32),
                                ('b', ct.StructType([np.bool_]))])),
  )
  def test_round_trip_keeps_empty_dataset(self, element_type):
    dataset = tf.data.Dataset.from_tensor_slices(
        type_spec_zeros(element_type))

    result, result_type = _round_trip(dataset, ct.SequenceType(element_type))

    self.assertEqual(_elements(result), [])
    self.assertIs(result_type, ct.SequenceType(element_type))
    self.assertTrue(ct.to_type(result.element_spec).is_equivalent_to(
        element_type))

  def test_serialize_value_raises_for_infinite_dataset(self):
    with self.assertRaisesRegex(errors.SerializationError, 'infinite'):
      value_serialization.serialize_value(tf.data.Dataset.range(3).repeat())

  def test_serialize_value_raises_for_wrong_element(self):
    with self.assertRaisesRegex(TypeError, r'value\[1\]'):
      value_serialization.serialize_value(
          [np.int32(1), np.float32(2)], ct.SequenceType(np.int32))


def type_spec_zeros(type_spec: ct.Type):
  """Zero-length tensors for `tf.data.Dataset.from_tensor_slices`."""
  if isinstance(type_spec, ct.StructType):
    return tuple(type_spec_zeros(t) for t in type_spec)
  shape = [0] + [d or 0 for d in (type_spec.shape or ())]
  dtype = object if type_spec.dtype.kind == 'U' else type_spec.dtype
  return tf.constant(np.empty(shape, dtype), dtype=type_spec.tf_dtype)


class FederatedTest(parameterized.TestCase):

  def test_round_trip_keeps_client_members(self):
    type_spec = ct.type_at_clients(np.int32)
    value = federated_value.FederatedValue(
        type_spec, [np.int32(1), np.int32(2), np.int32(3)])

    result, result_type = _round_trip(value)

    self.assertIsInstance(result, federated_value.FederatedValue)
    self.assertIs(result.type_signature, type_spec)
    self.assertEqual([m.item() for m in result.members], [1, 2, 3])
    self.assertIs(result_type, type_spec)

  def test_round_trip_keeps_server_member(self):
    type_spec = ct.type_at_server(ct.StructType([('a', np.float32)]))
    value = federated_value.FederatedValue(
        type_spec, [structure.Struct.named(a=np.float32(1.5))])

    result, _ = _round_trip(value)

    self.assertLen(result.members, 1)
    self.assertEqual(result.members[0].a, 1.5)

  def test_serialize_value_sends_shared_all_equal_member_once(self):
    type_spec = ct.type_at_clients(np.int32, all_equal=True)
    member = np.int32(4)
    value = federated_value.FederatedValue(type_spec, [member] * 5)

    proto = value_serialization.serialize_value(value)
    result, _ = value_serialization.deserialize_value(proto)

    self.assertLen(proto.federated.member, 1)
    self.assertEqual(proto.federated.member_count, 5)
    self.assertLen(result.members, 5)
    self.assertTrue(all(m is result.members[0] for m in result.members))

  def test_round_trip_keeps_zero_clients(self):
    value = federated_value.FederatedValue(ct.type_at_clients(np.int32), [])

    result, _ = _round_trip(value)

    self.assertEmpty(result.members)

  def test_serialize_value_accepts_list_of_client_members(self):
    result, _ = _round_trip([1, 2], ct.type_at_clients(np.int32))

    self.assertEqual([m.item() for m in result.members], [1, 2])

  def test_serialize_value_accepts_server_member(self):
    result, _ = _round_trip([1, 2], ct.type_at_server(
        ct.StructType([np.int32, np.int32])))

    self.assertEqual(result.members[0], structure.Struct.unnamed(
        np.int32(1), np.int32(2)))

  def test_round_trip_keeps_client_datasets(self):
    type_spec = ct.type_at_clients(ct.SequenceType(np.int64))
    value = federated_value.FederatedValue(
        type_spec, [tf.data.Dataset.range(2), tf.data.Dataset.range(3)])

    result, _ = _round_trip(value)

    self.assertEqual([_elements(m) for m in result.members],
                     [[0, 1], [0, 1, 2]])

  def test_serialize_value_raises_for_mismatched_federated_type(self):
    value = federated_value.FederatedValue(ct.type_at_clients(np.int32), [])

    with self.assertRaisesRegex(TypeError, 'federated value of type'):
      value_serialization.serialize_value(value, ct.type_at_server(np.int32))


class ComputationValueTest(absltest.TestCase):

  def test_round_trip_gives_building_block(self):
    block = bb.Lambda('x', np.int32, bb.Reference('x', np.int32))
    comp = computation_impl.ConcreteComputation(block)

    result, result_type = _round_trip(comp)

    self.assertIsInstance(result, bb.Lambda)
    self.assertEqual(result.compact_representation(), '(x -> x)')
    self.assertIs(result_type, block.type_signature)

  def test_round_trip_keeps_struct_of_computation_and_tensor(self):
    block = bb.Lambda(None, None, bb.Literal(np.int32(3)))
    value = structure.Struct.named(f=block, x=np.int32(1))

    result, result_type = _round_trip(value)

    self.assertIsInstance(result.f, bb.Lambda)
    self.assertIs(result_type.f, block.type_signature)

  def test_serialize_value_raises_for_python_callable(self):
    with self.assertRaisesRegex(TypeError, 'Python callables do not travel'):
      value_serialization.serialize_value(lambda x: x,
                                          ct.FunctionType(np.int32, np.int32))

  def test_deserialize_value_raises_for_unbound_reference(self):
    proto = computation_pb2.Value()
    block = bb.Lambda('x', np.int32, bb.Reference('x', np.int32))
    proto.CopyFrom(value_serialization.serialize_value(block))
    getattr(proto.computation, 'lambda').parameter_name = 'y'

    with self.assertRaisesRegex(errors.SerializationError, 'not bound'):
      value_serialization.deserialize_value(proto)


class TypeHintTest(absltest.TestCase):

  def test_deserialize_value_returns_assignable_hint(self):
    hint = ct.TensorType(np.int32, [None])

    _, result_type = _round_trip(np.zeros([4], np.int32), type_hint=hint)

    self.assertIs(result_type, hint)

  def test_deserialize_value_raises_for_incompatible_hint(self):
    with self.assertRaisesRegex(errors.SerializationError,
                                'Expected a value of type float32'):
      _round_trip(np.int32(1), type_hint=np.float32)


class BytesTest(absltest.TestCase):

  def test_serialize_value_to_bytes_is_deterministic(self):
    value = structure.Struct.named(b=np.arange(3), a='x', c=[1.0, 2.0])

    first = value_serialization.serialize_value_to_bytes(value)
    second = value_serialization.serialize_value_to_bytes(value)

    self.assertEqual(first, second)

  def test_serialize_value_raises_for_placement(self):
    with self.assertRaisesRegex(errors.SerializationError, 'PlacementType'):
      value_serialization.serialize_value(placements.CLIENTS,
                                          ct.PlacementType())

  def test_serialize_value_raises_for_too_deep_value(self):
    value = structure.Struct([])
    for _ in range(40):
      value = structure.Struct.unnamed(value)

    with self.assertRaisesRegex(errors.SerializationError, '100 levels'):
      value_serialization.serialize_value(value)


def _value_proto(value, type_spec=None) -> computation_pb2.Value:
  return value_serialization.serialize_value(value, type_spec)


class MalformedValueTest(parameterized.TestCase):

  def _assert_refused(self, proto, *message_parts):
    with self.assertRaises(errors.SerializationError) as caught:
      value_serialization.deserialize_value_from_bytes(
          proto.SerializeToString())
    for part in message_parts:
      self.assertIn(part, str(caught.exception))

  @parameterized.named_parameters(
      ('random', b'\xff\xfe\x00\x01random'),
      ('truncated', value_serialization.serialize_value_to_bytes(
          np.arange(10, dtype=np.int64))[:-5]),
  )
  def test_deserialize_value_from_bytes_raises_for_bad_bytes(self, data):
    with self.assertRaisesRegex(errors.SerializationError,
                                'Cannot parse .* as a value'):
      value_serialization.deserialize_value_from_bytes(data)

  def test_deserialize_value_raises_for_unset_oneof(self):
    self._assert_refused(computation_pb2.Value(), 'no kind set', 'at value')

  def test_deserialize_value_raises_for_unknown_dtype(self):
    proto = _value_proto(np.int32(1))
    proto.array.dtype = 'int128'

    self._assert_refused(proto, "'int128'", 'value.array.dtype')

  @parameterized.named_parameters(
      ('short', 11, 'found 11'),
      ('long', 13, 'found 13'),
      ('empty', 0, 'found 0'),
  )
  def test_deserialize_value_raises_for_content_size_mismatch(
      self, size, message):
    proto = _value_proto(np.zeros([3], np.float32))
    proto.array.content = b'\x00' * size

    self._assert_refused(proto, 'needs 12 bytes', message, 'value.array')

  def test_deserialize_value_raises_for_huge_shape(self):
    proto = _value_proto(np.zeros([1], np.float32))
    proto.array.shape[:] = [2**40, 2**40]

    self._assert_refused(proto, 'needs', 'found 4')

  def test_deserialize_value_raises_for_string_count_mismatch(self):
    proto = _value_proto(np.array(['a', 'b']), ct.TensorType(np.str_, [2]))
    del proto.array.string_value[1]

    self._assert_refused(proto, 'needs 2 elements', 'found 1')

  def test_deserialize_value_raises_for_strings_in_numeric_array(self):
    proto = _value_proto(np.zeros([0], np.float32))
    proto.array.string_value.append(b'x')

    self._assert_refused(proto, 'string elements')

  def test_deserialize_value_raises_for_negative_shape(self):
    proto = _value_proto(np.zeros([0], np.float32))
    proto.array.shape[0] = -1

    self._assert_refused(proto, 'non-negative dimensions')

  def test_deserialize_value_raises_for_duplicate_struct_names(self):
    proto = _value_proto(structure.Struct.named(a=1, b=2))
    proto.struct.element[1].name = 'a'

    self._assert_refused(proto, 'repeats element names')

  def test_deserialize_value_raises_for_member_of_wrong_type(self):
    proto = _value_proto([1, 2], ct.type_at_clients(np.int32))
    proto.federated.member[1].CopyFrom(_value_proto(np.float32(1)))

    self._assert_refused(proto, 'value.federated.member[1]', 'float32')

  def test_deserialize_value_raises_for_two_server_members(self):
    proto = _value_proto(1, ct.type_at_server(np.int32))
    proto.federated.member.add().CopyFrom(proto.federated.member[0])

    self._assert_refused(proto, 'exactly one member', 'found 2')

  def test_deserialize_value_raises_for_member_count_not_all_equal(self):
    proto = _value_proto([1], ct.type_at_clients(np.int32))
    proto.federated.member_count = 3

    self._assert_refused(proto, 'member_count 3')

  def test_deserialize_value_raises_for_huge_member_count(self):
    member = np.int32(1)
    proto = _value_proto(
        federated_value.FederatedValue(
            ct.type_at_clients(np.int32, all_equal=True), [member, member]))
    proto.federated.member_count = 2**60

    self._assert_refused(proto, 'at most')

  def test_deserialize_value_raises_for_federated_without_type(self):
    proto = _value_proto(1, ct.type_at_server(np.int32))
    proto.federated.ClearField('type')

    self._assert_refused(proto, 'has no type')

  def test_deserialize_value_raises_for_non_federated_type(self):
    proto = _value_proto(1, ct.type_at_server(np.int32))
    proto.federated.type.CopyFrom(type_serialization.serialize_type(np.int32))

    self._assert_refused(proto, 'non-federated type int32')

  def test_deserialize_value_raises_for_unknown_placement(self):
    proto = _value_proto(1, ct.type_at_server(np.int32))
    proto.federated.type.federated.placement = 'moon'

    self._assert_refused(proto, "'moon'", 'value.federated.type')

  def test_deserialize_value_raises_for_sequence_element_of_wrong_type(self):
    proto = _value_proto([1, 2], ct.SequenceType(np.int32))
    proto.sequence.element[0].CopyFrom(_value_proto(np.float32(1)))

    self._assert_refused(proto, 'value.sequence.element[0]',
                         'the sequence holds int32')

  def test_deserialize_value_raises_for_sequence_without_element_type(self):
    proto = _value_proto([1, 2], ct.SequenceType(np.int32))
    proto.sequence.ClearField('element_type')

    self._assert_refused(proto, 'no element_type')

  def test_deserialize_value_raises_for_deep_bytes(self):
    proto = computation_pb2.Value()
    current = proto
    for _ in range(50):
      current = current.struct.element.add().value
    current.struct.SetInParent()

    with self.assertRaisesRegex(errors.SerializationError, 'deeper than 100'):
      value_serialization.deserialize_value_from_bytes(
          proto.SerializeToString())

  def test_deserialize_value_raises_for_deep_proto(self):
    proto = computation_pb2.Value()
    current = proto
    for _ in range(3000):
      current = current.struct.element.add().value
    current.struct.SetInParent()

    with self.assertRaisesRegex(errors.SerializationError, '100 levels'):
      value_serialization.deserialize_value(proto)


if __name__ == '__main__':
  absltest.main()
