"""The remote executor on real worker processes, against the reference executor.

Differential tests: the same traced programs give the reference executor's
results with 1, 2 and 3 workers and uneven shards (7 clients over 3 workers
are 3, 2 and 2). Failure tests: a worker killed or stalled in the middle of
a round.
"""

import collections
import os
import signal
import threading
import time

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import building_blocks as bb
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.executors import errors as executor_errors
from tffx.executors import execution_context
from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import errors
from tffx.remote import remote_executor
from tffx.remote import worker_service
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure
from tffx_test.executors import test_utils
from tffx_test.remote import programs
from tffx_test.remote import worker_processes

F32 = ct.TensorType(np.float32)


def _reference_result(comp, *args, num_clients=programs.NUM_CLIENTS):
  with reference.create_reference_execution_context(num_clients):
    return comp(*args)


# Three workers for the whole module: starting one takes seconds.
_WORKERS = []


def setUpModule():
  _WORKERS.extend(worker_processes.start_workers(3))


def tearDownModule():
  worker_processes.stop_workers(_WORKERS)
  del _WORKERS[:]


class _WorkersTestCase(parameterized.TestCase):
  """Makes executors over the module's workers; leaves the workers running."""

  @property
  def workers(self):
    return _WORKERS

  def targets(self, num_workers=3):
    return [w.target for w in self.workers[:num_workers]]

  def executor(self, num_workers=3, **kwargs):
    executor = remote_executor.RemoteExecutor(self.targets(num_workers),
                                              **kwargs)
    self.addCleanup(executor.close)
    return executor

  def run_remote(self, executor, comp, *args,
                 num_clients=programs.NUM_CLIENTS):
    context = execution_context.ExecutionContext(
        lambda: executor, default_num_clients=num_clients)
    with context:
      return comp(*args)


def _assert_bit_identical(test, result, expected):
  """The same weights, bit for bit (exact sums make grouping irrelevant)."""
  test.assertEqual(list(result), list(expected))
  for name in expected:
    test.assertEqual(np.asarray(result[name]).dtype,
                     np.asarray(expected[name]).dtype)
    test.assertEqual(np.asarray(result[name]).tobytes(),
                     np.asarray(expected[name]).tobytes(), name)


class ExactnessTest(_WorkersTestCase):
  """Float sums are exact: the same bits with any number of workers."""

  def run_block(self, num_workers, uri, member_type, *columns):
    """`uri` over client values (one column per input), on the workers."""
    types = [ct.type_at_clients(member_type), ct.type_at_clients(F32)]
    values = [federated_value.FederatedValue(t, c)
              for t, c in zip(types, columns)]
    parameter = types[0] if len(values) == 1 else ct.StructType(
        [(None, t) for t in types])
    arg = values[0] if len(values) == 1 else structure.Struct(
        [(None, v) for v in values])
    block = test_utils.intrinsic_lambda(uri, parameter,
                                        ct.type_at_server(member_type))
    num_clients = len(columns[0])
    remote = self.executor(num_workers).run(block, arg, num_clients)
    reference = reference_executor.ReferenceExecutor().run(block, arg,
                                                           num_clients)
    return remote.members[0], reference.members[0]

  @parameterized.named_parameters(('one_worker', 1), ('two_workers', 2),
                                  ('three_workers', 3))
  def test_mean_of_one_to_ten_thousand_is_exact(self, num_workers):
    members = list(np.arange(1, 10_001, dtype=np.float32))

    result, reference_result = self.run_block(num_workers, 'federated_mean',
                                              F32, members)

    self.assertEqual(result, np.float32(5000.5))
    self.assertEqual(result.tobytes(), reference_result.tobytes())

  @parameterized.named_parameters(('one_worker', 1), ('two_workers', 2),
                                  ('three_workers', 3))
  def test_sum_of_spread_vectors_is_exact_sum_rounded_once(self,
                                                           num_workers):
    vectors = test_utils.spread_vectors(num_clients=1000, size=8)

    result, reference_result = self.run_block(
        num_workers, 'federated_sum', ct.TensorType(np.float32, [8]), vectors)

    expected = test_utils.exact_float32_sum(vectors)
    self.assertEqual(result.tobytes(), expected.tobytes())
    self.assertEqual(reference_result.tobytes(), expected.tobytes())

  @parameterized.named_parameters(('one_worker', 1), ('two_workers', 2),
                                  ('three_workers', 3))
  def test_weighted_mean_is_bit_identical_to_reference(self, num_workers):
    vectors = test_utils.spread_vectors(num_clients=100, size=4, seed=1)
    weights = list(np.random.default_rng(2).uniform(0, 100, 100).astype(
        np.float32))

    result, reference_result = self.run_block(
        num_workers, 'federated_weighted_mean',
        ct.TensorType(np.float32, [4]), vectors, weights)

    self.assertEqual(result.tobytes(), reference_result.tobytes())


class DifferentialTest(_WorkersTestCase):

  @parameterized.product(program=sorted(programs.PROGRAMS),
                         num_workers=(1, 2, 3))
  def test_program_gives_reference_result(self, program, num_workers):
    comp, args = programs.PROGRAMS[program]
    executor = self.executor(num_workers)

    result = self.run_remote(executor, comp, *args)

    test_utils.assert_same_result(self, result, _reference_result(comp, *args))

  @parameterized.named_parameters(('one_worker', 1), ('two_workers', 2),
                                  ('three_workers', 3))
  def test_fed_avg_round_gives_reference_result(self, num_workers):
    args = programs.fed_avg_arguments(num_clients=7)
    executor = self.executor(num_workers)

    result = self.run_remote(executor, programs.fed_avg_round, *args)

    expected = _reference_result(programs.fed_avg_round, *args)
    self.assertIsInstance(result, collections.OrderedDict)
    _assert_bit_identical(self, result, expected)

  def test_fewer_clients_than_workers_gives_reference_result(self):
    comp, _ = programs.PROGRAMS['map_and_aggregate']
    args = ([collections.OrderedDict(a=1.5, b=[2.0, -1.0]),
             collections.OrderedDict(a=-0.5, b=[4.0, 3.0])],)
    executor = self.executor(3)

    result = self.run_remote(executor, comp, *args)

    test_utils.assert_same_result(self, result, _reference_result(comp, *args))
    self.assertEqual(sorted(executor.worker_call_counts().values())[0], 0)

  def test_zero_clients_give_reference_result_without_worker_requests(self):

    @fc.federated_computation(ct.type_at_clients(F32))
    def total(x):
      return intrinsics.federated_sum(intrinsics.federated_map(
          programs.add_one, x))

    executor = self.executor(3)

    result = self.run_remote(executor, total, [], num_clients=0)

    self.assertEqual(result, _reference_result(total, [], num_clients=0))
    self.assertEqual(sum(executor.worker_call_counts().values()), 0)

  def test_every_worker_serves_its_shard_of_uneven_clients(self):
    comp, args = programs.PROGRAMS['map_and_aggregate']
    executor = self.executor(3)

    self.run_remote(executor, comp, *args)

    counts = executor.worker_call_counts()
    self.assertLen(counts, 3)
    self.assertTrue(all(c > 0 for c in counts.values()), counts)

  def test_aggregation_sends_one_partial_request_per_worker(self):
    operations = []
    lock = threading.Lock()

    def record(operation, target):
      with lock:
        operations.append((operation, target))

    @fc.federated_computation(ct.type_at_clients(F32))
    def total(x):
      return intrinsics.federated_sum(intrinsics.federated_map(
          programs.add_one, x))

    executor = self.executor(3, on_dispatch=record)

    result = self.run_remote(executor, total, [1.0] * 30)

    self.assertEqual(result, 60.0)
    self.assertCountEqual(operations,
                          [('run', t) for t in self.targets()] +
                          [('aggregate', t) for t in self.targets()])

  @parameterized.named_parameters(
      ('secure_sum_out_of_range', programs.secure_sums, ([1, 9, 2],),
       executor_errors.SecureBoundsError, r'client 1 has the value 9'),
      ('mean_of_no_clients', programs.weighted_mean, ([], []),
       executor_errors.AggregationError, '0 clients'),
  )
  def test_errors_match_reference(self, comp, args, error, message):
    executor = self.executor(3)

    with self.assertRaisesRegex(error, message):
      _reference_result(comp, *args)
    with self.assertRaisesRegex(error, message):
      self.run_remote(executor, comp, *args)

  def test_dataset_with_python_function_travels_as_elements(self):
    comp, _ = programs.PROGRAMS['sequences']
    double = lambda x: tf.reshape(
        tf.py_function(lambda v: v * 2, [x], tf.float32), [])
    datasets = [
        tf.data.Dataset.from_tensor_slices(np.float32([i, 0.5])).map(double)
        for i in range(5)
    ]

    result = self.run_remote(self.executor(2), comp, datasets)

    test_utils.assert_same_result(self, result,
                                  _reference_result(comp, datasets))

  def test_function_capturing_outer_value_travels_to_workers(self):
    # (arg -> let s = arg.s in federated_map((m -> add_floats(<m, s>)), arg.x))
    clients = ct.type_at_clients(F32)
    arg_type = ct.StructType([('s', F32), ('x', clients)])
    arg_ref = bb.Reference('arg', arg_type)
    add = programs.add_floats.to_building_block()
    captures_s = bb.Lambda('m', F32, bb.Call(add, bb.Struct(
        [bb.Reference('m', F32), bb.Reference('s', F32)])))
    map_type = ct.FunctionType(
        ct.StructType([(None, captures_s.type_signature), (None, clients)]),
        clients)
    comp = bb.Lambda('arg', arg_type, bb.Block(
        [('s', bb.Selection(arg_ref, name='s'))],
        bb.Call(bb.Intrinsic('federated_map', map_type),
                bb.Struct([captures_s, bb.Selection(arg_ref, name='x')]))))
    arg = structure.Struct.named(
        s=np.float32(10.0),
        x=federated_value.FederatedValue(
            clients, [np.float32(i) for i in range(5)]))

    result = self.executor(2).run(comp, arg, 5)

    expected = reference_executor.ReferenceExecutor().run(comp, arg, 5)
    test_utils.assert_same_result(self, result, expected)


class WorkerFailureTest(_WorkersTestCase):

  def setUp(self):
    super().setUp()
    self.args = programs.fed_avg_arguments(num_clients=9, seed=3)
    self.expected = _reference_result(programs.fed_avg_round, *self.args)
    self.victim = self.workers[2]
    # Every test leaves the three workers running for the next one.
    self.addCleanup(self._revive_victim)

  def _revive_victim(self):
    process = self.victim.process
    if process.poll() is None:
      os.kill(process.pid, signal.SIGCONT)
    else:
      self.victim.start()

  def once_at(self, operation, action):
    """An on_dispatch hook that runs `action` before `operation` reaches the
    victim, the first time only."""
    done = threading.Event()
    lock = threading.Lock()

    def on_dispatch(op, target):
      with lock:
        if op == operation and target == self.victim.target and (
            not done.is_set()):
          action()
          done.set()

    return on_dispatch, done

  def assert_fed_avg_result(self, result):
    _assert_bit_identical(self, result, self.expected)

  @parameterized.named_parameters(
      ('before_client_work', 'run'),
      ('holding_client_results', 'aggregate'),
  )
  def test_round_completes_on_other_workers_when_one_is_killed(
      self, operation):
    on_dispatch, killed = self.once_at(operation, self.victim.kill)
    executor = self.executor(3, on_dispatch=on_dispatch)

    result = self.run_remote(executor, programs.fed_avg_round, *self.args)

    self.assertTrue(killed.is_set())
    self.assert_fed_avg_result(result)

  def test_round_fails_quickly_naming_worker_when_retry_is_off(self):
    on_dispatch, killed = self.once_at('aggregate', self.victim.kill)
    executor = self.executor(3, on_dispatch=on_dispatch,
                             retry_on_worker_failure=False,
                             call_timeout_seconds=600)
    start = time.monotonic()

    with self.assertRaisesRegex(errors.WorkerUnavailableError,
                                f'Worker {self.victim.target} failed'):
      self.run_remote(executor, programs.fed_avg_round, *self.args)

    self.assertTrue(killed.is_set())
    self.assertLess(time.monotonic() - start, 60)

  def test_restarted_worker_serves_the_next_round(self):
    on_dispatch, killed = self.once_at('aggregate', self.victim.kill)
    executor = self.executor(3, on_dispatch=on_dispatch)
    self.run_remote(executor, programs.fed_avg_round, *self.args)
    self.assertTrue(killed.is_set())
    before = executor.worker_call_counts()

    self.victim.start()
    result = self.run_remote(executor, programs.fed_avg_round, *self.args)

    after = executor.worker_call_counts()
    self.assert_fed_avg_result(result)
    self.assertGreater(after[self.victim.target], before[self.victim.target])

  def test_stalled_worker_misses_deadline_and_round_completes(self):
    stall = lambda: os.kill(self.victim.process.pid, signal.SIGSTOP)
    on_dispatch, stalled = self.once_at('run', stall)
    executor = self.executor(3, on_dispatch=on_dispatch,
                             call_timeout_seconds=5,
                             health_timeout_seconds=1)
    start = time.monotonic()

    result = self.run_remote(executor, programs.fed_avg_round, *self.args)

    self.assertTrue(stalled.is_set())
    self.assert_fed_avg_result(result)
    self.assertLess(time.monotonic() - start, 60)


class _InProcessConnection:
  """`WorkerConnection`'s interface over an in-process `WorkerService`; the
  worker 'dies' (is unavailable) on a run whose clients hold `poison`."""

  def __init__(self, target: str, poison: float):
    self.target = target
    self.deaths = 0
    self._poison = poison
    self._service = worker_service.WorkerService(
        reference_executor.ReferenceExecutor())

  def health(self, timeout, wait_for_ready=False):
    del timeout, wait_for_ready
    return self._service.health()

  def execute(self, request, timeout):
    del timeout
    for argument in request.run.argument:
      if argument.HasField('value'):
        value, _ = value_serialization.deserialize_value(argument.value)
        members = getattr(value, 'members', ())
        if any(np.size(m) == 1 and float(m) == self._poison
               for m in members):
          self.deaths += 1
          self._service = worker_service.WorkerService(
              reference_executor.ReferenceExecutor())  # Restarted, empty.
          raise errors.WorkerUnavailableError(self.target, 'died')
    return remote_pb2.WorkerResponse.FromString(
        self._service.execute_bytes(request.SerializeToString()))

  def reset(self):
    pass

  def close(self):
    pass


class ConnectionObjectsTest(absltest.TestCase):

  def _executor(self, poison=float('nan')):
    connections = [_InProcessConnection(f'w{i}', poison) for i in range(2)]
    executor = remote_executor.RemoteExecutor(connections)
    self.addCleanup(executor.close)
    return executor, connections

  def test_connection_objects_give_the_reference_result(self):
    executor, _ = self._executor()
    comp, args = programs.PROGRAMS['weighted_mean']

    with execution_context.ExecutionContext(lambda: executor):
      result = comp(*args)

    test_utils.assert_same_result(self, result,
                                  _reference_result(comp, *args))

  def test_client_on_a_failed_worker_twice_is_poison_naming_it(self):
    executor, connections = self._executor(poison=10.0)

    with execution_context.ExecutionContext(lambda: executor):
      with self.assertRaisesRegex(
          errors.PoisonClientError,
          r'The work of client 1 failed on two workers, so it is not '
          r'retried again') as raised:
        programs.broadcast_and_map(np.float32(3.0), [1.0, 10.0])
      after = programs.broadcast_and_map(np.float32(3.0), [1.0, 2.0])

    self.assertEqual(raised.exception.clients, range(1, 2))
    self.assertEqual(sorted(c.deaths for c in connections), [1, 1])
    test_utils.assert_same_result(self, after, _reference_result(
        programs.broadcast_and_map, np.float32(3.0), [1.0, 2.0],
        num_clients=2))


class RemoteExecutorTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('no_targets', [], 'non-empty list'),
      ('one_string', '127.0.0.1:1', 'non-empty list'),
      ('repeated', ['127.0.0.1:1', '127.0.0.1:1'], 'distinct'),
      ('no_port', ['localhost'], "'host:port'"),
  )
  def test_refuses_bad_targets(self, targets, message):
    with self.assertRaisesRegex(ValueError, message):
      remote_executor.RemoteExecutor(targets)

  def test_refuses_non_positive_timeout(self):
    with self.assertRaisesRegex(ValueError, 'positive timeouts'):
      remote_executor.RemoteExecutor(['127.0.0.1:1'], call_timeout_seconds=0)

  def test_run_without_live_workers_names_every_target(self):
    targets = [f'127.0.0.1:{worker_processes.free_port()}' for _ in range(2)]
    executor = remote_executor.RemoteExecutor(targets,
                                              health_timeout_seconds=2)
    self.addCleanup(executor.close)
    comp, args = programs.PROGRAMS['weighted_mean']

    with execution_context.ExecutionContext(lambda: executor):
      with self.assertRaisesRegex(errors.NoLiveWorkersError,
                                  f'{targets[0]}.*{targets[1]}'):
        comp(*args)

  def test_run_refuses_negative_client_count(self):
    executor = remote_executor.RemoteExecutor(['127.0.0.1:1'])
    self.addCleanup(executor.close)

    with self.assertRaises(executor_errors.ClientCountError):
      executor.run(programs.add_one.to_building_block(), np.float32(1), -1)

  def test_server_only_work_needs_no_worker(self):
    executor = remote_executor.RemoteExecutor(
        [f'127.0.0.1:{worker_processes.free_port()}'])
    self.addCleanup(executor.close)
    server = ct.type_at_server(F32)
    apply_type = ct.FunctionType(
        ct.StructType([(None, ct.FunctionType(F32, F32)), (None, server)]),
        server)
    comp = bb.Lambda('x', server, bb.Call(
        bb.Intrinsic('federated_apply', apply_type),
        bb.Struct([programs.add_one.to_building_block(),
                   bb.Reference('x', server)])))
    value = federated_value.FederatedValue(server, [np.float32(1.5)])

    result = executor.run(comp, value, 0)

    self.assertEqual(result.members, (np.float32(2.5),))
    self.assertEqual(result.placement, placements.SERVER)


if __name__ == '__main__':
  absltest.main()
