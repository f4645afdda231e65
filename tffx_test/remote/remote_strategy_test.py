"""The remote strategy without workers; programs that need workers are in
remote_executor_test (against real workers and the reference executor)."""

from concurrent import futures

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import building_blocks as bb
from tffx.executors import client_strategy
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.executors import interpreter
from tffx.executors import tensorflow_runner
from tffx.remote import remote_strategy
from tffx.remote import worker_session
from tffx.types import computation_types as ct
from tffx.types import placements

F32 = ct.TensorType(np.float32)
CLIENTS_F32 = ct.type_at_clients(F32)
ALL_EQUAL_F32 = ct.FederatedType(F32, placements.CLIENTS, all_equal=True)


def _interpreter(num_clients):
  """An interpreter whose session has no workers (no client work allowed)."""
  session = worker_session.WorkerSession((), futures.ThreadPoolExecutor(1),
                                         call_timeout_seconds=1)
  return interpreter.Interpreter(
      remote_strategy.RemoteStrategy(session, num_clients),
      lambda block: client_strategy.TensorFlowFunction(
          block, tensorflow_runner.load(block)))


def _apply(uri, parameter_type, result_type):
  """(x -> uri(x))."""
  return bb.Lambda('x', parameter_type, bb.Call(
      bb.Intrinsic(uri, ct.FunctionType(parameter_type, result_type)),
      bb.Reference('x', parameter_type)))


class RemoteStrategyTest(parameterized.TestCase):

  def test_value_at_clients_comes_back_as_repeated_members(self):
    place = _apply('federated_value_at_clients', F32, ALL_EQUAL_F32)

    result = _interpreter(3).run(place, np.float32(2))

    self.assertEqual(list(result.members), [2.0, 2.0, 2.0])

  @parameterized.named_parameters(
      ('sum', 'federated_sum', 6.0),
      ('min', 'federated_min', 1.0),
      ('max', 'federated_max', 3.0),
      ('mean', 'federated_mean', 2.0),
  )
  def test_aggregates_client_values_held_here(self, uri, expected):
    comp = _apply(uri, CLIENTS_F32, ct.type_at_server(F32))
    value = federated_value.FederatedValue(
        CLIENTS_F32, [np.float32(1), np.float32(3), np.float32(2)])

    result = _interpreter(3).run(comp, value)

    self.assertEqual(result.members, (np.float32(expected),))

  def test_aggregate_over_zero_clients_raises_like_reference(self):
    comp = _apply('federated_mean', CLIENTS_F32, ct.type_at_server(F32))
    value = federated_value.FederatedValue(CLIENTS_F32, [])

    with self.assertRaisesRegex(errors.AggregationError, '0 clients'):
      _interpreter(0).run(comp, value)

  def test_map_over_zero_clients_needs_no_worker(self):
    map_type = ct.StructType([(None, ct.FunctionType(F32, F32)),
                              (None, CLIENTS_F32)])
    identity = bb.Lambda('y', F32, bb.Reference('y', F32))
    comp = bb.Lambda('x', CLIENTS_F32, bb.Call(
        bb.Intrinsic('federated_map', ct.FunctionType(map_type, CLIENTS_F32)),
        bb.Struct([identity, bb.Reference('x', CLIENTS_F32)])))

    result = _interpreter(0).run(
        comp, federated_value.FederatedValue(CLIENTS_F32, []))

    self.assertEqual(result.members, ())

  def test_data_block_is_not_resolved(self):
    comp = bb.Lambda(None, None, bb.Data('file://x', F32))

    with self.assertRaisesRegex(NotImplementedError, 'file://x'):
      _interpreter(0).run(comp, None)


if __name__ == '__main__':
  absltest.main()
