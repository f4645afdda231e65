from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.executors import reference_executor
from tffx.executors import thread_pool_executor
from tffx.remote import worker_executors
from tffx_test.remote import programs


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
