"""`run_training_process`: the simulation training loop, resumable.

    state = run_training_process(
        process, training_selection_fn, total_rounds,
        evaluation_fn=eval_comp, evaluation_selection_fn=eval_clients,
        program_state_manager=FileProgramStateManager(dir),
        metrics_managers=[CSVFileReleaseManager(path)])

Round 0 (a fresh start) evaluates and saves the initial state; rounds 1 to
`total_rounds` train, evaluate every `rounds_per_evaluation` rounds, release
the metrics under the round number and save the state every
`rounds_per_saving_program_state` rounds. A run with saved state resumes
after the newest saved round. As TensorFlow Federated's
`tff.simulation.run_training_process`; the managers are called
synchronously (tffx's `tffx.program` managers are synchronous), and are
duck-typed here because `tffx.program` sits above `tffx.simulation`.
"""

import collections
import time
from typing import Any, Callable, Iterable, Mapping, Optional

from absl import logging

from tffx.learning.templates import learning_process
from tffx.templates import iterative_process

ROUND_TIME_KEY = 'round_time_in_seconds'
ROUND_NUMBER_KEY = 'round_number'
TRAINING_TIME_KEY = 'training_time_in_seconds'
EVALUATION_METRICS_PREFIX = 'evaluation/'
EVALUATION_TIME_KEY = 'evaluation_time_in_seconds'


def _check_positive(value: Any, name: str) -> None:
  if isinstance(value, bool) or not isinstance(value, int) or value < 1:
    raise ValueError(f'Expected {name} to be a positive int, found {value!r}.')


def _train(next_fn, selection_fn, state, round_num):
  """Runs one training round; returns `(state, metrics)`."""
  start = time.time()
  data = selection_fn(round_num)
  output = next_fn(state, data)
  if isinstance(output, learning_process.LearningProcessOutput):
    state, training_metrics = output.state, output.metrics
  else:
    state, training_metrics = output
  metrics = collections.OrderedDict(training_metrics)
  metrics[TRAINING_TIME_KEY] = time.time() - start
  metrics[ROUND_NUMBER_KEY] = round_num
  return state, metrics


def _evaluate(evaluation_fn, selection_fn, state,
              round_num) -> 'collections.OrderedDict[str, Any]':
  """Returns the evaluation metrics of `state`, prefixed with 'evaluation/'."""
  start = time.time()
  data = selection_fn(round_num)
  metrics = collections.OrderedDict(evaluation_fn(state, data))
  metrics[EVALUATION_TIME_KEY] = time.time() - start
  return collections.OrderedDict(
      (EVALUATION_METRICS_PREFIX + key, value)
      for key, value in metrics.items())


def run_training_process(
    training_process: iterative_process.IterativeProcess,
    training_selection_fn: Callable[[int], Any],
    total_rounds: int,
    evaluation_fn: Optional[Callable[[Any, Any], Mapping[str, Any]]] = None,
    evaluation_selection_fn: Optional[Callable[[int], Any]] = None,
    rounds_per_evaluation: int = 1,
    program_state_manager: Optional[Any] = None,
    rounds_per_saving_program_state: int = 1,
    metrics_managers: Optional[Iterable[Any]] = None,
) -> Any:
  """Runs `training_process` for `total_rounds` rounds; returns the state.

  Args:
    training_process: An `IterativeProcess` whose `next` maps `(state,
      client_data)` to `(state, metrics)` or a `LearningProcessOutput`.
    training_selection_fn: `round_num -> client_data` for training.
    total_rounds: The last round to run (rounds are 1-based).
    evaluation_fn: Optional `(state, client_data) -> metrics mapping`, e.g.
      a computation; its metrics are released under 'evaluation/<name>'.
    evaluation_selection_fn: `round_num -> client_data` for evaluation;
      evaluation runs only if both it and `evaluation_fn` are given.
    rounds_per_evaluation: Evaluate after rounds divisible by this.
    program_state_manager: Optional `tffx.program.ProgramStateManager`;
      state is loaded from it (resuming after the newest saved version) and
      saved to it as version `round_num`.
    rounds_per_saving_program_state: Save after rounds divisible by this.
    metrics_managers: Optional `tffx.program.ReleaseManager`s; each round's
      metrics are released with the round number as key.

  Returns:
    The state after the last round.

  Raises:
    TypeError: if `training_process` is not an `IterativeProcess`.
    ValueError: if `total_rounds` is negative, or a `rounds_per_*` is not
      positive.
  """
  if not isinstance(training_process, iterative_process.IterativeProcess):
    raise TypeError(f'Expected a tffx.templates.IterativeProcess, found '
                    f'{type(training_process).__name__}.')
  if (isinstance(total_rounds, bool) or not isinstance(total_rounds, int) or
      total_rounds < 0):
    raise ValueError(f'Expected total_rounds to be a non-negative int, found '
                     f'{total_rounds!r}.')
  _check_positive(rounds_per_evaluation, 'rounds_per_evaluation')
  _check_positive(rounds_per_saving_program_state,
                  'rounds_per_saving_program_state')
  metrics_managers = list(metrics_managers or ())
  evaluate = evaluation_fn is not None and evaluation_selection_fn is not None

  initial_state = training_process.initialize()
  loaded_state, version = None, 0
  if program_state_manager is not None:
    loaded_state, version = program_state_manager.load_latest(initial_state)
  if loaded_state is not None:
    logging.info('Resuming training after saved round %d.', version)
    state, start_round = loaded_state, version + 1
  else:
    state, start_round = initial_state, 1
    if evaluate:
      metrics = _evaluate(evaluation_fn, evaluation_selection_fn, state, 0)
      for manager in metrics_managers:
        manager.release(metrics, 0)
    if program_state_manager is not None:
      program_state_manager.save(state, 0)

  for round_num in range(start_round, total_rounds + 1):
    logging.info('Starting round %d.', round_num)
    state, metrics = _train(training_process.next, training_selection_fn,
                            state, round_num)
    if evaluate and round_num % rounds_per_evaluation == 0:
      metrics.update(
          _evaluate(evaluation_fn, evaluation_selection_fn, state, round_num))
    for manager in metrics_managers:
      manager.release(metrics, round_num)
    if (program_state_manager is not None and
        round_num % rounds_per_saving_program_state == 0):
      program_state_manager.save(state, round_num)
  return state
