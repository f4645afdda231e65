from concurrent import futures

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.executors import aggregations
from tffx.executors import errors as executor_errors
from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import errors
from tffx.remote import transport
from tffx.remote import worker_service
from tffx.remote import worker_session
from tffx.types import computation_types as ct

I32_CLIENTS = ct.type_at_clients(ct.TensorType(np.int32))


class _ErrorConnection:
  """Answers every request with one error, like a worker that failed."""

  def __init__(self, kind, message='it broke'):
    self.target = 'fake:1'
    self._error = remote_pb2.Error(kind=kind, message=message)

  def execute(self, request, timeout):
    del request, timeout  # Unused.
    return remote_pb2.WorkerResponse(error=self._error)


def _members_argument(members):
  value = federated_value.FederatedValue(
      I32_CLIENTS, [np.int32(m) for m in members])
  return remote_pb2.Argument(
      value=value_serialization.serialize_value(value, I32_CLIENTS))


class PartitionTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('even', 3, 6, [(0, 2), (2, 4), (4, 6)]),
      ('uneven', 3, 7, [(0, 3), (3, 5), (5, 7)]),
      ('fewer_clients_than_workers', 3, 2, [(0, 1), (1, 2)]),
      ('one_worker', 1, 5, [(0, 5)]),
      ('no_clients', 2, 0, []),
  )
  def test_partition_splits_clients_contiguously(self, workers, clients,
                                                 expected):
    connections = [_ErrorConnection('x') for _ in range(workers)]

    shards = worker_session.partition(connections, clients)

    self.assertEqual([(s.start, s.stop) for s in shards], expected)
    self.assertEqual([s.index for s in shards], list(range(len(expected))))


class WorkerSessionTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.pool = futures.ThreadPoolExecutor(4)
    self.addCleanup(self.pool.shutdown)

  def session(self, connections, num_clients, **kwargs):
    shards = worker_session.partition(connections, num_clients)
    return worker_session.WorkerSession(shards, self.pool,
                                        call_timeout_seconds=30, **kwargs)

  def in_process_worker(self):
    service = worker_service.WorkerService(
        reference_executor.ReferenceExecutor())
    server = worker_service.WorkerServer(service)
    server.start()
    self.addCleanup(server.stop)
    connection = transport.WorkerConnection(server.target)
    self.addCleanup(connection.close)
    return connection

  def test_aggregate_asks_every_shard_and_reports_dispatches(self):
    dispatched = []
    workers = [self.in_process_worker() for _ in range(2)]
    session = self.session(workers, 5,
                           on_dispatch=lambda *a: dispatched.append(a))
    members = [1, 2, 3, 4, 5]

    partials = session.aggregate(
        'sum', 'federated_sum',
        lambda shard: _members_argument(members[shard.start:shard.stop]))

    total = aggregations.Sum(I32_CLIENTS.member, 'federated_sum')
    self.assertEqual([total.finalize(total.from_wire(p)) for p in partials],
                     [6, 9])
    self.assertCountEqual(dispatched, [('aggregate', w.target)
                                       for w in workers])

  def test_worker_error_keeps_its_class_and_names_the_worker(self):
    worker = self.in_process_worker()
    session = self.session([worker], 2)

    with self.assertRaisesRegex(
        executor_errors.SecureBoundsError,
        rf'client 1 has the value 9.*\[on worker {worker.target}\]'):
      session.aggregate('bounded_sum', 'federated_secure_sum',
                        lambda shard: _members_argument([1, 9]),
                        upper_bounds=[np.int32(7)],
                        descriptions=['max_input=7'])

  def test_fetch_of_lost_value_counts_as_unavailable_worker(self):
    worker = self.in_process_worker()
    session = self.session([worker], 1)

    with self.assertRaisesRegex(errors.WorkerUnavailableError,
                                'lost the values of this run'):
      session.fetch(['v0'])

  def test_unknown_error_kind_becomes_remote_execution_error(self):
    session = self.session([_ErrorConnection('MemoryError', 'full')], 1)

    with self.assertRaisesRegex(errors.RemoteExecutionError,
                                'fake:1 failed during fetch: MemoryError'):
      session.fetch(['v0'])

  def test_final_error_wins_over_unavailable_worker(self):
    session = self.session([
        _ErrorConnection('UnknownHandleError'),
        _ErrorConnection('AggregationError', 'no result')
    ], 2)

    with self.assertRaisesRegex(executor_errors.AggregationError,
                                'no result'):
      session.fetch(['v0', 'v0'])

  def test_session_without_shards_sends_nothing(self):
    session = self.session([_ErrorConnection('ValueError')], 0)

    self.assertEqual(session.fetch([]), [])


if __name__ == '__main__':
  absltest.main()
