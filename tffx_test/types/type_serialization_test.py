import collections
import dataclasses
import sys

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.proto import computation_pb2
from tffx.types import computation_types as ct
from tffx.types import errors
from tffx.types import placements
from tffx.types import type_serialization

_Point = collections.namedtuple('_Point', ['x', 'y'])


@dataclasses.dataclass
class _Pair:
  first: int
  second: float


def _sequence_chain(levels: int) -> computation_pb2.Type:
  """A Type proto of `2 * levels + 2` nested messages, built in place."""
  root = computation_pb2.Type()
  current = root
  for _ in range(levels):
    current = current.sequence.element
  current.tensor.dtype = 'int32'
  return root


def _nested_struct_type(levels: int) -> ct.Type:
  t = ct.TensorType(np.int32)
  for _ in range(levels):
    t = ct.StructType([t])
  return t


class RoundTripTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('bool', ct.TensorType(np.bool_)),
      ('int8', ct.TensorType(np.int8)),
      ('int16', ct.TensorType(np.int16)),
      ('int32', ct.TensorType(np.int32)),
      ('int64', ct.TensorType(np.int64)),
      ('uint8', ct.TensorType(np.uint8)),
      ('uint16', ct.TensorType(np.uint16)),
      ('uint32', ct.TensorType(np.uint32)),
      ('uint64', ct.TensorType(np.uint64)),
      ('float16', ct.TensorType(np.float16)),
      ('float32', ct.TensorType(np.float32)),
      ('float64', ct.TensorType(np.float64)),
      ('bfloat16', ct.TensorType(tf.bfloat16)),
      ('float8_e4m3fn', ct.TensorType(tf.as_dtype('float8_e4m3fn'))),
      ('int4', ct.TensorType(tf.as_dtype('int4'))),
      ('complex64', ct.TensorType(np.complex64)),
      ('complex128', ct.TensorType(np.complex128)),
      ('str', ct.TensorType(np.str_)),
      ('matrix', ct.TensorType(np.float32, [2, 3])),
      ('unknown_dim', ct.TensorType(np.float32, [None, 3])),
      ('zero_dim', ct.TensorType(np.int32, [0])),
      ('unknown_rank', ct.TensorType(np.int32, None)),
      ('empty_struct', ct.StructType([])),
      ('unnamed_struct', ct.StructType([np.int32, np.float32])),
      ('named_struct', ct.StructType([('a', np.int32), ('b', np.str_)])),
      ('mixed_struct', ct.StructType([('a', np.int32), (None, np.bool_)])),
      ('nested_struct',
       ct.StructType([('a', ct.StructType([('b', ct.StructType([]))]))])),
      ('list', ct.StructWithPythonType([np.int32, np.float32], list)),
      ('tuple', ct.StructWithPythonType([np.int32], tuple)),
      ('dict', ct.StructWithPythonType([('a', np.int32)], dict)),
      ('ordered_dict',
       ct.StructWithPythonType([('b', np.int32), ('a', np.float32)],
                               collections.OrderedDict)),
      ('empty_list', ct.StructWithPythonType([], list)),
      ('sequence', ct.SequenceType(ct.TensorType(np.float32, [None]))),
      ('sequence_of_structs',
       ct.SequenceType(ct.StructWithPythonType([('x', np.int32)], dict))),
      ('function', ct.FunctionType(np.int32, np.float32)),
      ('function_no_parameter', ct.FunctionType(None, np.int32)),
      ('function_of_functions',
       ct.FunctionType(ct.FunctionType(np.int32, np.int32),
                       ct.FunctionType(None, np.bool_))),
      ('abstract', ct.AbstractType('T')),
      ('abstract_function',
       ct.FunctionType(ct.AbstractType('T'), ct.AbstractType('U'))),
      ('placement', ct.PlacementType()),
      ('at_clients', ct.type_at_clients(np.float32)),
      ('at_clients_all_equal', ct.type_at_clients(np.float32, all_equal=True)),
      ('at_server', ct.type_at_server(ct.StructType([('a', np.int32)]))),
      ('at_server_not_all_equal',
       ct.FederatedType(np.int32, placements.SERVER, all_equal=False)),
      ('federated_sequence', ct.type_at_clients(ct.SequenceType(np.int32))),
      ('federated_function',
       ct.FunctionType(
           ct.StructType([('x', ct.type_at_clients(np.int32)),
                          ('f', ct.FunctionType(np.int32, np.float32))]),
           ct.type_at_server(np.float32))),
  )
  def test_deserialize_returns_same_type_for_every_kind(self, type_spec):
    proto = type_serialization.serialize_type(type_spec)

    result = type_serialization.deserialize_type(
        computation_pb2.Type.FromString(proto.SerializeToString()))

    self.assertIs(result, type_spec)

  @parameterized.named_parameters(
      ('namedtuple', _Point(np.int32, np.float32), '_Point', ('x', 'y')),
      ('dataclass', _Pair(np.int32, np.float32), '_Pair', ('first', 'second')),
  )
  def test_deserialize_returns_plain_struct_for_container_recorded_by_name(
      self, spec, class_name, names):
    type_spec = ct.to_type(spec)

    proto = type_serialization.serialize_type(type_spec)
    result = type_serialization.deserialize_type(proto)

    self.assertEqual(proto.struct.container, '')
    self.assertEqual(proto.struct.container_name, f'{__name__}.{class_name}')
    self.assertIs(result,
                  ct.StructType([(names[0], np.int32), (names[1], np.float32)]))

  def test_deserialize_does_not_import_module_named_by_container_name(self):
    proto = type_serialization.serialize_type(ct.StructType([('a', np.int32)]))
    proto.struct.container_name = 'tffx_test_not_a_module.evil.Payload'

    result = type_serialization.deserialize_type(proto)

    self.assertIs(result, ct.StructType([('a', np.int32)]))
    self.assertNotIn('tffx_test_not_a_module', sys.modules)

  def test_serialize_type_accepts_type_specs(self):
    proto = type_serialization.serialize_type((np.float32, [2]))

    self.assertIs(type_serialization.deserialize_type(proto),
                  ct.TensorType(np.float32, [2]))

  def test_serialize_type_is_deterministic(self):
    type_spec = ct.StructWithPythonType(
        [('b', ct.type_at_clients(np.int32)), ('a', ct.SequenceType(np.str_))],
        collections.OrderedDict)

    first = type_serialization.serialize_type(type_spec).SerializeToString(
        deterministic=True)
    second = type_serialization.serialize_type(type_spec).SerializeToString(
        deterministic=True)

    self.assertEqual(first, second)

  def test_tensor_dims_mark_unknown_dimensions_with_minus_one(self):
    proto = type_serialization.serialize_type(ct.TensorType(np.int32, [None, 4]))

    self.assertEqual(list(proto.tensor.dims), [-1, 4])
    self.assertFalse(proto.tensor.unknown_rank)


class DtypeNameTest(parameterized.TestCase):

  @parameterized.parameters('bool', 'int8', 'uint64', 'float16', 'bfloat16',
                            'complex128', 'float8_e5m2', 'uint2', 'str')
  def test_name_to_dtype_inverts_dtype_to_name(self, name):
    dtype = type_serialization.name_to_dtype(name)

    self.assertEqual(type_serialization.dtype_to_name(dtype), name)

  @parameterized.parameters(np.dtype('U3'), np.dtype('S2'), np.dtype(object))
  def test_dtype_to_name_maps_string_dtypes_to_str(self, dtype):
    self.assertEqual(type_serialization.dtype_to_name(dtype), 'str')

  def test_dtype_to_name_accepts_big_endian(self):
    self.assertEqual(type_serialization.dtype_to_name(np.dtype('>i4')), 'int32')

  def test_dtype_to_name_raises_for_dtype_without_wire_form(self):
    with self.assertRaisesRegex(errors.SerializationError, 'no wire form'):
      type_serialization.dtype_to_name(np.dtype(np.longdouble))

  @parameterized.parameters('object', 'float128', 'V8', 'int', '', 'Float32')
  def test_name_to_dtype_raises_for_unknown_name(self, name):
    with self.assertRaisesRegex(errors.SerializationError, 'Unknown dtype name'):
      type_serialization.name_to_dtype(name)


class MalformedTypeTest(parameterized.TestCase):

  def _assert_refused(self, proto, *message_parts):
    with self.assertRaises(errors.SerializationError) as caught:
      type_serialization.deserialize_type(proto)
    for part in message_parts:
      self.assertIn(part, str(caught.exception))

  def test_deserialize_raises_for_unset_oneof(self):
    self._assert_refused(computation_pb2.Type(), 'no kind set', 'at type')

  def test_deserialize_raises_for_unset_oneof_nested(self):
    proto = computation_pb2.Type()
    proto.struct.element.add(name='a')

    self._assert_refused(proto, 'type.struct.element[0].value', 'no kind set')

  def test_deserialize_raises_for_unknown_dtype(self):
    proto = computation_pb2.Type()
    proto.tensor.dtype = 'float128'

    self._assert_refused(proto, "'float128'", 'type.tensor.dtype')

  def test_deserialize_raises_for_unknown_placement_uri(self):
    proto = type_serialization.serialize_type(ct.type_at_server(np.int32))
    proto.federated.placement = 'moon'

    self._assert_refused(proto, "'moon'", 'type.federated.placement')

  def test_deserialize_raises_for_unknown_container(self):
    proto = type_serialization.serialize_type(ct.StructType([np.int32]))
    proto.struct.container = 'os.system'

    self._assert_refused(proto, "'os.system'", 'type.struct.container')

  def test_deserialize_raises_for_both_container_fields(self):
    proto = type_serialization.serialize_type(
        ct.StructWithPythonType([np.int32], list))
    proto.struct.container_name = 'x.Y'

    self._assert_refused(proto, 'sets both container')

  def test_deserialize_raises_for_dict_of_unnamed_elements(self):
    proto = type_serialization.serialize_type(
        ct.StructWithPythonType([np.int32], list))
    proto.struct.container = 'dict'

    self._assert_refused(proto, 'unnamed elements', 'type.struct')

  def test_deserialize_raises_for_duplicate_element_names(self):
    proto = type_serialization.serialize_type(
        ct.StructType([('a', np.int32), ('b', np.int32)]))
    proto.struct.element[1].name = 'a'

    self._assert_refused(proto, 'Invalid type at type.struct', "'a'")

  def test_deserialize_raises_for_unknown_rank_with_dims(self):
    proto = computation_pb2.Type()
    proto.tensor.dtype = 'int32'
    proto.tensor.unknown_rank = True
    proto.tensor.dims.append(2)

    self._assert_refused(proto, 'unknown rank', 'type.tensor')

  def test_deserialize_raises_for_negative_dimension(self):
    proto = type_serialization.serialize_type(ct.TensorType(np.int32, [3]))
    proto.tensor.dims[0] = -5

    self._assert_refused(proto, 'dimension -5')

  @parameterized.named_parameters(
      ('federated_member', ct.type_at_server(np.int32), 'federated', 'member'),
      ('function_result', ct.FunctionType(None, np.int32), 'function',
       'result'),
      ('sequence_element', ct.SequenceType(np.int32), 'sequence', 'element'),
  )
  def test_deserialize_raises_for_missing_required_field(
      self, type_spec, kind, field):
    proto = type_serialization.serialize_type(type_spec)
    getattr(proto, kind).ClearField(field)

    self._assert_refused(proto, f'type.{kind}', repr(field))

  def test_deserialize_raises_for_empty_abstract_label(self):
    proto = computation_pb2.Type()
    proto.abstract.SetInParent()

    self._assert_refused(proto, 'empty label')

  def test_deserialize_raises_for_federated_inside_federated(self):
    proto = type_serialization.serialize_type(ct.type_at_server(np.int32))
    inner = type_serialization.serialize_type(ct.type_at_clients(np.int32))
    proto.federated.member.CopyFrom(inner)

    self._assert_refused(proto, 'Invalid type at type.federated')

  def test_deserialize_raises_for_function_inside_sequence(self):
    proto = type_serialization.serialize_type(ct.SequenceType(np.int32))
    proto.sequence.element.CopyFrom(
        type_serialization.serialize_type(ct.FunctionType(None, np.int32)))

    self._assert_refused(proto, 'Invalid type at type.sequence')

  def test_deserialize_raises_type_error_for_other_message(self):
    with self.assertRaises(TypeError):
      type_serialization.deserialize_type(computation_pb2.Value())


class NestingDepthTest(absltest.TestCase):

  def test_check_nesting_depth_accepts_parser_limit(self):
    proto = _sequence_chain(49)  # 100 levels.

    type_serialization.check_nesting_depth(proto, 'The type')
    parsed = computation_pb2.Type.FromString(proto.SerializeToString())

    self.assertEqual(parsed, proto)

  def test_check_nesting_depth_raises_beyond_parser_limit(self):
    proto = _sequence_chain(50)  # 102 levels.

    with self.assertRaisesRegex(errors.SerializationError,
                                'The type nests .* more than 100 levels'):
      type_serialization.check_nesting_depth(proto, 'The type')

  def test_deserialize_raises_for_deep_proto(self):
    proto = _sequence_chain(2000)

    with self.assertRaisesRegex(errors.SerializationError, '100 levels'):
      type_serialization.deserialize_type(proto)

  def test_parse_message_raises_for_deep_bytes(self):
    data = _sequence_chain(60).SerializeToString()

    with self.assertRaisesRegex(errors.SerializationError, 'deeper than 100'):
      type_serialization.parse_message(computation_pb2.Type, data, 'a type')

  def test_serialize_type_raises_for_type_too_deep_to_parse(self):
    type_spec = _nested_struct_type(40)

    with self.assertRaisesRegex(errors.SerializationError, '100 levels'):
      type_serialization.serialize_type(type_spec)

  def test_serialize_type_round_trips_deepest_parsable_struct(self):
    type_spec = _nested_struct_type(32)  # 98 levels.
    data = type_serialization.serialize_type(type_spec).SerializeToString()

    result = type_serialization.deserialize_type(
        type_serialization.parse_message(computation_pb2.Type, data, 'a type'))

    self.assertIs(result, type_spec)


class ParseMessageTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('random', b'\xff\xfe\xfd\xfc\x00\x13\x99'),
      ('truncated', type_serialization.serialize_type(
          ct.StructType([('a', np.int32)])).SerializeToString()[:-3]),
  )
  def test_parse_message_raises_for_malformed_bytes(self, data):
    with self.assertRaisesRegex(errors.SerializationError,
                                'Cannot parse .* as a type'):
      type_serialization.parse_message(computation_pb2.Type, data, 'a type')

  def test_parse_message_raises_type_error_for_str(self):
    with self.assertRaisesRegex(TypeError, 'Expected the serialized bytes'):
      type_serialization.parse_message(computation_pb2.Type, 'abc', 'a type')

  def test_serialization_error_is_value_error(self):
    self.assertTrue(issubclass(errors.SerializationError, ValueError))


if __name__ == '__main__':
  absltest.main()
