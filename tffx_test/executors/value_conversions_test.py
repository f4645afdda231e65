import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.executors import value_conversions
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure

F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)
Struct = structure.Struct
Point = collections.namedtuple('Point', ['x', 'y'])


class CountClientsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('one_list', ct.type_at_clients(F32), [1.0, 2.0, 3.0], 3),
      ('empty_list', ct.type_at_clients(F32), [], 0),
      ('no_clients', ct.type_at_server(F32), 1.0, None),
      ('all_equal', ct.type_at_clients(F32, True), 1.0, None),
      ('unplaced', F32, 1.0, None),
      ('nested', ct.StructType([('a', ct.type_at_server(F32)),
                                ('b', ct.StructType([ct.type_at_clients(I32)]))
                               ]), {'a': 1.0, 'b': [[1, 2]]}, 2),
  )
  def test_count_clients_finds_list_lengths(self, type_spec, value, expected):
    count = value_conversions.count_clients(value, type_spec)

    self.assertEqual(count, expected)

  def test_count_clients_raises_on_conflicting_counts(self):
    type_spec = ct.StructType([ct.type_at_clients(F32),
                               ct.type_at_clients(I32)])

    with self.assertRaisesRegex(errors.ClientCountError,
                                r'\[2, 3\].*\[0\] has 2, \[1\] has 3'):
      value_conversions.count_clients([[1.0, 2.0], [1, 2, 3]], type_spec)

  def test_count_clients_error_is_value_error(self):
    self.assertTrue(issubclass(errors.ClientCountError, ValueError))


class ToExecutorValueTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('python_float', 1.5, F32, np.float32(1.5)),
      ('python_int_to_float', 2, F32, np.float32(2)),
      ('python_int', 7, I32, np.int32(7)),
      ('python_bool', True, ct.TensorType(np.bool_), np.bool_(True)),
      ('numpy_same', np.int32(3), I32, np.int32(3)),
      ('numpy_safe_cast', np.int32(3), ct.TensorType(np.int64), np.int64(3)),
      ('python_list', [1.0, 2.0], ct.TensorType(np.float32, [2]),
       np.float32([1, 2])),
      ('unknown_dim', np.float32([1, 2, 3]), ct.TensorType(np.float32, [None]),
       np.float32([1, 2, 3])),
      ('empty_list', [], ct.TensorType(np.int32, [0]), np.int32([])),
      ('eager_tensor', tf.constant([1, 2]), ct.TensorType(np.int32, [2]),
       np.int32([1, 2])),
      ('string', 'abc', ct.TensorType(np.str_), np.str_('abc')),
  )
  def test_to_executor_value_converts_tensor(self, value, type_spec,
                                             expected):
    result = value_conversions.to_executor_value(value, type_spec)

    self.assertIsInstance(result, np.ndarray)
    np.testing.assert_array_equal(result, expected)
    if type_spec.dtype.kind != 'U':
      self.assertEqual(result.dtype, type_spec.dtype)

  @parameterized.named_parameters(
      ('float_to_int', 1.5, I32, r'expected int32, found 1\.5'),
      ('int_too_large', 2**40, I32, 'does not fit int32'),
      ('unsafe_numpy_cast', np.float64(1.0), F32, r'Tip: .*astype\(np.float32'),
      ('bool_to_int', True, I32, 'expected int32'),
      ('wrong_shape', [1.0, 2.0], ct.TensorType(np.float32, [3]),
       r'shape is \(2,\)'),
      ('string_to_float', 'a', F32, 'expected float32'),
      ('ragged', [[1.0], [1.0, 2.0]], ct.TensorType(np.float32, [None, None]),
       'ragged'),
      ('object', object(), F32, 'object'),
  )
  def test_to_executor_value_refuses_tensor(self, value, type_spec, message):
    with self.assertRaisesRegex(errors.ArgumentTypeError, message):
      value_conversions.to_executor_value(value, type_spec)

  @parameterized.named_parameters(
      ('dict_in_other_order', {'y': 2, 'x': 1.0}),
      ('namedtuple', Point(x=1.0, y=2)),
      ('struct', Struct.named(x=1.0, y=2)),
      ('unnamed_list', [1.0, 2]),
  )
  def test_to_executor_value_converts_struct_by_name(self, value):
    type_spec = ct.StructType([('x', F32), ('y', I32)])

    result = value_conversions.to_executor_value(value, type_spec)

    self.assertIsInstance(result, Struct)
    self.assertEqual(result.names(), ['x', 'y'])
    self.assertEqual(result.x.dtype, np.float32)
    self.assertEqual(result.y.dtype, np.int32)
    self.assertEqual(result, Struct.named(x=1.0, y=2))

  @parameterized.named_parameters(
      ('wrong_name', {'x': 1.0, 'z': 2}, 'keys'),
      ('wrong_length', [1.0], '1 elements, the type 2'),
      ('misnamed_struct', Struct.named(y=1.0, x=2), "named 'y'"),
      ('not_a_struct', 1.0, 'expected a struct'),
  )
  def test_to_executor_value_refuses_struct(self, value, message):
    type_spec = ct.StructType([('x', F32), ('y', I32)])

    with self.assertRaisesRegex(errors.ArgumentTypeError, message):
      value_conversions.to_executor_value(value, type_spec)

  def test_to_executor_value_error_names_both_types(self):
    type_spec = ct.type_at_clients(F32)

    with self.assertRaises(errors.ArgumentTypeError) as raised:
      value_conversions.to_executor_value(['a', 'b'], type_spec, 2)

    message = str(raised.exception)
    self.assertIn('Expected an argument of type {float32}@CLIENTS', message)
    self.assertIn('found one of type {str}@CLIENTS', message)
    self.assertIn('[client 0]', message)
    self.assertIsInstance(raised.exception, TypeError)

  def test_to_executor_value_places_client_list(self):
    type_spec = ct.type_at_clients(F32)

    result = value_conversions.to_executor_value([1.0, 2.0], type_spec, 2)

    self.assertIsInstance(result, federated_value.FederatedValue)
    self.assertEqual(result.type_signature, type_spec)
    self.assertEqual(list(result.members), [1.0, 2.0])

  def test_to_executor_value_repeats_all_equal_client_value(self):
    type_spec = ct.type_at_clients(F32, all_equal=True)

    result = value_conversions.to_executor_value(3.0, type_spec, 4)

    self.assertEqual(list(result.members), [3.0] * 4)

  def test_to_executor_value_places_server_value(self):
    type_spec = ct.type_at_server(ct.StructType([('a', I32)]))

    result = value_conversions.to_executor_value({'a': 1}, type_spec, 4)

    self.assertEqual(result.members, (Struct.named(a=1),))

  def test_to_executor_value_refuses_non_list_client_value(self):
    type_spec = ct.type_at_clients(F32)

    with self.assertRaisesRegex(errors.ArgumentTypeError,
                                'Tip: give a value placed at CLIENTS as a'):
      value_conversions.to_executor_value(1.0, type_spec, 1)

  def test_to_executor_value_refuses_wrong_client_count(self):
    type_spec = ct.type_at_clients(F32)

    with self.assertRaisesRegex(errors.ClientCountError, 'Expected 3 clients'):
      value_conversions.to_executor_value([1.0], type_spec, 3)

  def test_to_executor_value_builds_dataset_from_list(self):
    type_spec = ct.SequenceType(ct.StructType([('a', I32), ('b', F32)]))

    result = value_conversions.to_executor_value(
        [{'a': 1, 'b': 2.0}, {'a': 3, 'b': 4.0}], type_spec)

    self.assertIsInstance(result, tf.data.Dataset)
    self.assertEqual(
        value_conversions.dataset_elements(result, type_spec.element),
        [Struct.named(a=1, b=2.0), Struct.named(a=3, b=4.0)])

  def test_to_executor_value_accepts_fitting_dataset(self):
    dataset = tf.data.Dataset.from_tensor_slices(np.float32([1, 2]))

    result = value_conversions.to_executor_value(dataset, ct.SequenceType(F32))

    self.assertIs(result, dataset)

  def test_to_executor_value_refuses_dataset_of_other_dtype(self):
    dataset = tf.data.Dataset.from_tensor_slices(np.int64([1, 2]))

    with self.assertRaisesRegex(errors.ArgumentTypeError, 'element spec'):
      value_conversions.to_executor_value(dataset, ct.SequenceType(F32))

  def test_to_executor_value_converts_computation_to_block(self):
    block = bb.Lambda('x', F32, bb.Reference('x', F32))
    comp = computation_impl.ConcreteComputation(block)

    result = value_conversions.to_executor_value(comp,
                                                 ct.FunctionType(F32, F32))

    self.assertIs(result, block)

  def test_to_executor_value_refuses_computation_of_other_type(self):
    comp = computation_impl.ConcreteComputation(
        bb.Lambda('x', I32, bb.Reference('x', I32)))

    with self.assertRaisesRegex(errors.ArgumentTypeError,
                                r'\(int32 -> int32\)'):
      value_conversions.to_executor_value(comp, ct.FunctionType(F32, F32))

  def test_to_executor_value_passes_placement(self):
    result = value_conversions.to_executor_value(placements.CLIENTS,
                                                 ct.PlacementType())

    self.assertIs(result, placements.CLIENTS)

  def test_to_executor_value_refuses_argument_for_no_parameter(self):
    with self.assertRaisesRegex(errors.ArgumentTypeError, 'no argument'):
      value_conversions.to_executor_value(1, None)


class ToPythonValueTest(parameterized.TestCase):

  def test_to_python_value_gives_numpy_scalar_for_0d(self):
    result = value_conversions.to_python_value(np.asarray(1.5, np.float32), F32)

    self.assertIsInstance(result, np.float32)
    self.assertEqual(result, 1.5)

  @parameterized.named_parameters(
      ('namedtuple', Point, Point(x=np.float32(1), y=np.int32(2))),
      ('dict', dict, {'x': np.float32(1), 'y': np.int32(2)}),
      ('ordered_dict', collections.OrderedDict,
       collections.OrderedDict(x=np.float32(1), y=np.int32(2))),
  )
  def test_to_python_value_rebuilds_container(self, container, expected):
    type_spec = ct.StructWithPythonType([('x', F32), ('y', I32)], container)
    value = Struct.named(x=np.asarray(1, np.float32), y=np.asarray(2, np.int32))

    result = value_conversions.to_python_value(value, type_spec)

    self.assertIs(type(result), container)
    self.assertEqual(result, expected)

  def test_to_python_value_keeps_struct_without_container(self):
    type_spec = ct.StructType([('x', F32), (None, I32)])
    value = Struct([('x', np.asarray(1, np.float32)),
                    (None, np.asarray(2, np.int32))])

    result = value_conversions.to_python_value(value, type_spec)

    self.assertIsInstance(result, Struct)
    self.assertEqual(result, value)

  def test_to_python_value_gives_list_of_client_members(self):
    type_spec = ct.type_at_clients(ct.StructWithPythonType([F32], list))
    value = federated_value.FederatedValue(
        type_spec, [Struct.unnamed(np.float32(i)) for i in range(3)])

    result = value_conversions.to_python_value(value, type_spec)

    self.assertEqual(result, [[0.0], [1.0], [2.0]])

  @parameterized.named_parameters(
      ('server', ct.type_at_server(F32), 1),
      ('all_equal_clients', ct.type_at_clients(F32, True), 3),
  )
  def test_to_python_value_gives_single_member(self, type_spec, count):
    value = federated_value.FederatedValue(type_spec,
                                           [np.float32(2)] * count)

    result = value_conversions.to_python_value(value, type_spec)

    self.assertEqual(result, np.float32(2))

  def test_to_python_value_raises_for_all_equal_result_of_zero_clients(self):
    type_spec = ct.type_at_clients(F32, True)
    value = federated_value.FederatedValue(type_spec, [])

    with self.assertRaisesRegex(errors.ClientCountError, '0 clients'):
      value_conversions.to_python_value(value, type_spec)

  def test_to_python_value_gives_list_of_sequence_elements(self):
    type_spec = ct.SequenceType(
        ct.StructWithPythonType([('a', I32)], collections.OrderedDict))
    dataset = tf.data.Dataset.from_tensor_slices({'a': np.int32([4, 5])})

    result = value_conversions.to_python_value(dataset, type_spec)

    self.assertEqual(result, [collections.OrderedDict(a=4),
                              collections.OrderedDict(a=5)])


class DatasetTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('scalars', I32, [np.int32(1), np.int32(2)]),
      ('empty', ct.TensorType(np.float32, [2]), []),
      ('ragged', ct.TensorType(np.int32, [None]),
       [np.int32([1]), np.int32([1, 2])]),
      ('named_struct', ct.StructType([('b', F32), ('a', I32)]),
       [Struct.named(b=np.float32(1), a=np.int32(2))]),
      ('namedtuple', ct.StructWithPythonType([('x', F32), ('y', I32)], Point),
       [Struct.named(x=np.float32(1), y=np.int32(2))]),
  )
  def test_dataset_elements_returns_what_to_dataset_got(self, element_type,
                                                        elements):
    dataset = value_conversions.to_dataset(elements, element_type)

    result = value_conversions.dataset_elements(dataset, element_type)

    self.assertLen(result, len(elements))
    for actual, expected in zip(result, elements):
      if isinstance(expected, Struct):
        self.assertEqual(actual, expected)
      else:
        np.testing.assert_array_equal(actual, expected)


class StringResultTest(parameterized.TestCase):

  def test_string_scalar_comes_back_as_bytes(self):

    result = value_conversions.to_python_value(
        np.asarray('Hello'), ct.TensorType(np.str_))

    self.assertEqual(result, b'Hello')
    self.assertIsInstance(result, bytes)

  def test_string_array_comes_back_as_object_array_of_bytes(self):

    result = value_conversions.to_python_value(
        np.asarray(['a', 'bc']), ct.TensorType(np.str_, [2]))

    self.assertEqual(result.dtype, object)
    self.assertEqual(result.tolist(), [b'a', b'bc'])

  @tff.test.with_contexts(
      ('native', tff.backends.native.create_local_execution_context),
      ('reference',
       tff.backends.reference.create_reference_execution_context),
  )
  def test_federated_computation_returning_a_string_gives_bytes(self):

    @tff.federated_computation
    def hello_world():
      return 'Hello, World!'

    self.assertEqual(hello_world(), b'Hello, World!')

  def test_tf_computation_returning_strings_gives_bytes(self):

    @tff.tf_computation
    def words():
      return tf.constant(['a', 'bc'])

    self.assertEqual(words().tolist(), [b'a', b'bc'])


class EmptyStructStateTest(parameterized.TestCase):

  def _empty_state_process(self):
    @tff.tf_computation
    def empty():
      return structure.Struct([])

    @tff.federated_computation
    def initialize():
      return tff.federated_eval(empty, tff.SERVER)

    @tff.federated_computation(
        tff.type_at_server(ct.StructType([])), tff.type_at_clients(np.float32))
    def next_fn(state, value):
      return tff.templates.MeasuredProcessOutput(
          state, value, tff.federated_value((), tff.SERVER))

    return tff.templates.MeasuredProcess(initialize, next_fn)

  def test_process_with_empty_state_runs_two_rounds(self):
    process = self._empty_state_process()
    state = process.initialize()

    results = []
    for _ in range(2):
      output = process.next(state, [1.0, 2.0])
      state = output.state
      results.append(output.result)

    self.assertEqual(str(process.initialize.type_signature.result), '<>@SERVER')
    self.assertEqual(state, structure.Struct([]))
    self.assertEqual(results, [[1.0, 2.0], [1.0, 2.0]])

  def test_chained_processes_with_empty_states_run_two_rounds(self):
    chained = tff.templates.chain_measured_processes(
        collections.OrderedDict(a=self._empty_state_process(),
                                b=self._empty_state_process()))
    state = chained.initialize()

    for _ in range(2):
      output = chained.next(state, [1.0, 2.0])
      state = output.state

    self.assertEqual(list(state), ['a', 'b'])
    self.assertEqual(state['a'], structure.Struct([]))
    self.assertEqual(output.result, [1.0, 2.0])


if __name__ == '__main__':
  absltest.main()
