import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import building_blocks as bb
from tffx.computations import computation_impl
from tffx.computations import context_stack
from tffx.executors import errors
from tffx.executors import execution_context
from tffx.executors import executor_base
from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.types import computation_types as ct
from tffx_test.executors import test_utils

F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)
Pair = collections.namedtuple('Pair', ['total', 'count'])


def _call(uri, arg_block, result_type):
  intrinsic = bb.Intrinsic(
      uri, ct.FunctionType(arg_block.type_signature, result_type))
  return bb.Call(intrinsic, arg_block)


def _computation(parameter_type, body):
  ref = bb.Reference('x', parameter_type)
  return computation_impl.ConcreteComputation(
      bb.Lambda('x', parameter_type, body(ref)))


def _reference_context(default_num_clients=0):
  return execution_context.ExecutionContext(
      lambda: reference_executor.ReferenceExecutor(test_utils.load),
      default_num_clients=default_num_clients)


def _client_sum():
  """({float32}@CLIENTS -> float32@SERVER), a federated_sum."""
  return _computation(ct.type_at_clients(F32), lambda x: _call(
      'federated_sum', x, ct.type_at_server(F32)))


def _count_clients():
  """( -> int32@SERVER): the number of clients, from a broadcast one."""
  one = bb.Call(bb.Intrinsic('federated_value_at_clients', ct.FunctionType(
      I32, ct.type_at_clients(I32, True))), bb.Literal(np.int32(1)))
  return computation_impl.ConcreteComputation(bb.Lambda(
      None, None, _call('federated_sum', one, ct.type_at_server(I32))))


class _RecordingExecutor(executor_base.Executor):
  """Records what `run` receives and returns a fixed result."""

  def __init__(self, result):
    self.calls = []
    self._result = result

  def run(self, comp, arg, num_clients):
    self.calls.append((comp, arg, num_clients))
    return self._result

  def close(self):
    self.calls.append('close')


class ExecutionContextTest(parameterized.TestCase):

  def test_invoke_runs_computation_on_python_values(self):
    context = _reference_context()

    with context:
      result = test_utils.call_with_round_trip(self, _client_sum(),
                                               [1.0, 2.0, 3.5])

    self.assertEqual(result, np.float32(6.5))
    self.assertIsInstance(result, np.float32)

  def test_invoke_passes_executor_values_and_client_count(self):
    executor = _RecordingExecutor(
        federated_value.FederatedValue(ct.type_at_server(F32),
                                       [np.float32(0)]))
    context = execution_context.ExecutionContext(lambda: executor)
    comp = _client_sum()

    context.invoke(comp, [1.0, 2.0])

    ((block, arg, num_clients),) = executor.calls
    self.assertIs(block, comp.to_building_block())
    self.assertIsInstance(arg, federated_value.FederatedValue)
    self.assertEqual(list(arg.members), [1.0, 2.0])
    self.assertEqual(num_clients, 2)

  def test_close_closes_executor_and_next_invoke_creates_another(self):
    result = federated_value.FederatedValue(ct.type_at_server(F32),
                                            [np.float32(0)])
    executors = []

    def factory():
      executors.append(_RecordingExecutor(result))
      return executors[-1]

    context = execution_context.ExecutionContext(factory)
    context.invoke(_client_sum(), [1.0])
    context.close()
    context.close()
    context.invoke(_client_sum(), [1.0])

    self.assertLen(executors, 2)
    self.assertEqual(executors[0].calls[-1], 'close')
    self.assertNotEqual(executors[1].calls[-1], 'close')

  @parameterized.named_parameters(('zero', 0), ('four', 4))
  def test_invoke_uses_default_num_clients_without_client_input(self, count):
    with _reference_context(default_num_clients=count):
      result = test_utils.call_with_round_trip(self, _count_clients())

    self.assertEqual(result, count)

  def test_invoke_counts_clients_from_argument_over_default(self):
    param = ct.StructType([('values', ct.type_at_clients(F32)),
                           ('one', ct.type_at_clients(I32, True))])
    comp = _computation(param, lambda x: _call(
        'federated_sum', bb.Selection(x, name='one'), ct.type_at_server(I32)))

    with _reference_context(default_num_clients=7):
      result = test_utils.call_with_round_trip(self, comp, [1.0, 2.0], 1)

    self.assertEqual(result, 2)

  def test_invoke_raises_on_conflicting_client_counts(self):
    param = ct.StructType([ct.type_at_clients(F32), ct.type_at_clients(F32)])
    comp = _computation(param, lambda x: _call(
        'federated_sum', bb.Selection(x, index=0), ct.type_at_server(F32)))

    with _reference_context():
      with self.assertRaisesRegex(ValueError, r'\[2, 3\]') as raised:
        comp([1.0, 2.0], [1.0, 2.0, 3.0])

    self.assertIsInstance(raised.exception, errors.ClientCountError)

  def test_invoke_raises_type_error_naming_both_types(self):
    with _reference_context():
      with self.assertRaises(TypeError) as raised:
        _client_sum()(['a', 'b'])

    self.assertIsInstance(raised.exception, errors.ArgumentTypeError)
    self.assertIn('{float32}@CLIENTS', str(raised.exception))
    self.assertIn('{str}@CLIENTS', str(raised.exception))

  def test_invoke_returns_client_members_as_list(self):
    comp = _computation(ct.type_at_server(F32), lambda x: _call(
        'federated_broadcast', x, ct.type_at_clients(F32, True)))
    to_list = _computation(ct.type_at_clients(F32), lambda x: x)

    with _reference_context(default_num_clients=2):
      all_equal = test_utils.call_with_round_trip(self, comp, 1.5)
      members = test_utils.call_with_round_trip(self, to_list, [1.0, 2.0])

    self.assertEqual(all_equal, np.float32(1.5))
    self.assertEqual(members, [1.0, 2.0])

  def test_invoke_rebuilds_declared_python_containers(self):
    result_type = ct.StructWithPythonType([('total', F32), ('count', I32)],
                                          Pair)
    comp = _computation(
        ct.StructType([('total', F32), ('count', I32)]),
        lambda x: bb.Struct([('total', bb.Selection(x, index=0)),
                             ('count', bb.Selection(x, index=1))], Pair))

    with _reference_context():
      result = comp({'count': 3, 'total': 1.5})

    self.assertEqual(comp.type_signature.result, result_type)
    self.assertIsInstance(result, Pair)
    self.assertEqual(result, Pair(total=1.5, count=3))

  def test_invoke_returns_sequence_as_list(self):
    seq = ct.SequenceType(I32)
    comp = _computation(seq, lambda x: x)

    with _reference_context():
      result = test_utils.call_with_round_trip(self, comp, [1, 2, 3])

    self.assertEqual(result, [1, 2, 3])

  def test_invoke_takes_several_arguments_as_struct(self):
    param = ct.StructType([('a', F32), ('b', F32)])
    comp = _computation(param, lambda x: bb.Selection(x, name='b'))

    with _reference_context():
      result = comp(1.0, b=2.0)

    self.assertEqual(result, 2.0)

  def test_executor_factory_is_called_once_on_first_invoke(self):
    made = []

    def factory():
      made.append(1)
      return reference_executor.ReferenceExecutor(test_utils.load)

    context = execution_context.ExecutionContext(factory)

    self.assertEqual(made, [])
    context.invoke(_client_sum(), [1.0])
    context.invoke(_client_sum(), [2.0])
    self.assertEqual(made, [1])

  def test_executor_class_is_a_factory(self):
    context = execution_context.ExecutionContext(
        reference_executor.ReferenceExecutor)

    self.assertIsInstance(context.executor,
                          reference_executor.ReferenceExecutor)

  def test_init_raises_on_factory_of_non_executor(self):
    context = execution_context.ExecutionContext(lambda: 'not an executor')

    with self.assertRaisesRegex(TypeError, 'Executor, found str'):
      context.invoke(_client_sum(), [1.0])

  @parameterized.named_parameters(('negative', -1), ('float', 1.5),
                                  ('bool', True))
  def test_init_raises_on_invalid_default_num_clients(self, value):
    with self.assertRaisesRegex(errors.ClientCountError, 'non-negative int'):
      execution_context.ExecutionContext(reference_executor.ReferenceExecutor,
                                         default_num_clients=value)

  def test_with_makes_context_current_and_restores_previous(self):
    outer = _reference_context()
    inner = _reference_context()

    with outer:
      with inner:
        in_inner = context_stack.get_context()
      after_inner = context_stack.get_context()

    self.assertIs(in_inner, inner)
    self.assertIs(after_inner, outer)

  def test_with_same_context_nests(self):
    context = _reference_context()

    with context:
      with context as entered:
        nested = context_stack.get_context()
      still = context_stack.get_context()

    self.assertIs(entered, context)
    self.assertIs(nested, context)
    self.assertIs(still, context)


if __name__ == '__main__':
  absltest.main()
