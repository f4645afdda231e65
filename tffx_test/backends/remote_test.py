"""The remote backend on two real worker processes."""

import collections
import os
import tempfile

from absl.testing import absltest
import numpy as np

from tffx.backends import reference
from tffx.backends import remote
from tffx.computations import context_stack
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.executors import errors
from tffx.executors import execution_context
from tffx.remote import remote_executor
from tffx.types import placements
from tffx_test.remote import programs
from tffx_test.remote import worker_processes

_TOKEN = 's3cret'


class RemoteBackendTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls._tmp = tempfile.TemporaryDirectory()
    token_file = os.path.join(cls._tmp.name, 'token')
    with open(token_file, 'w') as f:
      f.write(_TOKEN)
    cls.workers = worker_processes.start_workers(
        2, auth_token=_TOKEN, flags=[f'--auth_token_file={token_file}'])

  @classmethod
  def tearDownClass(cls):
    worker_processes.stop_workers(cls.workers)
    cls._tmp.cleanup()
    super().tearDownClass()

  def targets(self):
    return [w.target for w in self.workers]

  def context(self, **kwargs):
    kwargs.setdefault('auth_token', _TOKEN)
    context = remote.create_remote_execution_context(self.targets(), **kwargs)
    self.addCleanup(context.executor.close)
    return context

  def test_create_context_keeps_default_num_clients(self):
    context = self.context(default_num_clients=3)

    self.assertIsInstance(context, execution_context.ExecutionContext)
    self.assertIsInstance(context.executor, remote_executor.RemoteExecutor)
    self.assertEqual(context.default_num_clients, 3)
    self.assertEqual(context.executor.targets, self.targets())

  def test_context_manager_runs_fed_avg_round_like_reference(self):
    args = programs.fed_avg_arguments(num_clients=5, seed=7)
    with reference.create_reference_execution_context():
      expected = programs.fed_avg_round(*args)

    with self.context():
      result = programs.fed_avg_round(*args)

    self.assertIsInstance(result, collections.OrderedDict)
    np.testing.assert_allclose(result['w'], expected['w'], rtol=1e-6)
    np.testing.assert_allclose(result['b'], expected['b'], rtol=1e-6,
                               atol=1e-7)

  def test_default_num_clients_places_values_on_workers(self):

    @fc.federated_computation
    def count_clients():
      return intrinsics.federated_sum(
          intrinsics.federated_value(1, placements.CLIENTS))

    with self.context(default_num_clients=5):
      result = count_clients()

    self.assertEqual(result, 5)

  def test_set_remote_execution_context_installs_default(self):
    self.addCleanup(context_stack.set_default_context, None)

    remote.set_remote_execution_context(self.targets(), auth_token=_TOKEN,
                                        default_num_clients=2)

    context = context_stack.get_context()
    self.addCleanup(context.executor.close)
    self.assertIsInstance(context.executor, remote_executor.RemoteExecutor)
    self.assertEqual(programs.weighted_mean([1.0, 3.0], [1, 3]), 2.5)

  def test_auth_token_file_is_read(self):
    path = self.create_tempfile(content=_TOKEN + '\n').full_path

    with self.context(auth_token=None, auth_token_file=path):
      result = programs.weighted_mean([2.0, 4.0], [1, 1])

    self.assertEqual(result, 3.0)

  def test_refuses_both_token_and_token_file(self):
    path = self.create_tempfile(content=_TOKEN).full_path

    with self.assertRaisesRegex(ValueError, 'found both'):
      remote.create_remote_execution_context(
          self.targets(), auth_token=_TOKEN, auth_token_file=path)

  def test_refuses_negative_default_num_clients(self):
    with self.assertRaises(errors.ClientCountError):
      remote.create_remote_execution_context(self.targets(),
                                             default_num_clients=-1)


if __name__ == '__main__':
  absltest.main()
