"""Evaluation loops that run beside training: `EvaluationManager`.

    manager = EvaluationManager(
        data_source, aggregated_metrics_manager,
        create_state_manager_fn=lambda name: FileProgramStateManager(
            os.path.join(root, name)),
        create_process_fn=lambda name: (build_fed_eval(model_fn), metrics_mgr),
        cohort_size=10, duration=datetime.timedelta(hours=1))
    manager.resume_from_previous_state()          # after a restart
    manager.start_evaluation(train_round, timestamp, model_weights)
    ...
    manager.wait_for_evaluations_to_finish()

Each `start_evaluation` starts an evaluation loop for one training
checkpoint: rounds of `evaluation_process.next` on `cohort_size` clients
until `duration` has passed (at least one round), releasing each round's
`client_work/eval/current_round_metrics` under the key
`train_round + eval_round` and, at the end, the
`client_work/eval/total_rounds_metrics` under the training round, both
rewrapped under 'model_metrics' (`extract_and_rewrap_metrics`). The loop's
state and the list of running loops are saved through program state
managers, so a restarted program resumes them.

As TensorFlow Federated's `tff.learning.programs.EvaluationManager`, but
synchronous: a loop runs on its own thread (TFF's runs as an asyncio task)
in the federated context current when it was started, and
`wait_for_evaluations_to_finish` joins the threads, raising the first
error a loop raised.
"""

import collections
import datetime
import threading
import time
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple

from absl import logging
import numpy as np

from tffx.computations import context_stack
from tffx.learning.templates import learning_process
from tffx.program import data_source as data_source_lib
from tffx.program import federated_context
from tffx.program import file_program_state_manager
from tffx.program import release_manager
from tffx.program import value_reference

# Metrics moved by `extract_and_rewrap_metrics` go under this name (a tab of
# TensorBoard).
MODEL_METRICS_PREFIX = 'model_metrics'
_EVAL_METRICS_PATH = ('client_work', 'eval')
_EVAL_MANAGER_KEY = 'eval_manager'
_EVAL_NAME_PATTERN = 'evaluation_of_train_round_{round_num:05d}'


def extract_and_rewrap_metrics(metrics_structure: Mapping[str, Any], *,
                               path: Sequence[str]) -> Mapping[str, Any]:
  """Returns the metrics with the subtree at `path` moved to 'model_metrics'.

      extract_and_rewrap_metrics(
          {'client_work': {'train': {'loss': 1.0}, 'x': 2}, 'y': 3},
          path=('client_work', 'train'))
      == {'client_work': {'x': 2}, 'y': 3, 'model_metrics': {'loss': 1.0}}

  The mappings on the way are copied; `metrics_structure` is unchanged.

  Raises:
    ValueError: if `path` is empty.
    KeyError: if a key of `path` is missing.
  """
  if not path:
    raise ValueError(
        '`path` is empty, must be a sequence of at least one element')
  result = _copy_mapping(metrics_structure)
  current = result
  *parents, last = path
  for key in parents:
    child = current.get(key)
    if not isinstance(child, Mapping):
      raise KeyError(f'[{key}] of path {path} did not exist in structure: '
                     f'{metrics_structure}')
    child = _copy_mapping(child)
    current[key] = child
    current = child
  if last not in current or current[last] is None:
    raise KeyError(f'[{last}] of path {path} did not exist in structure: '
                   f'{metrics_structure}')
  result[MODEL_METRICS_PREFIX] = current.pop(last)
  return result


def _copy_mapping(mapping: Mapping[str, Any]) -> 'collections.OrderedDict':
  return collections.OrderedDict(mapping.items())


def _check_output(output: Any, what: str) -> learning_process.LearningProcessOutput:
  if not isinstance(output, learning_process.LearningProcessOutput):
    raise TypeError(f'Expected the {what} computation to return a '
                    f'`tffx.learning.templates.LearningProcessOutput`, found '
                    f'{type(output).__name__}.')
  return output


def run_evaluation(
    train_round_num: int,
    state_manager: file_program_state_manager.FileProgramStateManager,
    evaluation_process: learning_process.LearningProcess,
    evaluation_name: str,
    evaluation_data_source: data_source_lib.FederatedDataSource,
    evaluation_per_round_clients_number: int,
    evaluation_period: datetime.timedelta,
    per_round_metrics_manager: Optional[release_manager.ReleaseManager],
    aggregated_metrics_manager: Optional[release_manager.ReleaseManager],
) -> None:
  """Runs one evaluation loop from the state saved in `state_manager`.

  Version 0 of `state_manager` holds the evaluation state with the model
  weights to evaluate; each round saves the next version. Rounds run until
  `evaluation_period` has passed, at least one. At the end the total
  metrics are released and the saved states removed (`remove_all`).

  Raises:
    ValueError: if `evaluation_period` is negative, or no state is saved.
    TypeError: if `evaluation_process.next` returns no
      `LearningProcessOutput`.
  """
  federated_context.check_in_federated_context()
  if evaluation_period < datetime.timedelta(0):
    raise ValueError(f'`evaluation_period` must be a non-negative duration, '
                     f'got {evaluation_period}.')
  iterator = evaluation_data_source.iterator()
  deadline = datetime.datetime.now() + evaluation_period
  state, version = state_manager.load_latest(
      value_reference.materialize_value(evaluation_process.initialize()))
  if state is None:
    raise ValueError('No previous state found for evaluation. Evaluations '
                     'must previously have at least version 0 saved.')
  eval_round_num = train_round_num + version
  while True:
    start = time.monotonic()
    data = iterator.select(evaluation_per_round_clients_number)
    output = _check_output(
        value_reference.materialize_value(
            evaluation_process.next(state, data)), 'evaluation')
    state, metrics = output.state, output.metrics
    if per_round_metrics_manager is not None:
      per_round_metrics_manager.release(
          extract_and_rewrap_metrics(
              metrics, path=_EVAL_METRICS_PATH + ('current_round_metrics',)),
          eval_round_num)
    logging.info('Finished round %d of `%s` in %.2f seconds.',
                 eval_round_num - train_round_num, evaluation_name,
                 time.monotonic() - start)
    eval_round_num += 1
    version += 1
    state_manager.save(state, version)
    if datetime.datetime.now() >= deadline:
      break
  if aggregated_metrics_manager is not None:
    aggregated_metrics_manager.release(
        extract_and_rewrap_metrics(
            metrics, path=_EVAL_METRICS_PATH + ('total_rounds_metrics',)),
        train_round_num)
  state_manager.remove_all()


class EvaluationManager:
  """Starts, tracks and resumes evaluation loops (see the module docstring)."""

  def __init__(
      self,
      data_source: data_source_lib.FederatedDataSource,
      aggregated_metrics_manager: Optional[release_manager.ReleaseManager],
      create_state_manager_fn: Callable[
          [str], file_program_state_manager.FileProgramStateManager],
      create_process_fn: Callable[[str], Tuple[
          learning_process.LearningProcess,
          Optional[release_manager.ReleaseManager]]],
      cohort_size: int,
      duration: datetime.timedelta = datetime.timedelta(hours=24),
  ):
    """Builds the manager and the state manager of its own state.

    Args:
      data_source: The evaluation data; each loop takes a new iterator.
      aggregated_metrics_manager: Releases each loop's total metrics, keyed
        by the training round; None releases nothing.
      create_state_manager_fn: `name -> FileProgramStateManager`, called with
        'eval_manager' for the list of running loops and with
        'evaluation_of_train_round_<round>' for each loop.
      create_process_fn: `name -> (evaluation process, per-round metrics
        release manager or None)`, the process as from
        `tffx.learning.algorithms.build_fed_eval`.
      cohort_size: Clients per evaluation round.
      duration: How long each loop runs rounds (at least one round).
    """
    self._data_source = data_source
    self._aggregated_metrics_manager = aggregated_metrics_manager
    self._create_state_manager_fn = create_state_manager_fn
    self._create_process_fn = create_process_fn
    self._cohort_size = cohort_size
    self._duration = duration
    self._state_manager = create_state_manager_fn(_EVAL_MANAGER_KEY)
    self._next_version = 0
    self._train_rounds = np.zeros([0], np.int32)
    self._start_timestamps = np.zeros([0], np.int32)
    self._lock = threading.Lock()
    self._threads: List[threading.Thread] = []
    self._errors: List[BaseException] = []

  def _save_own_state(self) -> None:
    """Saves the running loops' rounds and start times (lock held)."""
    self._state_manager.save((self._train_rounds, self._start_timestamps),
                             self._next_version)
    self._next_version += 1

  def resume_from_previous_state(self) -> None:
    """Restarts the loops that were running when the program stopped."""
    loaded, version = self._state_manager.load_latest(
        (self._train_rounds, self._start_timestamps))
    if loaded is None:
      logging.info('No previous evaluations found, nothing to resume.')
      return
    with self._lock:
      self._train_rounds = np.asarray(loaded[0], np.int32).reshape([-1])
      self._start_timestamps = np.asarray(loaded[1], np.int32).reshape([-1])
      self._next_version = version + 1
      train_rounds = self._train_rounds.tolist()
    logging.info('Resuming evaluations of training rounds %s.', train_rounds)
    for train_round in train_rounds:
      self._start_loop(train_round)

  def _start_loop(self, train_round: int) -> None:
    """Runs the loop of `train_round` on a thread, from its saved state."""
    name = _EVAL_NAME_PATTERN.format(round_num=train_round)
    state_manager = self._create_state_manager_fn(name)
    process, metrics_manager = self._create_process_fn(name)
    context = context_stack.get_context()

    def run():
      try:
        with context_stack.with_context(context):
          run_evaluation(train_round, state_manager, process, name,
                         self._data_source, self._cohort_size, self._duration,
                         metrics_manager, self._aggregated_metrics_manager)
        self.record_evaluations_finished(train_round)
      except BaseException as e:  # Raised again by wait_for_...
        with self._lock:
          self._errors.append(e)

    thread = threading.Thread(target=run, name=name, daemon=True)
    with self._lock:
      self._threads.append(thread)
    thread.start()

  def start_evaluation(self, train_round: int, start_timestamp_seconds: int,
                       model_weights: Any) -> None:
    """Starts a loop evaluating `model_weights` of training round `train_round`.

    The loop's initial state (with the weights) is saved before it starts,
    so a restart resumes it.
    """
    name = _EVAL_NAME_PATTERN.format(round_num=train_round)
    state_manager = self._create_state_manager_fn(name)
    process, _ = self._create_process_fn(name)
    state = value_reference.materialize_value(process.initialize())
    state = value_reference.materialize_value(
        process.set_model_weights(state, model_weights))
    state_manager.save(state, 0)
    with self._lock:
      self._train_rounds = np.append(self._train_rounds,
                                     np.int32(train_round)).astype(np.int32)
      self._start_timestamps = np.append(
          self._start_timestamps,
          np.int32(start_timestamp_seconds)).astype(np.int32)
      self._save_own_state()
    self._start_loop(train_round)

  def record_evaluations_finished(self, train_round: int) -> None:
    """Removes `train_round` from the running loops, saving the list.

    Raises:
      RuntimeError: if no loop of `train_round` is running.
    """
    with self._lock:
      keep = self._train_rounds != train_round
      if keep.all():
        raise RuntimeError(
            f'An internal error occurred where the EvaluationManager is '
            f'trying to record an evaluation for train round [{train_round}] '
            f'finished that but also has no state about in-progress '
            f'evaluation rounds.')
      self._train_rounds = self._train_rounds[keep]
      self._start_timestamps = self._start_timestamps[keep]
      self._save_own_state()

  def wait_for_evaluations_to_finish(self) -> None:
    """Waits for every running loop; raises the first error one raised."""
    while True:
      with self._lock:
        threads, self._threads = self._threads, []
      if not threads:
        break
      for thread in threads:
        thread.join()
    with self._lock:
      errors, self._errors = self._errors, []
    if errors:
      raise errors[0]
