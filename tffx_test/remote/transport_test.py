"""`WorkerConnection` against in-process workers (gRPC servers in this
process)."""

from absl.testing import absltest
import numpy as np

from tffx.executors import aggregations
from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import errors
from tffx.remote import transport
from tffx.remote import worker_service
from tffx.types import computation_types as ct
from tffx_test.remote import worker_processes

_VECTOR = ct.type_at_clients(ct.TensorType(np.float32, [50_000]))


def _start_worker(test, port=0, **service_kwargs):
  service = worker_service.WorkerService(
      reference_executor.ReferenceExecutor(), **service_kwargs)
  server = worker_service.WorkerServer(service, port=port)
  server.start()
  test.addCleanup(server.stop)
  return server


def _sum_request(members):
  """A partial sum of client vectors sent along (200 KB each)."""
  value = federated_value.FederatedValue(_VECTOR, members)
  return remote_pb2.WorkerRequest(
      session='s', aggregate=remote_pb2.AggregateRequest(
          kind='sum', value=remote_pb2.Argument(
              value=value_serialization.serialize_value(value, _VECTOR))))


class WorkerConnectionTest(absltest.TestCase):

  def connection(self, target, **kwargs):
    connection = transport.WorkerConnection(target, **kwargs)
    self.addCleanup(connection.close)
    return connection

  def test_health_reports_worker(self):
    server = _start_worker(self)

    health = self.connection(server.target).health(timeout=30)

    self.assertLen(health.worker_id, 32)
    self.assertEqual(health.executor, 'ReferenceExecutor')

  def test_execute_chunks_request_and_response_over_message_limit(self):
    server = _start_worker(self, max_message_mb=0.05)
    connection = self.connection(server.target, max_message_mb=0.05)
    members = [np.full(50_000, i, np.float32) for i in range(3)]
    connection.health(timeout=30)  # Learns the worker's message limit.

    response = connection.execute(_sum_request(members), timeout=30)

    value, _ = value_serialization.deserialize_value(response.value)
    total = aggregations.Sum(_VECTOR.member, 'federated_sum')
    np.testing.assert_array_equal(total.finalize(total.from_wire(value)),
                                  np.full(50_000, 3.0, np.float32))

  def test_worker_answers_in_chunks_the_controller_accepts(self):
    server = _start_worker(self)  # Its own limit is 4 MB.
    connection = self.connection(server.target, max_message_mb=0.05)
    ones = np.ones(50_000, np.float32)  # A 200 KB answer.

    response = connection.execute(_sum_request([ones, ones]), timeout=30)

    value, _ = value_serialization.deserialize_value(response.value)
    total = aggregations.Sum(_VECTOR.member, 'federated_sum')
    np.testing.assert_array_equal(total.finalize(total.from_wire(value)),
                                  ones * 2)

  def test_execute_on_dead_address_is_unavailable_naming_worker(self):
    target = f'127.0.0.1:{worker_processes.free_port()}'
    connection = self.connection(target)

    with self.assertRaisesRegex(errors.WorkerUnavailableError,
                                f'Worker {target} failed during aggregate: '
                                f'UNAVAILABLE'):
      connection.execute(_sum_request([np.zeros(50_000, np.float32)]),
                         timeout=30)

  def test_wrong_token_is_refused_with_tip(self):
    server = _start_worker(self, auth_token='right')
    connection = self.connection(server.target, auth_token='wrong')

    with self.assertRaisesRegex(errors.WorkerRefusedError,
                                'UNAUTHENTICATED.*Tip') as raised:
      connection.health(timeout=30)

    self.assertEqual(raised.exception.code, 'UNAUTHENTICATED')
    self.assertEqual(raised.exception.target, server.target)

  def test_worker_restarted_on_same_port_is_reached_again(self):
    server = _start_worker(self)
    port = server.port
    connection = self.connection(server.target)
    first = connection.health(timeout=30).worker_id
    server.stop()
    with self.assertRaises(errors.WorkerUnavailableError):
      connection.health(timeout=30)

    restarted = _start_worker(self, port=port)
    second = connection.health(timeout=30).worker_id

    self.assertEqual(restarted.port, port)
    self.assertNotEqual(first, second)

  def test_refuses_target_without_port(self):
    with self.assertRaisesRegex(ValueError, "'host:port'"):
      transport.WorkerConnection('localhost')

  def test_worker_server_refuses_port_in_use(self):
    server = _start_worker(self)

    with self.assertRaisesRegex(OSError, f'{server.port}.*in use'):
      _start_worker(self, port=server.port)


if __name__ == '__main__':
  absltest.main()
