"""The retry rule: poison clients end the round; retries move the clients."""

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.backends import remote
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation as tfc
from tffx.remote import errors
from tffx.remote import retry_policy
from tffx.types import computation_types as ct
from tffx_test.remote import programs
from tffx_test.remote import worker_processes


class RetryPolicyTest(absltest.TestCase):

  def test_order_rotates_workers_by_attempt(self):
    policy = retry_policy.RetryPolicy()

    orders = [policy.order(['a', 'b', 'c'], attempt) for attempt in (1, 2, 4)]

    self.assertEqual(orders, [['a', 'b', 'c'], ['b', 'c', 'a'],
                              ['a', 'b', 'c']])

  def test_record_raises_for_clients_failed_on_two_workers(self):
    policy = retry_policy.RetryPolicy()
    policy.record(errors.WorkerUnavailableError('a:1', 'died',
                                                clients=range(2, 5)))

    with self.assertRaisesRegex(
        errors.PoisonClientError,
        r'clients 3-4 failed on two workers.*on a:1: died; on b:1: died'
    ) as raised:
      policy.record(errors.WorkerUnavailableError('b:1', 'died',
                                                  clients=range(3, 7)))

    self.assertEqual(raised.exception.clients, range(3, 5))

  def test_record_allows_failures_on_one_worker_or_other_clients(self):
    policy = retry_policy.RetryPolicy()

    for target, clients in (('a:1', range(0, 2)), ('a:1', range(0, 2)),
                            ('b:1', range(2, 4)), ('c:1', None)):
      policy.record(errors.WorkerUnavailableError(target, 'died',
                                                  clients=clients))

    self.assertEqual(policy.order(['a', 'b'], 1), ['a', 'b'])


@tfc.tf_computation(np.int64)
def _tensor_array_size(n):
  ta = tf.raw_ops.TensorArrayV3(size=tf.cast(n, tf.int32), dtype=tf.float32)
  return tf.cast(tf.raw_ops.TensorArraySizeV3(handle=ta[0], flow_in=ta[1]),
                 tf.int64)


@fc.federated_computation(ct.type_at_clients(ct.TensorType(np.int64)))
def _sizes(x):
  return intrinsics.federated_map(_tensor_array_size, x)


class PoisonClientTest(absltest.TestCase):
  """Two real workers; client 1's data crashes whatever runs it."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.workers = worker_processes.start_workers(2)

  @classmethod
  def tearDownClass(cls):
    worker_processes.stop_workers(cls.workers)
    super().tearDownClass()

  def test_poison_client_ends_round_naming_it_and_workers_survive(self):
    context = remote.create_remote_execution_context(
        [w.target for w in self.workers], call_timeout_seconds=120)
    self.addCleanup(context.executor.close)

    with context:
      with self.assertRaisesRegex(
          errors.PoisonClientError,
          r'client 1 failed on two workers.*_tensor_array_size'
      ) as raised:
        _sizes([2, 2**31 - 1])
      # Every worker serves the next round, its clients included.
      result = programs.weighted_mean([1.0, 5.0], [1, 1])

    self.assertEqual(raised.exception.clients, range(1, 2))
    self.assertEqual([w.process.poll() for w in self.workers], [None, None])
    self.assertEqual(result, 3.0)


if __name__ == '__main__':
  absltest.main()
