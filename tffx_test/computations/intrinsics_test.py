from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.computations import errors
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.types import computation_types as ct
from tffx.types import placements

CLIENTS = placements.CLIENTS
SERVER = placements.SERVER
_INT = ct.TensorType(np.int32)
_FLOAT = ct.TensorType(np.float32)
_AB = ct.StructType([('a', np.int32), ('b', np.float32)])


def _at_clients(t, all_equal=False):
  return ct.FederatedType(t, CLIENTS, all_equal)


def _at_server(t):
  return ct.FederatedType(t, SERVER)


def _fn(parameter, result, name='fn'):
  """A hand-built computation of type (parameter -> result), opaque inside."""
  fn_type = ct.FunctionType(parameter, result)
  return computation_impl.ConcreteComputation(bb.Data(name, fn_type), name)


def _identity(t):
  ref = bb.Reference('v', t)
  return computation_impl.ConcreteComputation(bb.Lambda('v', t, ref),
                                              'identity')


def _first(t):
  """(<U,...> -> U): returns the first element of its struct argument."""
  t = ct.to_type(t)
  selection = bb.Selection(bb.Reference('p', t), index=0)
  return computation_impl.ConcreteComputation(bb.Lambda('p', t, selection),
                                              'first')


def _intrinsics(comp):
  """(uri, type) of every Intrinsic in comp's IR, depth-first."""
  found = []

  def walk(block):
    if isinstance(block, bb.Intrinsic):
      found.append((block.uri, str(block.type_signature)))
    for child in block.children():
      walk(child)

  walk(comp.to_building_block())
  return found


def _has_abstract(t):
  return isinstance(t, ct.AbstractType) or any(
      _has_abstract(c) for c in t.children())


_INT_PAIR = ct.StructType([_INT, _INT])
_POLY_FIRST = fc.federated_computation(lambda u, t: u)

# (name, body, parameter specs, computation type, intrinsic uris)
_TRACES = (
    ('aggregate',
     lambda x: intrinsics.federated_aggregate(x, 0, _first(_INT_PAIR),
                                              _first(_INT_PAIR),
                                              _fn(_INT, _FLOAT)),
     [_at_clients(_INT)], '({int32}@CLIENTS -> float32@SERVER)',
     ['federated_aggregate']),
    ('aggregate_polymorphic_ops',
     lambda x: intrinsics.federated_aggregate(x, 0, _POLY_FIRST, _POLY_FIRST,
                                              _identity(_INT)),
     [_at_clients(_INT)], '({int32}@CLIENTS -> int32@SERVER)',
     ['federated_aggregate']),
    ('aggregate_struct_zero',
     lambda x: intrinsics.federated_aggregate(
         x, [0, 0.0], _fn(ct.StructType([ct.to_type([_INT, _FLOAT]), _AB]),
                         [_INT, _FLOAT]),
         _first([[_INT, _FLOAT], [_INT, _FLOAT]]), _identity(
             ct.to_type([_INT, _FLOAT]))),
     [_at_clients(_AB)],
     '({<a=int32,b=float32>}@CLIENTS -> <int32,float32>@SERVER)',
     ['federated_aggregate']),
    ('broadcast', intrinsics.federated_broadcast, [_at_server(_FLOAT)],
     '(float32@SERVER -> float32@CLIENTS)', ['federated_broadcast']),
    ('broadcast_empty_struct', intrinsics.federated_broadcast,
     [_at_server(ct.StructType([]))], '(<>@SERVER -> <>@CLIENTS)',
     ['federated_broadcast']),
    ('eval_at_clients',
     lambda: intrinsics.federated_eval(_fn(None, _FLOAT), CLIENTS), [],
     '( -> {float32}@CLIENTS)', ['federated_eval_at_clients']),
    ('eval_at_server',
     lambda: intrinsics.federated_eval(_fn(None, _AB), SERVER), [],
     '( -> <a=int32,b=float32>@SERVER)', ['federated_eval_at_server']),
    ('map_at_clients', lambda x: intrinsics.federated_map(_fn(_INT, _FLOAT), x),
     [_at_clients(_INT)], '({int32}@CLIENTS -> {float32}@CLIENTS)',
     ['federated_map']),
    ('map_all_equal_at_clients',
     lambda x: intrinsics.federated_map(_identity(_INT), x),
     [_at_clients(_INT, True)], '(int32@CLIENTS -> int32@CLIENTS)',
     ['federated_map_all_equal']),
    ('map_at_server', lambda x: intrinsics.federated_map(_identity(_AB), x),
     [_at_server(_AB)],
     '(<a=int32,b=float32>@SERVER -> <a=int32,b=float32>@SERVER)',
     ['federated_apply']),
    ('map_sequences_at_clients',
     lambda x: intrinsics.federated_map(_fn(ct.SequenceType(_INT), _INT), x),
     [_at_clients(ct.SequenceType(_INT))],
     '({int32*}@CLIENTS -> {int32}@CLIENTS)',
     ['federated_map']),
    ('map_zips_struct_of_federated',
     lambda x, y: intrinsics.federated_map(_first([_INT, _FLOAT]), [x, y]),
     [_at_clients(_INT), _at_clients(_FLOAT)],
     '(<x={int32}@CLIENTS,y={float32}@CLIENTS> -> {int32}@CLIENTS)',
     ['federated_zip_at_clients', 'federated_map']),
    ('map_polymorphic_fn',
     lambda x: intrinsics.federated_map(fc.federated_computation(lambda v: v),
                                        x), [_at_clients(_AB)],
     '({<a=int32,b=float32>}@CLIENTS -> {<a=int32,b=float32>}@CLIENTS)',
     ['federated_map']),
    ('mean', intrinsics.federated_mean, [_at_clients(_FLOAT)],
     '({float32}@CLIENTS -> float32@SERVER)', ['federated_mean']),
    ('mean_struct', intrinsics.federated_mean,
     [_at_clients([('a', np.float32), ('b', (np.float64, [2]))])],
     '({<a=float32,b=float64[2]>}@CLIENTS -> <a=float32,b=float64[2]>@SERVER)',
     ['federated_mean']),
    ('mean_weighted', intrinsics.federated_mean,
     [_at_clients(_FLOAT), _at_clients(_INT)],
     '(<value={float32}@CLIENTS,weight={int32}@CLIENTS> -> float32@SERVER)',
     ['federated_weighted_mean']),
    ('min', intrinsics.federated_min, [_at_clients(_AB)],
     '({<a=int32,b=float32>}@CLIENTS -> <a=int32,b=float32>@SERVER)',
     ['federated_min']),
    ('max', intrinsics.federated_max, [_at_clients((np.int64, [3]))],
     '({int64[3]}@CLIENTS -> int64[3]@SERVER)', ['federated_max']),
    ('sum', intrinsics.federated_sum, [_at_clients(_AB)],
     '({<a=int32,b=float32>}@CLIENTS -> <a=int32,b=float32>@SERVER)',
     ['federated_sum']),
    ('sum_empty_struct', intrinsics.federated_sum,
     [_at_clients(ct.StructType([]))], '({<>}@CLIENTS -> <>@SERVER)',
     ['federated_sum']),
    ('secure_sum', lambda x: intrinsics.federated_secure_sum(x, 100),
     [_at_clients(_INT)], '({int32}@CLIENTS -> int32@SERVER)',
     ['federated_secure_sum']),
    ('secure_sum_struct_bound',
     lambda x: intrinsics.federated_secure_sum(x, [10, np.int64(20)]),
     [_at_clients([np.int32, np.int64])],
     '({<int32,int64>}@CLIENTS -> <int32,int64>@SERVER)',
     ['federated_secure_sum']),
    ('secure_sum_bitwidth',
     lambda x: intrinsics.federated_secure_sum_bitwidth(x, 8),
     [_at_clients(_INT)], '({int32}@CLIENTS -> int32@SERVER)',
     ['federated_secure_sum_bitwidth']),
    ('select',
     lambda k, m, s: intrinsics.federated_select(
         k, m, s, _fn([(np.float32, [10]), np.int32], _FLOAT)),
     [_at_clients((np.int32, [3])), _at_server(_INT),
      _at_server((np.float32, [10]))],
     '(<k={int32[3]}@CLIENTS,m=int32@SERVER,s=float32[10]@SERVER> -> '
     '{float32*}@CLIENTS)', ['federated_select']),
    ('secure_select',
     lambda k, m, s: intrinsics.federated_secure_select(
         k, m, s, _first([_INT, _INT])),
     [_at_clients((np.int32, [2])), _at_server(_INT), _at_server(_INT)],
     '(<k={int32[2]}@CLIENTS,m=int32@SERVER,s=int32@SERVER> -> '
     '{int32*}@CLIENTS)', ['federated_secure_select']),
    ('value_at_clients', lambda: intrinsics.federated_value(1, CLIENTS), [],
     '( -> int32@CLIENTS)', ['federated_value_at_clients']),
    ('value_at_server',
     lambda: intrinsics.federated_value({'a': 1.0, 'b': True}, SERVER), [],
     '( -> <a=float32,b=bool>@SERVER)', ['federated_value_at_server']),
    ('value_empty_struct', lambda: intrinsics.federated_value([], SERVER), [],
     '( -> <>@SERVER)', ['federated_value_at_server']),
    ('zip_at_clients', lambda x, y: intrinsics.federated_zip([x, y]),
     [_at_clients(_INT), _at_clients(_FLOAT, True)],
     '(<x={int32}@CLIENTS,y=float32@CLIENTS> -> {<int32,float32>}@CLIENTS)',
     ['federated_zip_at_clients']),
    ('zip_at_server_nested',
     lambda x, y: intrinsics.federated_zip({'a': x, 'b': {'c': y}}),
     [_at_server(_INT), _at_server(_FLOAT)],
     '(<x=int32@SERVER,y=float32@SERVER> -> <a=int32,b=<c=float32>>@SERVER)',
     ['federated_zip_at_server']),
    ('broadcast_struct', intrinsics.federated_broadcast, [_at_server(_AB)],
     '(<a=int32,b=float32>@SERVER -> <a=int32,b=float32>@CLIENTS)',
     ['federated_broadcast']),
    ('eval_empty_struct',
     lambda: intrinsics.federated_eval(_fn(None, ct.StructType([])), CLIENTS),
     [], '( -> {<>}@CLIENTS)', ['federated_eval_at_clients']),
    ('mean_empty_struct', intrinsics.federated_mean,
     [_at_clients(ct.StructType([]))], '({<>}@CLIENTS -> <>@SERVER)',
     ['federated_mean']),
    ('max_sequence_free_struct', intrinsics.federated_max,
     [_at_clients([_INT, [_FLOAT]])],
     '({<int32,<float32>>}@CLIENTS -> <int32,<float32>>@SERVER)',
     ['federated_max']),
    ('secure_sum_empty_struct',
     lambda x: intrinsics.federated_secure_sum(x, 1),
     [_at_clients(ct.StructType([]))], '({<>}@CLIENTS -> <>@SERVER)',
     ['federated_secure_sum']),
    ('secure_sum_bitwidth_struct',
     lambda x: intrinsics.federated_secure_sum_bitwidth(x, {'a': 4, 'b': 8}),
     [_at_clients([('a', np.int32), ('b', np.uint8)])],
     '({<a=int32,b=uint8>}@CLIENTS -> <a=int32,b=uint8>@SERVER)',
     ['federated_secure_sum_bitwidth']),
    ('select_struct',
     lambda k, m, s: intrinsics.federated_select(
         k, m, s, _fn([_AB, _INT], _AB)),
     [_at_clients((np.int32, [1])), _at_server(_INT), _at_server(_AB)],
     '(<k={int32[1]}@CLIENTS,m=int32@SERVER,s=<a=int32,b=float32>@SERVER> -> '
     '{<a=int32,b=float32>*}@CLIENTS)', ['federated_select']),
    ('value_sequence_at_clients',
     lambda s: intrinsics.federated_value(s, CLIENTS),
     [ct.SequenceType(_INT)], '(int32* -> int32*@CLIENTS)',
     ['federated_value_at_clients']),
    ('zip_empty_struct_element', lambda x: intrinsics.federated_zip([x, []]),
     [_at_clients(_INT)], '({int32}@CLIENTS -> {<int32,<>>}@CLIENTS)',
     ['federated_zip_at_clients']),
    ('sequence_sum_at_server', intrinsics.sequence_sum,
     [_at_server(ct.SequenceType(_AB))],
     '(<a=int32,b=float32>*@SERVER -> <a=int32,b=float32>@SERVER)',
     ['federated_apply', 'sequence_sum']),
    ('sequence_map',
     lambda s: intrinsics.sequence_map(_fn(_INT, _FLOAT), s),
     [ct.SequenceType(_INT)], '(int32* -> float32*)', ['sequence_map']),
    ('sequence_map_at_clients',
     lambda s: intrinsics.sequence_map(_fn(_INT, _FLOAT), s),
     [_at_clients(ct.SequenceType(_INT))],
     '({int32*}@CLIENTS -> {float32*}@CLIENTS)',
     ['federated_map', 'sequence_map']),
    ('sequence_reduce',
     lambda s: intrinsics.sequence_reduce(s, 0, _first(_INT_PAIR)),
     [ct.SequenceType(_INT)], '(int32* -> int32)', ['sequence_reduce']),
    ('sequence_reduce_at_clients',
     lambda s: intrinsics.sequence_reduce(s, 0.0, _first([_FLOAT, _INT])),
     [_at_clients(ct.SequenceType(_INT))],
     '({int32*}@CLIENTS -> {float32}@CLIENTS)', [
         'federated_value_at_clients', 'federated_zip_at_clients',
         'federated_map', 'sequence_reduce'
     ]),
    ('sequence_reduce_at_server_placed_zero',
     lambda s, z: intrinsics.sequence_reduce(s, z, _first(_INT_PAIR)),
     [_at_server(ct.SequenceType(_INT)), _at_server(_INT)],
     '(<s=int32*@SERVER,z=int32@SERVER> -> int32@SERVER)',
     ['federated_zip_at_server', 'federated_apply', 'sequence_reduce']),
    ('sequence_sum', intrinsics.sequence_sum, [ct.SequenceType(_AB)],
     '(<a=int32,b=float32>* -> <a=int32,b=float32>)', ['sequence_sum']),
    ('sequence_sum_at_clients', intrinsics.sequence_sum,
     [_at_clients(ct.SequenceType(_FLOAT))],
     '({float32*}@CLIENTS -> {float32}@CLIENTS)',
     ['federated_map', 'sequence_sum']),
)


class IntrinsicsTraceTest(parameterized.TestCase):

  @parameterized.named_parameters(*[(t[0], t[1], t[2], t[3], t[4])
                                    for t in _TRACES])
  def test_type_signature_traced(self, body, specs, expected_type,
                                 expected_uris):

    comp = fc.federated_computation(body, *specs)

    self.assertEqual(str(comp.type_signature), expected_type)
    self.assertEqual([uri for uri, _ in _intrinsics(comp)], expected_uris)

  @parameterized.named_parameters(*[(t[0], t[1], t[2]) for t in _TRACES])
  def test_intrinsic_types_concrete_traced(self, body, specs):

    comp = fc.federated_computation(body, *specs)

    blocks = []
    pending = [comp.to_building_block()]
    while pending:
      block = pending.pop()
      blocks.append(block)
      pending.extend(block.children())
    for block in blocks:
      if isinstance(block, bb.Intrinsic):
        self.assertFalse(_has_abstract(block.type_signature), str(block))

  def test_aggregate_casts_python_zero_to_accumulator_type(self):
    float_pair = ct.StructType([_FLOAT, _FLOAT])

    comp = fc.federated_computation(
        lambda x: intrinsics.federated_aggregate(x, 0, _first(float_pair),
                                                 _first(float_pair),
                                                 _identity(_FLOAT)),
        _at_clients(_FLOAT))

    self.assertEqual(
        _intrinsics(comp),
        [('federated_aggregate',
          '(<{float32}@CLIENTS,float32,(<float32,float32> -> float32),'
          '(<float32,float32> -> float32),(float32 -> float32)> -> '
          'float32@SERVER)')])

  def test_weighted_mean_argument_is_value_then_weight(self):

    comp = fc.federated_computation(intrinsics.federated_mean,
                                    _at_clients(_FLOAT), _at_clients(_INT))

    self.assertEqual(
        str(comp),
        '(arg -> (let fc0=federated_weighted_mean(<arg.value,arg.weight>) in '
        'fc0))')

  def test_secure_sum_scalar_bound_repeated_per_leaf(self):

    comp = fc.federated_computation(
        lambda x: intrinsics.federated_secure_sum(x, 7),
        _at_clients(ct.StructType([('a', np.int32), ('b', [np.int64])])))

    self.assertEqual(
        str(comp),
        '(arg -> (let fc0=federated_secure_sum(<arg,<a=7,b=<7>>>) in fc0))')

  def test_select_argument_order_traced(self):
    select_fn = _fn([_INT, _INT], _FLOAT, 'pick')

    comp = fc.federated_computation(
        lambda k, m, s: intrinsics.federated_select(k, m, s, select_fn),
        _at_clients((np.int32, [2])), _at_server(_INT), _at_server(_INT))

    self.assertEqual(
        str(comp), '(arg -> (let fc0=federated_select(<arg.k,arg.m,arg.s,'
        'data<pick>>) in fc0))')

  def test_sequence_map_at_clients_maps_lambda(self):

    comp = fc.federated_computation(
        lambda s: intrinsics.sequence_map(_fn(_INT, _FLOAT, 'f'), s),
        _at_clients(ct.SequenceType(_INT)))

    self.assertEqual(
        str(comp), '(arg -> (let fc0=federated_map(<(x0 -> sequence_map('
        '<data<f>,x0>)),arg>) in fc0))')

  def test_zip_of_federated_value_returns_it(self):

    comp = fc.federated_computation(intrinsics.federated_zip, _at_clients(_INT))

    self.assertEqual(str(comp), '(arg -> arg)')


_CLIENT_INT = _at_clients(_INT)
_SERVER_INT = _at_server(_INT)

# (name, body, specs, error, expected part, found part)
_ERRORS = (
    ('aggregate_value_at_server',
     lambda x: intrinsics.federated_aggregate(x, 0, _first(_INT_PAIR),
                                              _first(_INT_PAIR),
                                              _identity(_INT)), [_SERVER_INT],
     errors.PlacementError, 'a value placed at CLIENTS such as {T}@CLIENTS',
     'found int32@SERVER'),
    ('aggregate_merge_type',
     lambda x: intrinsics.federated_aggregate(
         x, 0, _first(_INT_PAIR), _first([_FLOAT, _FLOAT]), _identity(_INT)),
     [_CLIENT_INT], errors.IntrinsicTypeError,
     'merge of type (<int32,int32> -> int32)',
     'found (<float32,float32> -> float32)'),
    ('aggregate_accumulate_not_function',
     lambda x: intrinsics.federated_aggregate(x, 0, 1, _first(_INT_PAIR),
                                              _identity(_INT)), [_CLIENT_INT],
     errors.IntrinsicTypeError,
     'accumulate to be a function such as (<U,T> -> U)', 'found int32'),
    ('broadcast_value_at_clients', intrinsics.federated_broadcast,
     [_CLIENT_INT], errors.PlacementError,
     'a value placed at SERVER such as T@SERVER', 'found {int32}@CLIENTS'),
    ('eval_fn_with_parameter',
     lambda: intrinsics.federated_eval(_identity(_INT), SERVER), [],
     errors.IntrinsicTypeError, 'fn to be a function such as ( -> T)',
     'found (int32 -> int32)'),
    ('eval_not_placement',
     lambda: intrinsics.federated_eval(_fn(None, _INT), 'clients'), [],
     errors.IntrinsicTypeError, 'a placement, tffx.CLIENTS or tffx.SERVER',
     "found 'clients'"),
    ('map_member_mismatch',
     lambda x: intrinsics.federated_map(_identity(_INT), x),
     [_at_clients(_FLOAT)], errors.IntrinsicTypeError,
     'arg of type {int32}@CLIENTS', 'found {float32}@CLIENTS'),
    ('map_unplaced', lambda x: intrinsics.federated_map(_identity(_INT), x),
     [_INT], errors.PlacementError,
     'such as {T}@CLIENTS, T@CLIENTS or T@SERVER',
     'found int32'),
    ('mean_integer_members', intrinsics.federated_mean, [_CLIENT_INT],
     errors.IntrinsicTypeError, 'floating-point members such as '
     '{float32}@CLIENTS', 'found {int32}@CLIENTS'),
    ('mean_weight_not_scalar', intrinsics.federated_mean,
     [_at_clients(_FLOAT), _at_clients((np.float32, [2]))],
     errors.IntrinsicTypeError, 'weight to be a numeric scalar',
     'found {float32[2]}@CLIENTS'),
    ('mean_weight_at_server', intrinsics.federated_mean,
     [_at_clients(_FLOAT), _at_server(_FLOAT)], errors.PlacementError,
     'weight placed at CLIENTS such as {float32}@CLIENTS',
     'found float32@SERVER'),
    ('min_string_members', intrinsics.federated_min, [_at_clients(np.str_)],
     errors.IntrinsicTypeError, 'integer or float members',
     'found {str}@CLIENTS'),
    ('max_bool_members', intrinsics.federated_max, [_at_clients(np.bool_)],
     errors.IntrinsicTypeError, 'integer or float members',
     'found {bool}@CLIENTS'),
    ('sum_at_server', intrinsics.federated_sum, [_at_server(_FLOAT)],
     errors.PlacementError, 'a value placed at CLIENTS such as {T}@CLIENTS',
     'found float32@SERVER'),
    ('sum_sequences', intrinsics.federated_sum,
     [_at_clients(ct.SequenceType(_INT))], errors.IntrinsicTypeError,
     'numeric members', 'found {int32*}@CLIENTS'),
    ('secure_sum_float_members',
     lambda x: intrinsics.federated_secure_sum(x, 10), [_at_clients(_FLOAT)],
     errors.IntrinsicTypeError, 'integer members such as {int32}@CLIENTS',
     'found {float32}@CLIENTS'),
    ('secure_sum_float_bound',
     lambda x: intrinsics.federated_secure_sum(x, 1.5), [_CLIENT_INT],
     errors.IntrinsicTypeError, 'max_input to be an integer',
     'found float32'),
    ('secure_sum_bound_structure',
     lambda x: intrinsics.federated_secure_sum(x, [1, 2, 3]),
     [_at_clients([np.int32, np.int32])], errors.IntrinsicTypeError,
     'structure of the member <int32,int32>', 'found <int32,int32,int32>'),
    ('secure_sum_bitwidth_bound_placed',
     lambda x, b: intrinsics.federated_secure_sum_bitwidth(x, b),
     [_CLIENT_INT, _SERVER_INT], errors.PlacementError,
     'an unplaced bitwidth', 'found int32@SERVER'),
    ('select_float_keys',
     lambda k, m, s: intrinsics.federated_select(k, m, s, _first(_INT_PAIR)),
     [_at_clients((np.float32, [3])), _SERVER_INT, _SERVER_INT],
     errors.IntrinsicTypeError, 'such as {int32[3]}@CLIENTS',
     'found {float32[3]}@CLIENTS'),
    ('select_max_key_at_clients',
     lambda k, m, s: intrinsics.federated_select(k, m, s, _first(_INT_PAIR)),
     [_at_clients((np.int32, [3])), _CLIENT_INT, _SERVER_INT],
     errors.PlacementError, 'max_key placed at SERVER such as int32@SERVER',
     'found {int32}@CLIENTS'),
    ('select_fn_parameter',
     lambda k, m, s: intrinsics.federated_select(k, m, s, _first(_INT_PAIR)),
     [_at_clients((np.int32, [3])), _SERVER_INT, _at_server(_FLOAT)],
     errors.IntrinsicTypeError, 'select_fn of type (<float32,int32> -> int32)',
     'found (<int32,int32> -> int32)'),
    ('secure_select_keys_at_server',
     lambda k, m, s: intrinsics.federated_secure_select(
         k, m, s, _first(_INT_PAIR)),
     [_at_server((np.int32, [3])), _SERVER_INT, _SERVER_INT],
     errors.PlacementError, 'client_keys placed at CLIENTS such as '
     '{int32[n]}@CLIENTS', 'found int32[3]@SERVER'),
    ('value_already_placed', lambda x: intrinsics.federated_value(x, CLIENTS),
     [_SERVER_INT], errors.PlacementError, 'an unplaced value',
     'found int32@SERVER'),
    ('zip_mixed_placements', lambda x, y: intrinsics.federated_zip([x, y]),
     [_CLIENT_INT, _SERVER_INT], errors.PlacementError,
     'all placed at CLIENTS or all at SERVER',
     'found <{int32}@CLIENTS,int32@SERVER>'),
    ('zip_unplaced_element', lambda x, y: intrinsics.federated_zip([x, y]),
     [_CLIENT_INT, _INT], errors.PlacementError,
     'all placed at CLIENTS or all at SERVER', 'found <{int32}@CLIENTS,int32>'),
    ('zip_empty_struct', lambda: intrinsics.federated_zip([]), [],
     errors.PlacementError, 'all placed at CLIENTS or all at SERVER',
     'found <>'),
    ('sequence_map_not_sequence',
     lambda x: intrinsics.sequence_map(_identity(_INT), x), [_CLIENT_INT],
     errors.IntrinsicTypeError, 'a sequence such as int32* or {int32*}@CLIENTS',
     'found {int32}@CLIENTS'),
    ('sequence_map_fn_parameter',
     lambda s: intrinsics.sequence_map(_identity(_FLOAT), s),
     [ct.SequenceType(_INT)], errors.IntrinsicTypeError,
     'arg of type float32*', 'found int32*'),
    ('sequence_reduce_op_type',
     lambda s: intrinsics.sequence_reduce(s, 0, _first([_INT, _FLOAT])),
     [ct.SequenceType(_INT)], errors.IntrinsicTypeError,
     'op of type (<int32,int32> -> int32)', 'found (<int32,float32> -> int32)'),
    ('sequence_reduce_zero_at_server',
     lambda s, z: intrinsics.sequence_reduce(s, z, _first(_INT_PAIR)),
     [_at_clients(ct.SequenceType(_INT)), _SERVER_INT], errors.PlacementError,
     'zero unplaced or placed as the sequence, {int32*}@CLIENTS',
     'found int32@SERVER'),
    ('sequence_sum_strings', intrinsics.sequence_sum,
     [ct.SequenceType(np.str_)], errors.IntrinsicTypeError,
     'a sequence of numeric elements', 'found str*'),
)


class IntrinsicsErrorTest(parameterized.TestCase):

  @parameterized.named_parameters(*_ERRORS)
  def test_raises_traced(self, body, specs, error, expected, found):

    with self.assertRaises(error) as raised:
      fc.federated_computation(body, *specs)

    self.assertIs(type(raised.exception), error)
    self.assertIn(expected, str(raised.exception))
    self.assertIn(found, str(raised.exception))

  def test_federated_sum_at_server_message_names_both_types(self):

    with self.assertRaises(errors.PlacementError) as raised:
      fc.federated_computation(intrinsics.federated_sum, _at_server(_FLOAT))

    self.assertStartsWith(
        str(raised.exception),
        'federated_sum expects a value placed at CLIENTS such as {T}@CLIENTS; '
        'found float32@SERVER.')

  def test_python_function_as_fn_raises_conversion_error(self):

    with self.assertRaises(errors.ValueConversionError) as raised:
      fc.federated_computation(
          lambda x: intrinsics.federated_map(lambda v: v, x), _CLIENT_INT)

    self.assertIn('tffx.tf_computation', str(raised.exception))

  @parameterized.named_parameters(
      ('aggregate', intrinsics.federated_aggregate, 5),
      ('broadcast', intrinsics.federated_broadcast, 1),
      ('eval', intrinsics.federated_eval, 2),
      ('map', intrinsics.federated_map, 2),
      ('mean', intrinsics.federated_mean, 1),
      ('min', intrinsics.federated_min, 1),
      ('max', intrinsics.federated_max, 1),
      ('sum', intrinsics.federated_sum, 1),
      ('secure_sum', intrinsics.federated_secure_sum, 2),
      ('secure_sum_bitwidth', intrinsics.federated_secure_sum_bitwidth, 2),
      ('select', intrinsics.federated_select, 4),
      ('secure_select', intrinsics.federated_secure_select, 4),
      ('value', intrinsics.federated_value, 2),
      ('zip', intrinsics.federated_zip, 1),
      ('sequence_map', intrinsics.sequence_map, 2),
      ('sequence_reduce', intrinsics.sequence_reduce, 3),
      ('sequence_sum', intrinsics.sequence_sum, 1),
  )
  def test_outside_federated_computation_raises(self, intrinsic, arity):
    args = [1] * arity

    with self.assertRaises(errors.FederatedContextError) as raised:
      intrinsic(*args)

    self.assertIn(intrinsic.__name__, str(raised.exception))


if __name__ == '__main__':
  absltest.main()
