"""Tests of TFF's context names in `tffx.backends.native` (`*_cpp_*`).

They are the thread-pool contexts of `native.create_local_execution_context`
under TensorFlow Federated's names; the async ones return coroutines.
"""

import asyncio

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.backends import native
from tffx.computations import context_stack
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import errors
from tffx.executors import execution_context
from tffx.types import computation_types as ct
from tffx.types import placements


@tfc.tf_computation(np.float32)
def add_one(x):
  return x + 1.0


@fc.federated_computation(ct.type_at_clients(np.float32))
def sum_of_add_one(x):
  return intrinsics.federated_sum(intrinsics.federated_map(add_one, x))


@fc.federated_computation
def count_clients():
  return intrinsics.federated_sum(
      intrinsics.federated_value(1, placements.CLIENTS))


class SyncContextTest(absltest.TestCase):

  def test_create_sync_context_runs_computation_with_default_clients(self):
    context = native.create_sync_local_cpp_execution_context(
        default_num_clients=4, max_concurrent_computation_calls=2)

    with context:
      result = count_clients()
      total = sum_of_add_one([1.0, 2.0])

    self.assertIsInstance(context, execution_context.ExecutionContext)
    self.assertEqual(result, 4)
    self.assertAlmostEqual(total, 5.0)
    self.assertEqual(context.executor.max_concurrent_computation_calls, 2)

  def test_set_sync_context_installs_default(self):
    self.addCleanup(context_stack.set_default_context, None)

    native.set_sync_local_cpp_execution_context(default_num_clients=3,
                                                stream_structs=True)

    self.assertEqual(context_stack.get_context().default_num_clients, 3)
    self.assertEqual(count_clients(), 3)


class AsyncContextTest(absltest.TestCase):

  def test_create_async_context_calls_return_awaitables(self):
    context = native.create_async_local_cpp_execution_context(
        default_num_clients=2)

    async def run_both():
      with context:
        calls = [count_clients(), sum_of_add_one([1.0, 2.0, 3.0])]
      self.assertTrue(all(asyncio.iscoroutine(c) for c in calls))
      return await asyncio.gather(*calls)

    clients, total = asyncio.run(run_both())

    self.assertEqual(clients, 2)
    self.assertAlmostEqual(total, 9.0)
    self.assertEqual(context.default_num_clients, 2)

  def test_set_async_context_installs_default(self):
    self.addCleanup(context_stack.set_default_context, None)

    native.set_async_local_cpp_execution_context(default_num_clients=5)

    self.assertIsInstance(context_stack.get_context(),
                          native.AsyncExecutionContext)
    self.assertEqual(asyncio.run(count_clients()), 5)

  def test_async_context_refuses_non_execution_context(self):
    with self.assertRaises(TypeError):
      native.AsyncExecutionContext(object())


class ArgumentErrorTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('sync', native.create_sync_local_cpp_execution_context),
      ('async', native.create_async_local_cpp_execution_context),
  )
  def test_create_refuses_bad_arguments(self, create):
    with self.assertRaises(errors.ClientCountError):
      create(default_num_clients=-1)
    with self.assertRaises(TypeError):
      create(max_concurrent_computation_calls='8')
    with self.assertRaises(TypeError):
      create(stream_structs='yes')


if __name__ == '__main__':
  absltest.main()
