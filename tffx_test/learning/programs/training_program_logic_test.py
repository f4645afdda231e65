import collections
import datetime
import os

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.backends import native
from tffx.computations import context_stack
from tffx.learning.programs import evaluation_program_logic
from tffx.learning.programs import training_program_logic
from tffx.program import dataset_data_source
from tffx.program import file_program_state_manager
from tffx.program import memory_release_manager
from tffx.program import native_platform
from tffx_test.learning.programs import program_test_processes

OrderedDict = collections.OrderedDict


def _data_source():
  # Three clients whose data sums to 1.0 each: every round of 3 adds 3.0.
  return dataset_data_source.DatasetDataSource([
      tf.data.Dataset.from_tensor_slices(np.float32(values))
      for values in ([1.0], [0.5, 0.5], [0.25, 0.75])
  ])


class TrainModelTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.root = self.create_tempdir().full_path
    self.state_manager = file_program_state_manager.FileProgramStateManager(
        os.path.join(self.root, 'train'), keep_total=0)
    self.model_output = memory_release_manager.MemoryReleaseManager()
    self.train_metrics = memory_release_manager.MemoryReleaseManager()
    self.aggregated = memory_release_manager.MemoryReleaseManager()
    self.enter_context(
        context_stack.with_context(
            native_platform.NativeFederatedContext(
                native.create_local_execution_context())))

  def _train(self, total_rounds, evaluation_manager=None, **kwargs):
    training_program_logic.train_model(
        train_process=program_test_processes.build_train_process(),
        train_data_source=_data_source(),
        train_per_round_clients=3,
        train_total_rounds=total_rounds,
        program_state_manager=self.state_manager,
        model_output_manager=self.model_output,
        train_metrics_manager=self.train_metrics,
        evaluation_manager=evaluation_manager,
        evaluation_periodicity=2,
        **kwargs)

  def _evaluation_manager(self):
    return evaluation_program_logic.EvaluationManager(
        data_source=_data_source(),
        aggregated_metrics_manager=self.aggregated,
        create_state_manager_fn=lambda name: file_program_state_manager.
        FileProgramStateManager(os.path.join(self.root, name)),
        create_process_fn=lambda name: (
            program_test_processes.build_eval_process(), None),
        cohort_size=1,
        duration=datetime.timedelta(0))

  def test_trains_saves_and_releases_each_round(self):
    self._train(3)

    self.assertEqual(self.state_manager.get_versions(), [0, 1, 2, 3])
    saved = self.state_manager.load(
        3, training_program_logic.ProgramState(0.0, 0, None, b''))
    self.assertAlmostEqual(saved.state, 9.0)
    self.assertEqual(saved.round_number, 3)
    self.assertEqual(list(self.train_metrics.values()), [1, 2, 3])
    self.assertEqual(
        self.train_metrics.values()[2],
        OrderedDict(client_work=OrderedDict(),
                    finalizer=OrderedDict(weights=3.0),
                    model_metrics=OrderedDict(total=3.0)))
    self.assertEqual(list(self.model_output.values()),
                     ['training_checkpoint_round_3'])
    self.assertAlmostEqual(
        self.model_output.values()['training_checkpoint_round_3'], 9.0)

  def test_resumes_after_saved_round_with_saved_iterator(self):
    self._train(2)
    self.train_metrics.remove_all()

    self._train(4)

    self.assertEqual(list(self.train_metrics.values()), [3, 4])
    self.assertAlmostEqual(
        self.model_output.values()['training_checkpoint_round_4'], 12.0)

  def test_evaluates_every_period_and_last_round(self):
    self._train(3, evaluation_manager=self._evaluation_manager())

    # Rounds 2 (weights 6.0) and 3 (last, 9.0); one client of one or two
    # examples per evaluation round.
    self.assertEqual(sorted(self.aggregated.values()), [2, 3])
    weighted = self.aggregated.values()[3]['model_metrics']['weighted']
    self.assertIn(weighted, (9.0, 18.0))

  def test_discarded_round_is_run_again(self):
    calls = []

    def discard_first(output):
      calls.append(output.state)
      return len(calls) == 1

    self._train(1, should_discard_round=discard_first)

    self.assertLen(calls, 2)
    self.assertEqual(list(self.train_metrics.values()), [1])

  def test_raises_value_error_outside_federated_context(self):
    with context_stack.with_context(native.create_local_execution_context()):
      with self.assertRaises(ValueError):
        self._train(1)


if __name__ == '__main__':
  absltest.main()
