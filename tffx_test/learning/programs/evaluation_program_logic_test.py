import collections
import datetime
import os

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.backends import native
from tffx.computations import context_stack
from tffx.learning.programs import evaluation_program_logic
from tffx.program import dataset_data_source
from tffx.program import file_program_state_manager
from tffx.program import memory_release_manager
from tffx.program import native_platform
from tffx_test.learning.programs import program_test_processes

OrderedDict = collections.OrderedDict


def _data_source():
  # Every client has two examples.
  return dataset_data_source.DatasetDataSource(
      [tf.data.Dataset.from_tensor_slices(np.float32([i, i])) for i in (1, 2)])


class ExtractAndRewrapMetricsTest(absltest.TestCase):

  def test_moves_subtree_under_model_metrics(self):
    metrics = OrderedDict(
        client_work=OrderedDict(train=OrderedDict(loss=1.0), other=2),
        finalizer=3)

    result = evaluation_program_logic.extract_and_rewrap_metrics(
        metrics, path=('client_work', 'train'))

    self.assertEqual(
        result,
        OrderedDict(client_work=OrderedDict(other=2), finalizer=3,
                    model_metrics=OrderedDict(loss=1.0)))
    self.assertIn('train', metrics['client_work'])  # Input unchanged.

  def test_raises_value_error_for_empty_path(self):
    with self.assertRaises(ValueError):
      evaluation_program_logic.extract_and_rewrap_metrics({'a': 1}, path=())

  def test_raises_key_error_for_missing_key(self):
    with self.assertRaises(KeyError):
      evaluation_program_logic.extract_and_rewrap_metrics(
          {'a': {'b': 1}}, path=('a', 'c'))
    with self.assertRaises(KeyError):
      evaluation_program_logic.extract_and_rewrap_metrics(
          {'a': {'b': 1}}, path=('x', 'b'))


class EvaluationManagerTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.root = self.create_tempdir().full_path
    self.per_round = memory_release_manager.MemoryReleaseManager()
    self.aggregated = memory_release_manager.MemoryReleaseManager()
    self.enter_context(
        context_stack.with_context(
            native_platform.NativeFederatedContext(
                native.create_local_execution_context())))

  def _manager(self, duration=datetime.timedelta(0)):
    return evaluation_program_logic.EvaluationManager(
        data_source=_data_source(),
        aggregated_metrics_manager=self.aggregated,
        create_state_manager_fn=lambda name: file_program_state_manager.
        FileProgramStateManager(os.path.join(self.root, name)),
        create_process_fn=lambda name: (
            program_test_processes.build_eval_process(), self.per_round),
        cohort_size=2,
        duration=duration)

  def test_evaluation_releases_round_and_total_metrics(self):
    manager = self._manager()

    manager.start_evaluation(3, 1000, np.float32(5.0))
    manager.wait_for_evaluations_to_finish()

    # One round over 2 clients x 2 examples with weights 5: 20.
    self.assertEqual(
        self.per_round.values(),
        {3: OrderedDict(client_work=OrderedDict(eval=OrderedDict(
            total_rounds_metrics=OrderedDict(weighted=20.0))),
                        model_metrics=OrderedDict(weighted=20.0))})
    self.assertEqual(self.aggregated.values()[3]['model_metrics'],
                     OrderedDict(weighted=20.0))
    own_state = file_program_state_manager.FileProgramStateManager(
        os.path.join(self.root, 'eval_manager'))
    latest, _ = own_state.load_latest((np.zeros([0]), np.zeros([0])))
    self.assertEqual(latest[0].size, 0)  # No evaluation left running.
    self.assertIsNone(
        file_program_state_manager.FileProgramStateManager(
            os.path.join(self.root, 'evaluation_of_train_round_00003'))
        .get_versions())

  def test_resume_restarts_saved_evaluations(self):
    # An evaluation that was saved as started, but did not finish.
    own_state = file_program_state_manager.FileProgramStateManager(
        os.path.join(self.root, 'eval_manager'))
    own_state.save((np.int32([7]), np.int32([1000])), 0)
    eval_state = file_program_state_manager.FileProgramStateManager(
        os.path.join(self.root, 'evaluation_of_train_round_00007'))
    eval_state.save(OrderedDict(weights=np.float32(1.0),
                                total=np.float32(0.0)), 0)
    manager = self._manager()

    manager.resume_from_previous_state()
    manager.wait_for_evaluations_to_finish()

    self.assertEqual(self.aggregated.values()[7]['model_metrics'],
                     OrderedDict(weighted=4.0))

  def test_wait_raises_error_of_failed_loop(self):
    manager = evaluation_program_logic.EvaluationManager(
        data_source=_data_source(),
        aggregated_metrics_manager=None,
        create_state_manager_fn=lambda name: file_program_state_manager.
        FileProgramStateManager(os.path.join(self.root, name)),
        create_process_fn=lambda name: (
            program_test_processes.build_eval_process(), None),
        cohort_size=5)  # More clients than the data source has.

    manager.start_evaluation(1, 1000, np.float32(1.0))
    with self.assertRaises(ValueError):
      manager.wait_for_evaluations_to_finish()

  def test_record_finished_raises_runtime_error_for_unknown_round(self):
    with self.assertRaises(RuntimeError):
      self._manager().record_evaluations_finished(4)


if __name__ == '__main__':
  absltest.main()
