from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.backends import native
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import execution_context
from tffx.executors import reference_executor
from tffx.executors import thread_pool_executor
from tffx.executors import vectorized_computation
from tffx.remote import worker_executors
from tffx.types import computation_types as ct
from tffx_test.remote import programs

VectorizedComputation = vectorized_computation.VectorizedComputation


@tfc.tf_computation(ct.SequenceType(np.float32))
def _sum_of_squares(dataset):
  return dataset.reduce(np.float32(0.0), lambda total, x: total + x * x)


@fc.federated_computation(ct.type_at_clients(ct.SequenceType(np.float32)))
def _map_sum_of_squares(datasets):
  return intrinsics.federated_map(_sum_of_squares, datasets)


def _spy_on_vectorized_calls():
  return mock.patch.object(VectorizedComputation, '__call__', autospec=True,
                           side_effect=VectorizedComputation.__call__)


class WorkerExecutorsTest(parameterized.TestCase):

  def test_reference_kind_gives_reference_executor(self):
    executor, name = worker_executors.create_worker_executor('reference')

    self.assertIsInstance(executor, reference_executor.ReferenceExecutor)
    self.assertEqual(name, 'reference')

  @parameterized.named_parameters(('auto', 'auto'),
                                  ('thread_pool', 'thread_pool'))
  def test_thread_pool_kinds_give_thread_pool_executor(self, kind):
    executor, name = worker_executors.create_worker_executor(
        kind, max_concurrent_computation_calls=2)
    self.addCleanup(executor.close)

    self.assertIsInstance(executor, thread_pool_executor.ThreadPoolExecutor)
    self.assertEqual(name, 'thread_pool')
    self.assertEqual(executor.max_concurrent_computation_calls, 2)

  @parameterized.named_parameters(('worker', False), ('native', True))
  def test_vectorizes_clients_only_outside_workers(self, native_context):
    datasets = [[0.1 * (i + j) for j in range(i % 4 + 1)] for i in range(6)]
    if native_context:
      context = native.create_local_execution_context()
    else:
      context = execution_context.ExecutionContext(
          lambda: worker_executors.create_worker_executor('auto')[0])

    with context, _spy_on_vectorized_calls() as call:
      result = _map_sum_of_squares(datasets)

    self.assertEqual(call.call_count > 0, native_context)
    expected = [_sum_of_squares(d) for d in datasets]
    if native_context:
      np.testing.assert_allclose(result, expected, rtol=1e-5)
    else:  # Per client, as the reference executor: bit-identical.
      np.testing.assert_array_equal(result, expected)

  def test_reference_executor_runs_on_client_device(self):
    executor, _ = worker_executors.create_worker_executor(
        'reference', client_devices=['/device:CPU:0'])

    result = executor.run(programs.add_one.to_building_block(),
                          np.float32(1), 0)

    self.assertEqual(result, np.float32(2))

  def test_refuses_unknown_kind(self):
    with self.assertRaisesRegex(ValueError, "'fast'"):
      worker_executors.create_worker_executor('fast')

  def test_refuses_unknown_device(self):
    with self.assertRaisesRegex(ValueError, "'/device:TPU:7'"):
      worker_executors.create_worker_executor(
          'reference', client_devices=['/device:TPU:7'])


if __name__ == '__main__':
  absltest.main()
