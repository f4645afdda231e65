import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.computations import computation_wrapper
from tffx.computations import errors
from tffx.computations import intrinsics
from tffx.computations import serialization
from tffx.computations import tensorflow_computation
from tffx.computations.federated_computation import federated_computation
from tffx.computations.federated_computation import free_references
from tffx.types import computation_types as ct
from tffx.types import placements

CLIENTS = placements.CLIENTS
SERVER = placements.SERVER
_INT = ct.TensorType(np.int32)
_FLOAT = ct.TensorType(np.float32)
_CLIENT_FLOAT = ct.FederatedType(_FLOAT, CLIENTS)
_Pair = collections.namedtuple('_Pair', ['first', 'second'])


def _identity(t, name='identity'):
  return computation_impl.ConcreteComputation(
      bb.Lambda('v', t, bb.Reference('v', t)), name)


class TraceTest(parameterized.TestCase):

  def test_no_parameter_gives_lambda_without_parameter(self):

    @federated_computation
    def five():
      return intrinsics.federated_value(5, SERVER)

    block = five.to_building_block()
    self.assertIsInstance(block, bb.Lambda)
    self.assertIsNone(block.parameter_name)
    self.assertEqual(str(five.type_signature), '( -> int32@SERVER)')

  def test_calls_bound_as_block_locals_in_call_order(self):

    @federated_computation(_CLIENT_FLOAT)
    def stats(x):
      total = intrinsics.federated_sum(x)
      mean = intrinsics.federated_mean(x)
      return mean, total

    self.assertEqual(
        str(stats), '(arg -> (let fc0=federated_sum(arg),fc1=federated_mean('
        'arg) in <fc1,fc0>))')

  def test_formatted_representation_one_local_per_line(self):

    @federated_computation(_CLIENT_FLOAT)
    def mean(x):
      return intrinsics.federated_broadcast(intrinsics.federated_mean(x))

    self.assertEqual(
        mean.to_building_block().formatted_representation(), '\n'.join([
            '(arg ->',
            '  let',
            '    fc0=federated_mean(arg)',
            '    fc1=federated_broadcast(fc0)',
            '  in',
            '    fc1',
            ')',
        ]))

  def test_without_calls_gives_no_block(self):

    @federated_computation(_CLIENT_FLOAT)
    def same(x):
      return x

    self.assertEqual(str(same), '(arg -> arg)')

  def test_several_parameters_selected_by_name(self):

    @federated_computation(_CLIENT_FLOAT, ct.FederatedType(_INT, CLIENTS))
    def weighted(values, weights):
      return intrinsics.federated_mean(values, weights)

    self.assertEqual(
        str(weighted.type_signature),
        '(<values={float32}@CLIENTS,weights={int32}@CLIENTS> -> float32@SERVER)'
    )
    self.assertEqual(
        str(weighted), '(arg -> (let fc0=federated_weighted_mean(<arg.values,'
        'arg.weights>) in fc0))')

  @parameterized.named_parameters(
      ('list', lambda x: [x, x], list),
      ('tuple', lambda x: (x,), tuple),
      ('dict', lambda x: {'a': x, 'b': x}, dict),
      ('ordered_dict', lambda x: collections.OrderedDict(a=x),
       collections.OrderedDict),
      ('namedtuple', lambda x: _Pair(x, x), _Pair),
  )
  def test_python_container_result_kept_in_type(self, body, container):

    comp = federated_computation(body, _CLIENT_FLOAT)

    self.assertIs(comp.type_signature.result.python_container, container)

  def test_nested_python_containers_with_constants(self):

    @federated_computation(_CLIENT_FLOAT)
    def nested(x):
      return {'a': [x, intrinsics.federated_sum(x)], 'b': (1, 'text')}

    self.assertEqual(
        str(nested.type_signature),
        '({float32}@CLIENTS -> <a=<{float32}@CLIENTS,float32@SERVER>,'
        'b=<int32,str>>)')
    self.assertEqual(
        str(nested),
        "(arg -> (let fc0=federated_sum(arg) in <a=<arg,fc0>,b=<1,'text'>>))")

  def test_federated_struct_selection_traced(self):

    @federated_computation(
        ct.FederatedType([('a', np.int32), ('b', np.float32)], CLIENTS))
    def select(x):
      return x.b, x[0]

    self.assertEqual(str(select.type_signature),
                     '({<a=int32,b=float32>}@CLIENTS -> '
                     '<{float32}@CLIENTS,{int32}@CLIENTS>)')
    self.assertEqual(
        str(select), '(arg -> (let fc0=federated_map(<(x0 -> x0.b),arg>),'
        'fc1=federated_map(<(x1 -> x1.a),arg>) in <fc0,fc1>))')

  def test_struct_parameter_unpacked_by_iteration(self):

    @federated_computation(ct.StructType([_CLIENT_FLOAT, _CLIENT_FLOAT]))
    def first(pair):
      a, _ = pair
      return a

    self.assertEqual(str(first), '(arg -> arg.0)')

  def test_calls_hand_built_computation(self):
    add_nothing = _identity(_FLOAT, 'add_nothing')

    @federated_computation(_CLIENT_FLOAT)
    def mapped(x):
      return intrinsics.federated_map(add_nothing, x)

    self.assertEqual(str(mapped),
                     '(arg -> (let fc0=federated_map(<(v -> v),arg>) in fc0))')

  def test_calls_computation_on_unplaced_value(self):
    identity = _identity(_INT)

    @federated_computation(_INT)
    def twice(x):
      return identity(identity(x))

    self.assertEqual(
        str(twice), '(arg -> (let fc0=(v -> v)(arg),fc1=(v -> v)(fc0) in fc1))')

  def test_calls_other_federated_computation(self):

    @federated_computation(_CLIENT_FLOAT)
    def total(x):
      return intrinsics.federated_sum(x)

    @federated_computation(_CLIENT_FLOAT)
    def broadcast_total(x):
      return intrinsics.federated_broadcast(total(x))

    self.assertEqual(
        str(broadcast_total),
        '(arg -> (let fc0=(arg -> (let fc0=federated_sum(arg) in fc0))(arg),'
        'fc1=federated_broadcast(fc0) in fc1))')
    self.assertEqual(str(broadcast_total.type_signature),
                     '({float32}@CLIENTS -> float32@CLIENTS)')

  def test_nested_computation_captures_enclosing_value(self):

    @federated_computation(ct.FederatedType(_FLOAT, SERVER))
    def outer(x):

      @federated_computation
      def inner():
        return intrinsics.federated_broadcast(x)

      return inner(), inner()

    self.assertEqual(
        str(outer),
        '(arg -> (let fc1=( -> (let fc0=federated_broadcast(arg) in fc0))(),'
        'fc2=( -> (let fc0=federated_broadcast(arg) in fc0))() in <fc1,fc2>))')

  def test_nested_polymorphic_computation_names_do_not_clash(self):

    @federated_computation(_CLIENT_FLOAT)
    def outer(x):
      total = intrinsics.federated_sum(x)

      @federated_computation
      def inner(y):
        return [intrinsics.federated_sum(y), total]

      return inner(x)

    self.assertEqual(
        str(outer), '(arg -> (let fc0=federated_sum(arg),fc2=(arg0 -> (let '
        'fc1=federated_sum(arg0) in <fc1,fc0>))(arg) in fc2))')
    self.assertEqual(str(outer.type_signature),
                     '({float32}@CLIENTS -> <float32@SERVER,float32@SERVER>)')

  def test_polymorphic_traced_per_argument_type(self):

    @federated_computation
    def total(x):
      return intrinsics.federated_sum(x)

    int_total = total.concrete(ct.FederatedType(_INT, CLIENTS))
    float_total = total.concrete(_CLIENT_FLOAT)

    self.assertIsInstance(total, computation_wrapper.PolymorphicComputation)
    self.assertEqual(str(int_total.type_signature),
                     '({int32}@CLIENTS -> int32@SERVER)')
    self.assertEqual(str(float_total.type_signature),
                     '({float32}@CLIENTS -> float32@SERVER)')

  def test_trace_twice_gives_same_ir(self):

    def program(x, y):
      a = intrinsics.federated_sum(x)
      b = intrinsics.federated_broadcast(intrinsics.federated_mean(y))
      return {'a': a, 'b': intrinsics.federated_zip([x, b]), 'c': x.z}

    specs = (ct.FederatedType([('z', np.int32)], CLIENTS), _CLIENT_FLOAT)
    first = federated_computation(program, *specs)
    second = federated_computation(program, *specs)

    self.assertEqual(str(first), str(second))
    self.assertEqual(
        serialization.serialize_computation(first),
        serialization.serialize_computation(second))

  def test_returning_none_raises(self):

    def nothing(x):
      intrinsics.federated_sum(x)

    with self.assertRaises(errors.ValueConversionError) as raised:
      federated_computation(nothing, _CLIENT_FLOAT)

    self.assertIn('nothing to return a value; found None',
                  str(raised.exception))

  def test_returning_python_function_raises(self):

    with self.assertRaises(errors.ValueConversionError):
      federated_computation(lambda x: print, _CLIENT_FLOAT)

  def test_value_from_other_computation_raises(self):
    leaked = []

    @federated_computation(_CLIENT_FLOAT)
    def leak(x):
      leaked.append(intrinsics.federated_sum(x))
      return x

    with self.assertRaises(errors.FederatedContextError) as raised:
      federated_computation(lambda: leaked[0])

    self.assertIn('found values of another computation: fc0',
                  str(raised.exception))

  def test_python_condition_on_value_raises(self):

    def branch(x):
      return x if x else x

    with self.assertRaises(errors.TracedValueError):
      federated_computation(branch, _CLIENT_FLOAT)


class FreeReferencesTest(absltest.TestCase):

  def test_block_and_lambda_bind_names(self):
    t = _INT
    block = bb.Lambda(
        'p', t,
        bb.Block([('a', bb.Reference('p', t)), ('b', bb.Reference('q', t))],
                 bb.Struct([bb.Reference('a', t), bb.Reference('c', t)])))

    free = free_references(block)

    self.assertEqual(free, {'q', 'c'})


class TensorFlowComputationTest(absltest.TestCase):
  """Federated computations over `tf_computation`s."""

  def test_map_and_sum_of_tf_computation(self):

    @tensorflow_computation.tf_computation(np.float32)
    def double(v):
      return v * 2.0

    @federated_computation(_CLIENT_FLOAT)
    def doubled_sum(x):
      return intrinsics.federated_sum(intrinsics.federated_map(double, x))

    self.assertEqual(
        str(doubled_sum), '(arg -> (let fc0=federated_map(<comp#double,arg>),'
        'fc1=federated_sum(fc0) in fc1))')
    self.assertEqual(str(doubled_sum.type_signature),
                     '({float32}@CLIENTS -> float32@SERVER)')

  def test_polymorphic_tf_computation_instantiated_by_intrinsics(self):

    @tensorflow_computation.tf_computation
    def add(a, b):
      return a + b

    @tensorflow_computation.tf_computation
    def half(v):
      return v / 2

    @federated_computation(ct.FederatedType(_INT, CLIENTS))
    def total(x):
      return intrinsics.federated_aggregate(x, 0, add, add, half)

    self.assertEqual(str(total.type_signature),
                     '({int32}@CLIENTS -> float64@SERVER)')
    self.assertEqual(
        str(total), '(arg -> (let fc0=federated_aggregate(<arg,0,comp#add,'
        'comp#add,comp#half>) in fc0))')

  def test_tf_computation_called_on_unplaced_values(self):

    @tensorflow_computation.tf_computation(np.int32, np.int32)
    def add(a, b):
      return a + b

    @federated_computation(_INT, _INT)
    def add_then_place(a, b):
      return intrinsics.federated_value(add(a, b), SERVER)

    self.assertEqual(
        str(add_then_place), '(arg -> (let fc0=comp#add(<a=arg.a,b=arg.b>),'
        'fc1=federated_value_at_server(fc0) in fc1))')

  def test_sequence_map_over_client_datasets(self):

    @tensorflow_computation.tf_computation(np.int32)
    def to_float(v):
      return tf.cast(v, tf.float32)

    @federated_computation(ct.FederatedType(ct.SequenceType(_INT), CLIENTS))
    def mapped(ds):
      return intrinsics.sequence_sum(intrinsics.sequence_map(to_float, ds))

    self.assertEqual(str(mapped.type_signature),
                     '({int32*}@CLIENTS -> {float32}@CLIENTS)')


if __name__ == '__main__':
  absltest.main()
