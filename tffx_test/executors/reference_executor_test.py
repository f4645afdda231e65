from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.computations import intrinsic_defs
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.executors import value_conversions
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure
from tffx_test.executors import test_utils

F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)
KEYS = ct.TensorType(np.int32, [None])
Struct = structure.Struct


def _call(uri, arg_block, result_type):
  """A call of intrinsic `uri` at the type its argument and result give."""
  intrinsic = bb.Intrinsic(
      uri, ct.FunctionType(arg_block.type_signature, result_type))
  return bb.Call(intrinsic, arg_block)


def _lambda(parameter_type, body):
  """(x -> body(x)) for a parameter of `parameter_type`."""
  return bb.Lambda('x', parameter_type,
                   body(bb.Reference('x', parameter_type)))


def _at_clients(members, member_type, all_equal=False):
  return federated_value.FederatedValue(
      ct.FederatedType(member_type, placements.CLIENTS, all_equal),
      [np.asarray(m, dtype=member_type.dtype) if isinstance(
          member_type, ct.TensorType) else m for m in members])


def _at_server(member, member_type):
  return federated_value.FederatedValue(ct.type_at_server(member_type),
                                        [member])


def _add_one():
  return test_utils.python_tf_block(lambda x: x + np.float32(1), F32, F32,
                                    'add_one')


class ReferenceExecutorTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.executor = reference_executor.ReferenceExecutor(test_utils.load)

  def run_block(self, block, arg=None, num_clients=0):
    return test_utils.run_with_round_trip(self, self.executor, block, arg,
                                          num_clients)

  # -------------------------------------------------------------------------
  # Building blocks.

  def test_run_evaluates_lambda_struct_selection_and_literal(self):
    param = ct.StructType([('a', F32), ('b', I32)])
    block = _lambda(param, lambda x: bb.Struct(
        [('b', bb.Selection(x, name='b')),
         ('c', bb.Literal(np.float32(2.5)))]))

    result = self.run_block(block, Struct.named(a=np.float32(1), b=np.int32(7)))

    self.assertEqual(result.names(), ['b', 'c'])
    self.assertEqual(result.b, 7)
    self.assertEqual(result.c, np.float32(2.5))

  def test_run_binds_block_locals_in_order(self):
    add_one = _add_one()
    block = _lambda(F32, lambda x: bb.Block(
        [('y', bb.Call(add_one, x)),
         ('z', bb.Call(add_one, bb.Reference('y', F32)))],
        bb.Struct([bb.Reference('y', F32), bb.Reference('z', F32)])))

    result = self.run_block(block, np.float32(1))

    self.assertEqual(result.values(), [2.0, 3.0])

  def test_run_inner_lambda_shadows_outer_name(self):
    inner = _lambda(F32, lambda x: x)
    block = _lambda(I32, lambda x: bb.Call(inner, bb.Literal(np.float32(4))))

    result = self.run_block(block, np.int32(9))

    self.assertEqual(result, np.float32(4))

  def test_run_calls_no_parameter_lambda(self):
    block = bb.Lambda(None, None, bb.Literal(np.int32(3)))

    result = self.run_block(block)

    self.assertEqual(result, 3)

  def test_run_runs_tensorflow_block_directly(self):
    result = self.run_block(_add_one(), np.float32(1.5))

    self.assertEqual(result, np.float32(2.5))

  def test_run_raises_on_unbound_reference(self):
    block = bb.Lambda('x', F32, bb.Reference('y', F32))

    with self.assertRaisesRegex(NameError, "'y'"):
      self.executor.run(block, np.float32(0), 0)

  def test_run_raises_on_data_block(self):
    block = bb.Lambda(None, None, bb.Data('file://x', F32))

    with self.assertRaisesRegex(NotImplementedError, 'file://x'):
      self.executor.run(block, None, 0)

  def test_run_raises_on_negative_client_count(self):
    with self.assertRaisesRegex(errors.ClientCountError, '-1'):
      self.executor.run(_add_one(), np.float32(0), -1)

  def test_run_evaluates_computations_passed_as_argument(self):
    fn_type = ct.FunctionType(F32, F32)
    block = _lambda(fn_type, lambda f: bb.Call(f, bb.Literal(np.float32(1))))

    result = self.executor.run(block, _add_one(), 0)

    self.assertEqual(result, 2.0)

  # -------------------------------------------------------------------------
  # Placing and applying.

  @parameterized.named_parameters(('three_clients', 3), ('zero_clients', 0))
  def test_federated_value_at_clients_repeats_value(self, num_clients):
    block = _lambda(F32, lambda x: _call('federated_value_at_clients', x,
                                         ct.type_at_clients(F32, True)))

    result = self.run_block(block, np.float32(2), num_clients)

    self.assertEqual(list(result.members), [2.0] * num_clients)
    self.assertEqual(result.type_signature, ct.type_at_clients(F32, True))

  def test_federated_value_at_server_places_struct(self):
    param = ct.StructType([('a', F32), ('b', I32)])
    block = _lambda(param, lambda x: _call('federated_value_at_server', x,
                                           ct.type_at_server(param)))

    result = self.run_block(block, Struct.named(a=np.float32(1),
                                                b=np.int32(2)), 2)

    self.assertEqual(result.members, (Struct.named(a=1.0, b=2),))

  def test_federated_broadcast_gives_every_client_the_value(self):
    param = ct.type_at_server(F32)
    block = _lambda(param, lambda x: _call('federated_broadcast', x,
                                           ct.type_at_clients(F32, True)))

    result = self.run_block(block, _at_server(np.float32(5), F32), 4)

    self.assertEqual(list(result.members), [5.0] * 4)

  def test_federated_eval_at_clients_calls_function_per_client(self):
    calls = []

    def count():
      calls.append(1)
      return np.int32(len(calls))

    fn = test_utils.python_tf_block(lambda _: count(), None, I32, 'count')
    block = bb.Lambda(None, None, _call('federated_eval_at_clients', fn,
                                        ct.type_at_clients(I32)))

    result = self.executor.run(block, None, 3)

    self.assertEqual(list(result.members), [1, 2, 3])

  def test_federated_eval_at_server_calls_function_once(self):
    fn = test_utils.python_tf_block(lambda _: np.int32(8), None, I32, 'eight')
    block = bb.Lambda(None, None, _call('federated_eval_at_server', fn,
                                        ct.type_at_server(I32)))

    result = self.run_block(block, None, 3)

    self.assertEqual(result.members, (8,))

  def test_federated_map_applies_function_to_each_client(self):
    param = ct.type_at_clients(F32)
    block = _lambda(param, lambda x: _call(
        'federated_map', bb.Struct([_add_one(), x]), ct.type_at_clients(F32)))

    result = self.run_block(block, _at_clients([1, 2, 3], F32), 3)

    self.assertEqual(list(result.members), [2.0, 3.0, 4.0])
    self.assertEqual(result.type_signature, ct.type_at_clients(F32))

  def test_federated_map_on_zero_clients_gives_no_members(self):
    param = ct.type_at_clients(F32)
    block = _lambda(param, lambda x: _call(
        'federated_map', bb.Struct([_add_one(), x]), ct.type_at_clients(F32)))

    result = self.run_block(block, _at_clients([], F32), 0)

    self.assertEqual(result.members, ())

  def test_federated_map_all_equal_calls_function_once(self):
    calls = []

    def add_one(x):
      calls.append(x)
      return x + np.float32(1)

    fn = test_utils.python_tf_block(add_one, F32, F32, 'add_one_counted')
    param = ct.type_at_clients(F32, True)
    block = _lambda(param, lambda x: _call(
        'federated_map_all_equal', bb.Struct([fn, x]),
        ct.type_at_clients(F32, True)))

    result = self.executor.run(block, _at_clients([1, 1, 1], F32, True), 3)

    self.assertEqual(list(result.members), [2.0] * 3)
    self.assertLen(calls, 1)

  def test_federated_apply_applies_function_at_server(self):
    param = ct.type_at_server(F32)
    block = _lambda(param, lambda x: _call(
        'federated_apply', bb.Struct([_add_one(), x]), ct.type_at_server(F32)))

    result = self.run_block(block, _at_server(np.float32(1), F32), 2)

    self.assertEqual(result.members, (2.0,))

  def test_federated_zip_at_clients_zips_nested_struct(self):
    param = ct.StructType([('a', ct.type_at_clients(F32)),
                           ('b', ct.StructType([ct.type_at_clients(I32)]))])
    member = ct.StructType([('a', F32), ('b', ct.StructType([I32]))])
    block = _lambda(param, lambda x: _call('federated_zip_at_clients', x,
                                           ct.type_at_clients(member)))
    arg = Struct.named(a=_at_clients([1, 2], F32),
                       b=Struct.unnamed(_at_clients([3, 4], I32)))

    result = self.run_block(block, arg, 2)

    self.assertEqual(list(result.members), [
        Struct.named(a=1.0, b=Struct.unnamed(3)),
        Struct.named(a=2.0, b=Struct.unnamed(4)),
    ])

  def test_federated_zip_at_clients_of_empty_struct_gives_empty_members(self):
    param = ct.StructType([])
    block = _lambda(param, lambda x: _call('federated_zip_at_clients', x,
                                           ct.type_at_clients(param)))

    result = self.run_block(block, Struct([]), 2)

    self.assertEqual(list(result.members), [Struct([]), Struct([])])

  def test_federated_zip_at_server_zips_struct(self):
    param = ct.StructType([ct.type_at_server(F32), ct.type_at_server(I32)])
    block = _lambda(param, lambda x: _call(
        'federated_zip_at_server', x, ct.type_at_server(ct.StructType([F32,
                                                                       I32]))))
    arg = Struct.unnamed(_at_server(np.float32(1), F32),
                         _at_server(np.int32(2), I32))

    result = self.run_block(block, arg, 3)

    self.assertEqual(result.members, (Struct.unnamed(1.0, 2),))

  # -------------------------------------------------------------------------
  # Aggregations.

  def test_federated_aggregate_accumulates_then_reports(self):
    # Accumulator <sum, count>; report divides: the mean of the clients.
    acc = ct.StructType([('total', F32), ('count', F32)])
    accumulate = test_utils.python_tf_block(
        lambda a: Struct.named(total=a[0].total + a[1],
                               count=a[0].count + np.float32(1)),
        ct.StructType([acc, F32]), acc, 'accumulate')
    merge = test_utils.python_tf_block(
        lambda a: Struct.named(total=a[0].total + a[1].total,
                               count=a[0].count + a[1].count),
        ct.StructType([acc, acc]), acc, 'merge')
    report = test_utils.python_tf_block(lambda a: a.total / a.count, acc, F32,
                                        'report')
    zero = bb.Struct([('total', bb.Literal(np.float32(0))),
                      ('count', bb.Literal(np.float32(0)))])
    param = ct.type_at_clients(F32)
    block = _lambda(param, lambda x: _call(
        'federated_aggregate', bb.Struct([x, zero, accumulate, merge, report]),
        ct.type_at_server(F32)))

    result = self.run_block(block, _at_clients([1, 2, 6], F32), 3)

    self.assertEqual(result.members, (3.0,))

  def test_federated_aggregate_over_zero_clients_reports_zero(self):
    accumulate = test_utils.python_tf_block(lambda a: a[0] + a[1],
                                            ct.StructType([I32, I32]), I32,
                                            'add')
    report = test_utils.python_tf_block(lambda a: a * np.int32(10), I32, I32,
                                        'times_ten')
    param = ct.type_at_clients(I32)
    block = _lambda(param, lambda x: _call(
        'federated_aggregate',
        bb.Struct([x, bb.Literal(np.int32(4)), accumulate, accumulate,
                   report]), ct.type_at_server(I32)))

    result = self.run_block(block, _at_clients([], I32), 0)

    self.assertEqual(result.members, (40,))

  @parameterized.named_parameters(
      ('sum', 'federated_sum', [9.0, 12.0]),
      ('mean', 'federated_mean', [3.0, 4.0]),
      ('min', 'federated_min', [1.0, 2.0]),
      ('max', 'federated_max', [5.0, 6.0]),
  )
  def test_aggregation_works_on_arrays(self, uri, expected):
    member = ct.TensorType(np.float32, [2])
    block = _lambda(ct.type_at_clients(member), lambda x: _call(
        uri, x, ct.type_at_server(member)))
    arg = _at_clients([[1, 6], [3, 2], [5, 4]], member)

    result = self.run_block(block, arg, 3)

    np.testing.assert_array_equal(result.members[0], expected)
    self.assertEqual(result.members[0].dtype, np.float32)

  @parameterized.named_parameters(
      ('sum', 'federated_sum', Struct.named(a=9.0, b=Struct.unnamed(-1.0))),
      ('mean', 'federated_mean', Struct.named(a=3.0,
                                              b=Struct.unnamed(-1 / 3))),
      ('min', 'federated_min', Struct.named(a=1.0, b=Struct.unnamed(-4.0))),
      ('max', 'federated_max', Struct.named(a=5.0, b=Struct.unnamed(2.0))),
  )
  def test_aggregation_works_element_wise_on_structs(self, uri, expected):
    member = ct.StructType([('a', F32), ('b', ct.StructType([F32]))])
    block = _lambda(ct.type_at_clients(member), lambda x: _call(
        uri, x, ct.type_at_server(member)))
    members = [
        Struct.named(a=np.float32(a), b=Struct.unnamed(np.float32(b)))
        for a, b in ((1, 2), (3, 1), (5, -4))
    ]

    result = self.run_block(block, _at_clients(members, member), 3)

    actual = result.members[0]
    self.assertEqual(actual.names(), ['a', 'b'])
    self.assertAlmostEqual(actual.a, expected.a, places=6)
    self.assertAlmostEqual(actual.b[0], expected.b[0], places=6)

  @parameterized.named_parameters(
      ('sum', 'federated_sum'),
      ('mean', 'federated_mean'),
      ('min', 'federated_min'),
      ('max', 'federated_max'),
  )
  def test_aggregation_of_empty_struct_is_empty_struct(self, uri):
    member = ct.StructType([])
    block = _lambda(ct.type_at_clients(member), lambda x: _call(
        uri, x, ct.type_at_server(member)))

    result = self.run_block(block, _at_clients([Struct([])] * 2, member), 2)

    self.assertEqual(result.members, (Struct([]),))

  def test_federated_sum_over_zero_clients_is_zero(self):
    member = ct.StructType([('a', I32), ('b', ct.TensorType(np.float32, [2]))])
    block = _lambda(ct.type_at_clients(member), lambda x: _call(
        'federated_sum', x, ct.type_at_server(member)))

    result = self.run_block(block, _at_clients([], member), 0)

    self.assertEqual(result.members[0].a, 0)
    np.testing.assert_array_equal(result.members[0].b, [0.0, 0.0])

  def test_federated_sum_over_zero_clients_raises_for_unknown_shape(self):
    member = ct.TensorType(np.float32, [None])
    block = _lambda(ct.type_at_clients(member), lambda x: _call(
        'federated_sum', x, ct.type_at_server(member)))

    with self.assertRaisesRegex(errors.AggregationError, r'float32\[\?\]'):
      self.executor.run(block, _at_clients([], member), 0)

  @parameterized.named_parameters(
      ('mean', 'federated_mean'),
      ('min', 'federated_min'),
      ('max', 'federated_max'),
  )
  def test_aggregation_over_zero_clients_raises(self, uri):
    block = _lambda(ct.type_at_clients(F32), lambda x: _call(
        uri, x, ct.type_at_server(F32)))

    with self.assertRaisesRegex(errors.AggregationError, f'{uri} over 0'):
      self.executor.run(block, _at_clients([], F32), 0)

  def test_federated_mean_raises_on_integers(self):
    block = _lambda(ct.type_at_clients(I32), lambda x: _call(
        'federated_mean', x, ct.type_at_server(I32)))

    with self.assertRaisesRegex(TypeError, 'floating-point.*int32'):
      self.executor.run(block, _at_clients([1, 2], I32), 2)

  def _weighted_mean_block(self, member, weight_type):
    param = ct.StructType([ct.type_at_clients(member),
                           ct.type_at_clients(weight_type)])
    return _lambda(param, lambda x: _call(
        'federated_weighted_mean', x, ct.type_at_server(member)))

  def test_federated_weighted_mean_weights_struct_members(self):
    member = ct.StructType([('a', F32), ('b', ct.TensorType(np.float64, [2]))])
    block = self._weighted_mean_block(member, I32)
    values = [
        Struct.named(a=np.float32(1), b=np.array([0.0, 4.0])),
        Struct.named(a=np.float32(4), b=np.array([2.0, 1.0])),
    ]
    arg = Struct.unnamed(_at_clients(values, member),
                         _at_clients([1, 3], I32))

    result = self.run_block(block, arg, 2)

    self.assertEqual(result.members[0].a, np.float32((1 * 1 + 4 * 3) / 4))
    np.testing.assert_allclose(result.members[0].b, [6.0 / 4, 7.0 / 4])
    self.assertEqual(result.members[0].b.dtype, np.float64)

  def test_federated_weighted_mean_raises_on_zero_total_weight(self):
    block = self._weighted_mean_block(F32, F32)
    arg = Struct.unnamed(_at_clients([1, 2], F32), _at_clients([0, 0], F32))

    with self.assertRaisesRegex(errors.AggregationError, 'sum to zero'):
      self.executor.run(block, arg, 2)

  def test_federated_weighted_mean_raises_on_zero_clients(self):
    block = self._weighted_mean_block(F32, F32)
    arg = Struct.unnamed(_at_clients([], F32), _at_clients([], F32))

    with self.assertRaisesRegex(errors.AggregationError, 'over 0 clients'):
      self.executor.run(block, arg, 0)

  # -------------------------------------------------------------------------
  # Secure aggregations.

  def _secure_block(self, uri, member, bound_type):
    param = ct.StructType([ct.type_at_clients(member), bound_type])
    return _lambda(param, lambda x: _call(uri, x, ct.type_at_server(member)))

  @parameterized.named_parameters(
      ('max_input', 'federated_secure_sum', 7),
      ('bitwidth', 'federated_secure_sum_bitwidth', 3),
  )
  def test_secure_sum_equals_plain_sum_in_range(self, uri, bound):
    member = ct.StructType([I32, ct.TensorType(np.int64, [2])])
    values = [Struct.unnamed(np.int32(7), np.array([0, 3])),
              Struct.unnamed(np.int32(2), np.array([7, 1]))]
    arg = Struct.unnamed(_at_clients(values, member), np.int32(bound))
    block = self._secure_block(uri, member, I32)

    result = self.run_block(block, arg, 2)

    self.assertEqual(result.members, (Struct.unnamed(9, np.array([7, 4])),))

  def test_secure_sum_over_zero_clients_is_zero(self):
    arg = Struct.unnamed(_at_clients([], I32), np.int32(5))
    block = self._secure_block('federated_secure_sum', I32, I32)

    result = self.run_block(block, arg, 0)

    self.assertEqual(result.members, (0,))

  @parameterized.named_parameters(
      ('above_max_input', 'federated_secure_sum', 10, 11,
       r'value 11.*\[0, 10\].*max_input=10'),
      ('negative', 'federated_secure_sum', 10, -1,
       r'value -1.*\[0, 10\].*max_input=10'),
      ('above_bitwidth', 'federated_secure_sum_bitwidth', 4, 16,
       r'value 16.*\[0, 15\].*bitwidth=4'),
  )
  def test_secure_sum_refuses_value_out_of_range(self, uri, bound, value,
                                                 message):
    arg = Struct.unnamed(_at_clients([1, value], I32), np.int32(bound))
    block = self._secure_block(uri, I32, I32)

    with self.assertRaisesRegex(errors.SecureBoundsError, message):
      self.executor.run(block, arg, 2)

  def test_secure_sum_applies_struct_bounds_per_element(self):
    member = ct.StructType([('a', I32), ('b', I32)])
    bound_type = ct.StructType([('a', I32), ('b', I32)])
    values = [Struct.named(a=np.int32(1), b=np.int32(3))]
    arg = Struct.unnamed(_at_clients(values, member),
                         Struct.named(a=np.int32(5), b=np.int32(2)))
    block = self._secure_block('federated_secure_sum', member, bound_type)

    with self.assertRaisesRegex(errors.SecureBoundsError,
                                r"value 3 at \['b'\].*max_input=2"):
      self.executor.run(block, arg, 1)

  def test_secure_sum_refuses_negative_bound(self):
    arg = Struct.unnamed(_at_clients([0], I32), np.int32(-1))
    block = self._secure_block('federated_secure_sum', I32, I32)

    with self.assertRaisesRegex(errors.SecureBoundsError, 'non-negative'):
      self.executor.run(block, arg, 1)

  def test_secure_sum_refuses_floats(self):
    arg = Struct.unnamed(_at_clients([1.0], F32), np.int32(2))
    block = self._secure_block('federated_secure_sum', F32, I32)

    with self.assertRaisesRegex(TypeError, 'integer'):
      self.executor.run(block, arg, 1)

  # -------------------------------------------------------------------------
  # Select.

  def _select_block(self, uri, server_type, element_type, select_fn):
    param = ct.StructType([ct.type_at_clients(KEYS), ct.type_at_server(I32),
                           ct.type_at_server(server_type)])
    return _lambda(param, lambda x: _call(
        uri,
        bb.Struct([bb.Selection(x, index=0), bb.Selection(x, index=1),
                   bb.Selection(x, index=2), select_fn]),
        ct.type_at_clients(ct.SequenceType(element_type))))

  @parameterized.named_parameters(('plain', 'federated_select'),
                                  ('secure', 'federated_secure_select'))
  def test_select_gives_each_client_its_keys_slices(self, uri):
    server_type = ct.TensorType(np.float32, [3, 2])
    element = ct.TensorType(np.float32, [2])
    select_fn = test_utils.python_tf_block(
        lambda a: a[0][a[1]], ct.StructType([server_type, I32]), element,
        'row')
    block = self._select_block(uri, server_type, element, select_fn)
    table = np.arange(6, dtype=np.float32).reshape(3, 2)
    arg = Struct.unnamed(_at_clients([[2, 0], [], [1]], KEYS),
                         _at_server(np.int32(3), I32),
                         _at_server(table, server_type))

    result = self.run_block(block, arg, 3)

    rows = [list(d.as_numpy_iterator()) for d in result.members]
    np.testing.assert_array_equal(rows[0], table[[2, 0]])
    self.assertEqual(rows[1], [])
    np.testing.assert_array_equal(rows[2], table[[1]])

  @parameterized.named_parameters(('too_large', 3), ('negative', -1))
  def test_secure_select_refuses_key_out_of_range(self, key):
    select_fn = test_utils.python_tf_block(lambda a: a[0], ct.StructType(
        [I32, I32]), I32, 'first')
    block = self._select_block('federated_secure_select', I32, I32, select_fn)
    arg = Struct.unnamed(_at_clients([[0], [1, key]], KEYS),
                         _at_server(np.int32(3), I32),
                         _at_server(np.int32(0), I32))

    with self.assertRaisesRegex(errors.SecureBoundsError,
                                rf'client 1.*key {key}.*\[0, 3\)'):
      self.executor.run(block, arg, 2)

  def test_plain_select_passes_any_key_to_select_fn(self):
    select_fn = test_utils.python_tf_block(lambda a: a[1] * np.int32(2),
                                           ct.StructType([I32, I32]), I32,
                                           'double_key')
    block = self._select_block('federated_select', I32, I32, select_fn)
    arg = Struct.unnamed(_at_clients([[5]], KEYS),
                         _at_server(np.int32(3), I32),
                         _at_server(np.int32(0), I32))

    result = self.run_block(block, arg, 1)

    self.assertEqual(list(result.members[0].as_numpy_iterator()), [10])

  # -------------------------------------------------------------------------
  # Sequences.

  def test_sequence_map_maps_elements(self):
    seq = ct.SequenceType(F32)
    block = _lambda(seq, lambda x: _call(
        'sequence_map', bb.Struct([_add_one(), x]), seq))
    dataset = tf.data.Dataset.from_tensor_slices(np.float32([1, 2, 3]))

    result = self.run_block(block, dataset)

    self.assertEqual(list(result.as_numpy_iterator()), [2.0, 3.0, 4.0])

  def test_sequence_reduce_folds_struct_elements(self):
    element = ct.StructType([('x', F32), ('y', I32)])
    seq = ct.SequenceType(element)
    op = test_utils.python_tf_block(lambda a: a[0] + a[1].x * a[1].y.astype(
        np.float32), ct.StructType([F32, element]), F32, 'dot')
    block = _lambda(seq, lambda x: _call(
        'sequence_reduce', bb.Struct([x, bb.Literal(np.float32(0.5)), op]),
        F32))
    dataset = value_conversions.to_dataset(
        [Struct.named(x=np.float32(2), y=np.int32(3)),
         Struct.named(x=np.float32(1), y=np.int32(4))], element)

    result = self.run_block(block, dataset)

    self.assertEqual(result, 0.5 + 6 + 4)

  @parameterized.named_parameters(('elements', [1, 2, 3], 6), ('empty', [], 0))
  def test_sequence_sum_adds_elements(self, elements, expected):
    seq = ct.SequenceType(I32)
    block = _lambda(seq, lambda x: _call('sequence_sum', x, I32))
    dataset = value_conversions.to_dataset(
        [np.int32(e) for e in elements], I32)

    result = self.run_block(block, dataset)

    self.assertEqual(result, expected)

  def test_federated_map_over_client_datasets(self):
    seq = ct.SequenceType(F32)
    local_sum = _lambda(seq, lambda x: _call('sequence_sum', x, F32))
    param = ct.type_at_clients(seq)
    block = _lambda(param, lambda x: _call(
        'federated_sum',
        _call('federated_map', bb.Struct([local_sum, x]),
              ct.type_at_clients(F32)), ct.type_at_server(F32)))
    datasets = [
        tf.data.Dataset.from_tensor_slices(np.float32(values))
        for values in ([1, 2], [], [10])
    ]
    arg = federated_value.FederatedValue(param, datasets)

    result = self.run_block(block, arg, 3)

    self.assertEqual(result.members, (13.0,))

  def test_sequence_of_named_structs_keeps_element_names(self):
    element = ct.StructType([('b', I32), ('a', F32)])
    seq = ct.SequenceType(element)
    swap = test_utils.python_tf_block(
        lambda e: Struct.named(b=e.b + np.int32(1), a=e.a * np.float32(2)),
        element, element, 'swap')
    block = _lambda(seq, lambda x: _call('sequence_map',
                                         bb.Struct([swap, x]), seq))
    dataset = value_conversions.to_dataset(
        [Struct.named(b=np.int32(1), a=np.float32(3))], element)

    result = self.run_block(block, dataset)

    (only,) = value_conversions.dataset_elements(result, element)
    self.assertEqual(only, Struct.named(b=2, a=6.0))


if __name__ == '__main__':
  absltest.main()
