"""Crash containment, deadlines and isolation, on real worker processes.

One worker for the class (computations in one supervised child at a time,
requests capped at a few seconds); every crash or overrun must end in an
error for the caller and leave the same worker serving correct requests.
"""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import remote
from tffx.computations import building_blocks as bb
from tffx.computations import errors as computation_errors
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import serialization
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import federated_value
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import errors
from tffx.remote import transport
from tffx.types import computation_types as ct
from tffx_test.remote import programs
from tffx_test.remote import worker_processes

I64 = ct.TensorType(np.int64)
F32 = ct.TensorType(np.float32)
CLIENTS_F32_VALUE = ct.type_at_clients(F32)
_HUGE = 2**40
_MAX_REQUEST_SECONDS = 4


# Each body takes a size n: an int64 tensor (client data, known only when
# the graph runs) or a Python int (a constant the graph declares).


def _size_of_tensor_array(n):
  size = n if isinstance(n, int) else tf.cast(n, tf.int32)
  ta = tf.raw_ops.TensorArrayV3(size=size, dtype=tf.float32)
  return tf.cast(tf.raw_ops.TensorArraySizeV3(handle=ta[0], flow_in=ta[1]),
                 tf.int64)


def _sum_of_shuffled(n):
  return tf.data.Dataset.range(3).shuffle(n).reduce(
      np.int64(0), lambda a, b: a + b)


def _sum_of_interleaved(n):
  return tf.data.Dataset.range(3).interleave(
      lambda x: tf.data.Dataset.range(x), cycle_length=n).reduce(
          np.int64(0), lambda a, b: a + b)


def _sum_of_padded(n):
  shapes = [n] if isinstance(n, int) else tf.reshape(n, [1])
  return tf.data.Dataset.range(3).map(lambda x: tf.fill([x], x)).padded_batch(
      2, padded_shapes=shapes).reduce(
          np.int64(0), lambda a, b: a + tf.reduce_sum(b))


def _sum_of_zeros(n):
  shape = [n] if isinstance(n, int) else tf.reshape(n, [1])
  return tf.cast(tf.reduce_sum(tf.zeros(shape)), tf.int64)


# name -> (graph body of a size n, its result for n = 2)
_SIZED = {
    'tensor_array': (_size_of_tensor_array, 2),
    'shuffle': (_sum_of_shuffled, 3),
    'interleave': (_sum_of_interleaved, 1),
    'padded_batch': (_sum_of_padded, 5),
    'zeros': (_sum_of_zeros, 0),
}


def _on_clients(body):
  """A federated map of `body` over int64 client values."""
  fn = tfc.tf_computation(body, np.int64)

  @fc.federated_computation(ct.type_at_clients(I64))
  def comp(x):
    return intrinsics.federated_map(fn, x)

  return comp


def _constant_on_clients(body, size):
  """A federated eval of `body`, its size a constant of the graph."""
  fn = tfc.tf_computation(lambda: body(size))

  @fc.federated_computation
  def comp():
    return intrinsics.federated_eval(fn, programs.CLIENTS)

  return comp


class ComputationProcessTest(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.worker = worker_processes.WorkerProcess([
        '--max_concurrent_computation_calls=1',
        f'--max_request_seconds={_MAX_REQUEST_SECONDS}',
        '--max_memory_mb=6000',
    ]).start()
    cls.connection = transport.WorkerConnection(cls.worker.target)

  @classmethod
  def tearDownClass(cls):
    cls.connection.close()
    cls.worker.close()
    super().tearDownClass()

  def context(self, **kwargs):
    kwargs.setdefault('retry_on_worker_failure', False)
    context = remote.create_remote_execution_context(
        [self.worker.target], call_timeout_seconds=120, **kwargs)
    self.addCleanup(context.executor.close)
    return context

  def worker_id(self):
    return self.connection.health(timeout=30).worker_id

  def assert_serves_correctly(self, worker_id):
    with self.context():
      result = programs.weighted_mean([1.0, 3.0], [1, 1])
    self.assertEqual(result, 2.0)
    self.assertEqual(self.worker_id(), worker_id)
    self.assertIsNone(self.worker.process.poll())

  @parameterized.named_parameters(
      ('tensor_array', 'tensor_array', 2**31 - 1),
      ('shuffle', 'shuffle', _HUGE),
      ('interleave', 'interleave', _HUGE),
      ('padded_batch', 'padded_batch', _HUGE),
      # 8 GB of zeros, beyond the worker's --max_memory_mb.
      ('zeros_beyond_memory_limit', 'zeros', 2**31))
  def test_size_from_client_data_that_crashes_gives_error_and_worker_serves(
      self, name, huge):
    body, small_result = _SIZED[name]
    comp = _on_clients(body)
    sizes = [2, huge]
    worker_id = self.worker_id()
    with self.context():
      self.assertEqual(comp([2]), [small_result])

      with self.assertRaisesRegex(
          (errors.WorkerUnavailableError, tf.errors.OpError, RuntimeError,
           ValueError), r'clients 0-1'):
        comp(sizes)

    self.assert_serves_correctly(worker_id)

  @parameterized.named_parameters(
      (name, name) for name in ('tensor_array', 'shuffle', 'interleave',
                                'padded_batch', 'zeros'))
  def test_constant_size_beyond_limit_is_refused_before_running(self, name):
    body, _ = _SIZED[name]
    comp = _constant_on_clients(
        body, 2**31 - 1 if name == 'tensor_array' else _HUGE)
    worker_id = self.worker_id()

    with self.context(default_num_clients=1):
      with self.assertRaisesRegex(errors.GraphTooLargeError,
                                  r'declares a .* beyond the worker'):
        comp()

    self.assert_serves_correctly(worker_id)

  def test_endless_loop_is_stopped_at_deadline_and_slot_is_free(self):

    @tfc.tf_computation(np.int64)
    def endless(x):
      return tf.while_loop(lambda i: i >= 0, lambda i: i + 1, [x])

    @fc.federated_computation(ct.type_at_clients(I64))
    def comp(x):
      return intrinsics.federated_map(endless, x)

    worker_id = self.worker_id()
    with self.context():
      with self.assertRaisesRegex(errors.RequestDeadlineError,
                                  r'deadline.*client 0'):
        comp([1])

    # One slot only: this request runs only if the loop's slot is free.
    self.assert_serves_correctly(worker_id)

  def test_work_of_caller_that_gave_up_is_stopped_and_slot_is_free(self):

    @tfc.tf_computation(np.int64)
    def endless(x):
      return tf.while_loop(lambda i: i >= 0, lambda i: i + 1, [x])

    @fc.federated_computation(ct.type_at_clients(I64))
    def comp(x):
      return intrinsics.federated_map(endless, x)

    worker_id = self.worker_id()
    context = remote.create_remote_execution_context(
        [self.worker.target], call_timeout_seconds=1,
        retry_on_worker_failure=False)
    self.addCleanup(context.executor.close)
    with context:
      with self.assertRaisesRegex(errors.WorkerUnavailableError,
                                  r'DEADLINE_EXCEEDED'):
        comp([1])

    # One slot only: this request runs only if the loop's slot is free.
    self.assert_serves_correctly(worker_id)

  def test_table_with_shared_name_is_not_visible_to_another_session(self):

    @fc.federated_computation(ct.type_at_clients(I64))
    def write_comp(x):
      return intrinsics.federated_map(programs.write_shared_table, x)

    @fc.federated_computation(ct.type_at_clients(I64))
    def read_comp(x):
      return intrinsics.federated_map(programs.read_shared_table, x)

    with self.context():
      written = write_comp([42])

      with self.assertRaisesRegex(computation_errors.TensorFlowExecutionError,
                                  r'Table not initialized'):
        read_comp([-1])

    self.assertEqual(written, [42])

  def test_uninitialized_empty_returns_zeros_not_old_memory(self):
    size = 1 << 16

    @tfc.tf_computation(np.float32)
    def fill(x):
      return tf.reduce_sum(tf.fill([size], x))

    @tfc.tf_computation(np.float32)
    def empty(x):
      values = tf.raw_ops.Empty(shape=[size], dtype=tf.float32, init=False)
      return tf.reduce_sum(tf.abs(values)) + x

    @fc.federated_computation(ct.type_at_clients(F32))
    def fill_comp(x):
      return intrinsics.federated_map(fill, x)

    @fc.federated_computation(ct.type_at_clients(F32))
    def empty_comp(x):
      return intrinsics.federated_map(empty, x)

    with self.context():
      filled = fill_comp([7.0])
      leftovers = empty_comp([0.0])

    self.assertEqual(filled, [7.0 * size])
    self.assertEqual(leftovers, [0.0])

  @parameterized.named_parameters(
      ('extra', 2, CLIENTS_F32_VALUE, 'ArgumentCountError',
       r'takes 1 argument; the request has 2'),
      ('missing', 0, CLIENTS_F32_VALUE, 'ArgumentCountError',
       r'takes 1 argument; the request has 0'),
      ('wrong_type', 1, ct.type_at_clients(ct.TensorType(np.int32)),
       'ArgumentTypeError', r'run.argument\[0\] of type \{float32\}@CLIENTS'),
  )
  def test_run_with_wrong_arguments_gets_named_error_and_nothing_runs(
      self, count, value_type, kind, message):
    request = _map_request(count, value_type)
    worker_id = self.worker_id()

    response = self.connection.execute(request, timeout=60)

    self.assertEqual(response.error.kind, kind)
    self.assertRegex(response.error.message, message)
    self.assert_serves_correctly(worker_id)

  def test_bounded_sum_without_bounds_gets_secure_bounds_error(self):
    stored = _map_request(1, CLIENTS_F32_VALUE, handle='v0')
    aggregate = remote_pb2.WorkerRequest(
        session=stored.session, aggregate=remote_pb2.AggregateRequest(
            kind='bounded_sum', intrinsic='federated_secure_sum'))
    aggregate.aggregate.value.handle = 'v0'

    self.connection.execute(stored, timeout=60)
    response = self.connection.execute(aggregate, timeout=60)

    self.assertEqual(response.error.kind, 'SecureBoundsError')
    self.assertRegex(response.error.message, r'Expected upper bounds')


def _map_request(count, value_type, handle=''):
  """A run of federated_map(add_one) on 2 clients with `count` arguments."""
  parameter = ct.StructType([(None, CLIENTS_F32_VALUE)])
  map_type = ct.FunctionType(
      ct.StructType([(None, ct.FunctionType(F32, F32)),
                     (None, CLIENTS_F32_VALUE)]), CLIENTS_F32_VALUE)
  function = bb.Lambda('p', parameter, bb.Call(
      bb.Intrinsic('federated_map', map_type),
      bb.Struct([programs.add_one.to_building_block(),
                 bb.Selection(bb.Reference('p', parameter), index=0)])))
  dtype = value_type.member.dtype
  value = federated_value.FederatedValue(
      value_type, [np.asarray(1, dtype), np.asarray(2, dtype)])
  run = remote_pb2.RunRequest(
      num_clients=2, result_handle=handle,
      function=serialization.serialize_building_block(function))
  for _ in range(count):
    run.argument.add().value.CopyFrom(
        value_serialization.serialize_value(value, value_type))
  return remote_pb2.WorkerRequest(session=f'strict-{count}-{handle}', run=run)


if __name__ == '__main__':
  absltest.main()
