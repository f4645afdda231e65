import collections

from absl.testing import absltest
import numpy as np

from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.program import file_program_state_manager
from tffx.simulation import training_loop
from tffx.templates import iterative_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
_add = tensorflow_computation.tf_computation(lambda x, y: x + y, np.float32,
                                             np.float32)


@fc(ct.type_at_server(np.float32), ct.type_at_clients(np.float32))
def _next(state, values):
  total = intrinsics.federated_sum(values)
  return (intrinsics.federated_map(_add, (state, total)),
          collections.OrderedDict(total=total))


@fc(ct.type_at_server(np.float32), ct.type_at_clients(np.float32))
def _evaluate(state, values):
  del values
  return collections.OrderedDict(state=state)


_PROCESS = iterative_process.IterativeProcess(
    fc(lambda: intrinsics.federated_value(np.float32(0.0), placements.SERVER)),
    _next)


class _Recorder:
  """Records `release(value, key)` calls."""

  def __init__(self):
    self.released = []

  def release(self, value, key):
    self.released.append((key, dict(value)))


def _train_data(round_num):
  return [float(round_num), 1.0]


def _eval_data(round_num):
  del round_num
  return [0.0]


class RunTrainingProcessTest(absltest.TestCase):

  def test_metric_keys_have_tff_names(self):
    self.assertEqual(
        (training_loop.ROUND_NUMBER_KEY, training_loop.TRAINING_TIME_KEY,
         training_loop.EVALUATION_TIME_KEY,
         training_loop.EVALUATION_METRICS_PREFIX,
         training_loop.ROUND_TIME_KEY),
        ('round_number', 'training_time_in_seconds',
         'evaluation_time_in_seconds', 'evaluation/',
         'round_time_in_seconds'))

  def test_runs_rounds_and_releases_metrics_with_keys(self):
    recorder = _Recorder()

    state = training_loop.run_training_process(
        _PROCESS, _train_data, total_rounds=3, metrics_managers=[recorder])

    # Round r adds r + 1: 2 + 3 + 4.
    self.assertAlmostEqual(state, 9.0)
    self.assertEqual([key for key, _ in recorder.released], [1, 2, 3])
    for round_num, metrics in recorder.released:
      self.assertEqual(metrics[training_loop.ROUND_NUMBER_KEY], round_num)
      self.assertAlmostEqual(metrics['total'], round_num + 1.0)
      self.assertGreaterEqual(metrics[training_loop.TRAINING_TIME_KEY], 0.0)

  def test_evaluates_round_zero_and_every_n_rounds(self):
    recorder = _Recorder()

    training_loop.run_training_process(
        _PROCESS, _train_data, total_rounds=4, evaluation_fn=_evaluate,
        evaluation_selection_fn=_eval_data, rounds_per_evaluation=2,
        metrics_managers=[recorder])

    evaluated = {
        key: metrics['evaluation/state']
        for key, metrics in recorder.released
        if 'evaluation/state' in metrics
    }
    self.assertEqual(sorted(evaluated), [0, 2, 4])
    self.assertAlmostEqual(evaluated[2], 2.0 + 3.0)
    self.assertIn('evaluation/' + training_loop.EVALUATION_TIME_KEY,
                  recorder.released[0][1])

  def test_resumes_after_newest_saved_round(self):
    root = self.create_tempdir().full_path
    manager = file_program_state_manager.FileProgramStateManager(root)
    training_loop.run_training_process(
        _PROCESS, _train_data, total_rounds=2, program_state_manager=manager)
    recorder = _Recorder()

    state = training_loop.run_training_process(
        _PROCESS, _train_data, total_rounds=4, program_state_manager=manager,
        rounds_per_saving_program_state=2, metrics_managers=[recorder])

    self.assertAlmostEqual(state, 2.0 + 3.0 + 4.0 + 5.0)
    self.assertEqual([key for key, _ in recorder.released], [3, 4])
    self.assertEqual(manager.get_versions(), [0, 1, 2, 4])

  def test_raises_value_error_for_non_positive_period(self):
    with self.assertRaises(ValueError):
      training_loop.run_training_process(
          _PROCESS, _train_data, 1, rounds_per_evaluation=0)

  def test_raises_type_error_for_non_process(self):
    with self.assertRaises(TypeError):
      training_loop.run_training_process(_next, _train_data, 1)


if __name__ == '__main__':
  absltest.main()
