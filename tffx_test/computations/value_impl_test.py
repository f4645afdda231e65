import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.computations import context_stack
from tffx.computations import errors
from tffx.computations import federated_computation as fc
from tffx.computations import value_impl
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure

_INT = ct.TensorType(np.int32)
_AB = ct.StructType([('a', np.int32), ('b', np.float32)])
_Point = collections.namedtuple('_Point', ['x', 'y'])


def _ref(t, name='v'):
  return value_impl.Value(bb.Reference(name, t))


def _identity(t):
  return computation_impl.ConcreteComputation(
      bb.Lambda('v', t, bb.Reference('v', t)), 'identity')


class ToValueTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('int', 3, 'int32'),
      ('large_int', 2**40, 'int64'),
      ('float', 1.5, 'float32'),
      ('bool', True, 'bool'),
      ('str', 'abc', 'str'),
      ('bytes', b'abc', 'str'),
      ('numpy_scalar', np.float64(2.0), 'float64'),
      ('numpy_array', np.zeros([2, 3], np.int64), 'int64[2,3]'),
  )
  def test_constant_becomes_literal(self, constant, expected_type):

    value = value_impl.to_value(constant)

    self.assertIsInstance(value.comp, bb.Literal)
    self.assertEqual(str(value.type_signature), expected_type)

  @parameterized.named_parameters(
      ('int_to_float', 0, np.float32, 'float32'),
      ('int_to_int64', 5, np.int64, 'int64'),
      ('int_too_large_for_int8', 300, np.int8, 'int32'),
      ('float_to_float64', 0.5, np.float64, 'float64'),
      ('float_not_to_int', 1.5, np.int32, 'float32'),
      ('bool_not_to_int', True, np.int32, 'bool'),
      ('int_not_to_bool', 1, np.bool_, 'int32'),
  )
  def test_python_scalar_takes_hint_dtype_of_its_kind(self, constant, dtype,
                                                      expected_type):

    value = value_impl.to_value(constant, ct.TensorType(dtype))

    self.assertEqual(str(value.type_signature), expected_type)

  def test_numpy_value_ignores_hint(self):

    value = value_impl.to_value(np.int32(1), ct.TensorType(np.float32))

    self.assertEqual(str(value.type_signature), 'int32')

  @parameterized.named_parameters(
      ('list', [1, 2.0], list, '<int32,float32>'),
      ('tuple', (1,), tuple, '<int32>'),
      ('dict', {'a': 1, 'b': True}, dict, '<a=int32,b=bool>'),
      ('ordered_dict', collections.OrderedDict(a=1), collections.OrderedDict,
       '<a=int32>'),
      ('namedtuple', _Point(1, 2), _Point, '<x=int32,y=int32>'),
      ('empty_list', [], list, '<>'),
  )
  def test_container_becomes_struct_keeping_container(self, container,
                                                      expected_container,
                                                      expected_type):

    value = value_impl.to_value(container)

    self.assertIsInstance(value.comp, bb.Struct)
    self.assertIs(value.type_signature.python_container, expected_container)
    self.assertEqual(str(value.type_signature), expected_type)

  def test_struct_becomes_plain_struct(self):

    value = value_impl.to_value(structure.Struct([('a', 1), (None, 2.0)]))

    self.assertIsNone(value.type_signature.python_container)
    self.assertEqual(str(value.type_signature), '<a=int32,float32>')

  def test_container_passes_hint_to_elements(self):
    hint = ct.StructType([('a', np.float32), ('b', np.int64)])

    value = value_impl.to_value({'a': 0, 'b': 1}, hint)

    self.assertEqual(str(value.type_signature), '<a=float32,b=int64>')

  def test_container_of_values_keeps_their_blocks(self):
    v = _ref(_INT)

    value = value_impl.to_value([v, {'w': v}])

    self.assertEqual(str(value), '<v,<w=v>>')

  def test_placement_becomes_placement_block(self):

    value = value_impl.to_value(placements.CLIENTS)

    self.assertIsInstance(value.comp, bb.Placement)
    self.assertEqual(str(value.type_signature), 'placement')

  def test_concrete_computation_becomes_its_block(self):
    comp = _identity(_INT)

    value = value_impl.to_value(comp)

    self.assertIs(value.comp, comp.to_building_block())

  def test_polymorphic_computation_instantiated_at_hint(self):
    poly = fc.federated_computation(lambda v: v)

    value = value_impl.to_value(poly, parameter_type_hint=_AB)

    self.assertEqual(str(value.type_signature),
                     '(<a=int32,b=float32> -> <a=int32,b=float32>)')

  def test_polymorphic_computation_without_hint_raises(self):
    poly = fc.federated_computation(lambda v: v)

    with self.assertRaises(errors.ValueConversionError) as raised:
      value_impl.to_value(poly)

    self.assertIn('expected a parameter type', str(raised.exception))

  @parameterized.named_parameters(
      ('python_function', lambda x: x, 'found the Python function'),
      ('none', None, 'found None'),
      ('object', object(), 'found <object object'),
  )
  def test_unconvertible_raises(self, obj, found):

    with self.assertRaises(errors.ValueConversionError) as raised:
      value_impl.to_value(obj)

    self.assertIn(found, str(raised.exception))


class ValueTest(parameterized.TestCase):

  def test_type_signature_is_block_type(self):

    value = _ref(_AB)

    self.assertIs(value.type_signature, _AB)

  @parameterized.named_parameters(
      ('attribute', lambda v: v.b, 'v.b'),
      ('name', lambda v: v['b'], 'v.b'),
      ('index', lambda v: v[0], 'v.a'),
      ('negative_index', lambda v: v[-1], 'v.b'),
      ('slice', lambda v: v[1:], '<b=v.b>'),
  )
  def test_struct_selection(self, select, expected):

    selected = select(_ref(_AB))

    self.assertEqual(str(selected), expected)

  def test_len_and_iteration_of_struct(self):
    value = _ref(_AB)

    elements = list(value)

    self.assertLen(value, 2)
    self.assertEqual([str(e) for e in elements], ['v.a', 'v.b'])

  def test_dir_lists_element_names(self):

    names = dir(_ref(_AB))

    self.assertIn('a', names)
    self.assertIn('b', names)

  def test_missing_attribute_raises_attribute_error(self):

    with self.assertRaises(AttributeError) as raised:
      _ref(_AB).c

    self.assertIn("'c'", str(raised.exception))
    self.assertIn('<a=int32,b=float32>', str(raised.exception))

  def test_index_out_of_range_raises(self):

    with self.assertRaises(IndexError):
      _ref(_AB)[2]

  @parameterized.named_parameters(
      ('index_tensor', lambda v: v[0]),
      ('len_tensor', len),
      ('iterate_tensor', list),
      ('call_tensor', lambda v: v(1)),
      ('bool_tensor', bool),
  )
  def test_misuse_raises_traced_value_error(self, use):

    with self.assertRaises(errors.TracedValueError) as raised:
      use(_ref(_INT))

    self.assertIn('int32', str(raised.exception))

  @parameterized.named_parameters(
      ('clients', ct.FederatedType(_AB, placements.CLIENTS), 'federated_map',
       '{float32}@CLIENTS'),
      ('clients_all_equal', ct.FederatedType(_AB, placements.CLIENTS, True),
       'federated_map_all_equal', 'float32@CLIENTS'),
      ('server', ct.FederatedType(_AB, placements.SERVER), 'federated_apply',
       'float32@SERVER'),
  )
  def test_federated_struct_selection_maps_selection(self, federated_type,
                                                     uri, expected_type):
    context = value_impl.FederatedContext()

    with value_impl.tracing(context):
      selected = _ref(federated_type).b

    self.assertEqual(str(selected.type_signature), expected_type)
    self.assertEqual(str(selected), 'fc0')
    self.assertEqual(
        [(n, str(v)) for n, v in context.locals],
        [('fc0', f'{uri}(<(x0 -> x0.b),v>)')])

  def test_federated_struct_unpacks_into_federated_selections(self):
    context = value_impl.FederatedContext()
    value = _ref(ct.FederatedType(_AB, placements.CLIENTS))

    with value_impl.tracing(context):
      a, b = value
      length = len(value)

    self.assertEqual(length, 2)
    self.assertEqual(str(a.type_signature), '{int32}@CLIENTS')
    self.assertEqual(str(b.type_signature), '{float32}@CLIENTS')
    self.assertEqual(
        [str(v) for _, v in context.locals],
        ['federated_map(<(x0 -> x0.a),v>)', 'federated_map(<(x1 -> x1.b),v>)'])

  def test_federated_tensor_iteration_raises(self):

    with self.assertRaises(errors.TracedValueError) as raised:
      list(_ref(ct.FederatedType(_INT, placements.CLIENTS)))

    self.assertIn('{int32}@CLIENTS', str(raised.exception))

  def test_federated_struct_selection_outside_trace_raises(self):
    value = _ref(ct.FederatedType(_AB, placements.CLIENTS))

    with self.assertRaises(errors.FederatedContextError):
      value.a

  def test_call_of_function_value_binds_call(self):
    context = value_impl.FederatedContext()
    fn = _ref(ct.FunctionType(_AB, _INT), 'f')

    with value_impl.tracing(context):
      result = fn(1, 2.0)

    self.assertEqual(str(result), 'fc0')
    self.assertEqual([(n, str(v)) for n, v in context.locals],
                     [('fc0', 'f(<a=1,b=2.>)')])

  def test_call_with_wrong_argument_raises(self):
    context = value_impl.FederatedContext()
    fn = _ref(ct.FunctionType(_INT, _INT), 'f')

    with value_impl.tracing(context):
      with self.assertRaises(errors.CallArgumentError) as raised:
        fn(_ref(_AB))

    self.assertIn('expects an argument of type int32', str(raised.exception))
    self.assertIn('found <a=int32,b=float32>', str(raised.exception))


class FederatedContextTest(absltest.TestCase):

  def test_fresh_names_counted_per_prefix(self):
    context = value_impl.FederatedContext()

    names = [context.fresh_name(p) for p in ('fc', 'x', 'fc', 'fc', 'x')]

    self.assertEqual(names, ['fc0', 'x0', 'fc1', 'fc2', 'x1'])

  def test_nested_context_shares_names_with_parent(self):
    parent = value_impl.FederatedContext()
    parent.fresh_name('fc')
    child = value_impl.FederatedContext(parent)

    names = [child.parameter_name(), child.fresh_name('fc')]

    self.assertEqual(names, ['arg0', 'fc1'])
    self.assertEqual(parent.parameter_name(), 'arg')

  def test_current_context_only_while_tracing(self):
    context = value_impl.FederatedContext()

    with value_impl.tracing(context):
      inside = value_impl.current_context()
    outside = value_impl.current_context()

    self.assertIs(inside, context)
    self.assertIsNone(outside)

  def test_current_context_none_under_another_context(self):
    context = value_impl.FederatedContext()

    with value_impl.tracing(context):
      with context_stack.with_context(context_stack.Context()):
        current = value_impl.current_context()

    self.assertIsNone(current)

  def test_invoke_records_call_of_computation(self):
    context = value_impl.FederatedContext()
    comp = _identity(_INT)

    with value_impl.tracing(context):
      result = comp(3)

    self.assertEqual(str(result), 'fc0')
    self.assertEqual([(n, str(v)) for n, v in context.locals],
                     [('fc0', '(v -> v)(3)')])

  def test_invoke_casts_python_argument_to_parameter(self):
    context = value_impl.FederatedContext()
    comp = _identity(ct.TensorType(np.float32))

    with value_impl.tracing(context):
      result = comp(3)

    self.assertEqual(str(result.type_signature), 'float32')

  def test_invoke_with_wrong_argument_names_computation(self):
    context = value_impl.FederatedContext()
    comp = _identity(_INT)

    with value_impl.tracing(context):
      with self.assertRaises(errors.CallArgumentError) as raised:
        comp('text')

    self.assertStartsWith(
        str(raised.exception),
        'identity expects an argument of type int32; found str.')


class MapUriTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('clients', ct.FederatedType(_INT, placements.CLIENTS), 'federated_map'),
      ('clients_all_equal', ct.FederatedType(_INT, placements.CLIENTS, True),
       'federated_map_all_equal'),
      ('server', ct.FederatedType(_INT, placements.SERVER), 'federated_apply'),
      ('server_not_all_equal',
       ct.FederatedType(_INT, placements.SERVER, False), None),
      ('unplaced', _INT, None),
  )
  def test_map_uri(self, type_spec, expected):

    uri = value_impl.map_uri(type_spec)

    self.assertEqual(uri, expected)

  def test_intrinsic_call_has_specialized_type(self):
    fn = value_impl.to_value(_identity(_INT))
    arg = _ref(ct.FederatedType(_INT, placements.CLIENTS))

    call = value_impl.intrinsic_call('federated_map', {
        'T': _INT,
        'U': _INT
    }, [fn, arg])

    self.assertEqual(str(call.function.type_signature),
                     '(<(int32 -> int32),{int32}@CLIENTS> -> {int32}@CLIENTS)')
    self.assertEqual(str(call.type_signature), '{int32}@CLIENTS')


if __name__ == '__main__':
  absltest.main()
