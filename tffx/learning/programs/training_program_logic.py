"""`train_model`: program logic that trains a model, resumably, with evaluation.

    train_model(
        train_process=build_weighted_fed_avg(...),
        train_data_source=DatasetDataSource(client_datasets),
        train_per_round_clients=10, train_total_rounds=100,
        program_state_manager=FileProgramStateManager(state_dir),
        model_output_manager=MemoryReleaseManager(),
        train_metrics_manager=CSVFileReleaseManager(csv_path),
        evaluation_manager=None, evaluation_periodicity=10)

Run in a federated context (`tffx.program.NativeFederatedContext`). Round 0
saves the initial `ProgramState`; each round selects clients from the data
iterator, runs `train_process.next`, starts an evaluation of the new model
(every `evaluation_periodicity` rounds or that much time, and after the
last round), saves the `ProgramState` as version `round`, releases the
training metrics (`client_work/train` rewrapped as 'model_metrics') keyed
by the round, and every 10th and the last round releases the training
state to `model_output_manager` under 'training_checkpoint_round_<n>'. A
restarted program resumes after the newest saved round, with the data
iterator as it was. As TensorFlow Federated's
`tff.learning.programs.train_model`, but synchronous.

The saved program state holds the data iterator as its `to_bytes()` (tffx's
`FileProgramStateManager` stores arrays, numbers and strings, not
objects); `train_model` rebuilds it with the iterator class's
`from_bytes`.
"""

import datetime
from typing import Any, Callable, NamedTuple, Optional, Union

from absl import logging

from tffx.learning.programs import evaluation_program_logic
from tffx.learning.templates import learning_process
from tffx.program import data_source
from tffx.program import federated_context
from tffx.program import program_state_manager as program_state_manager_lib
from tffx.program import release_manager
from tffx.program import value_reference

# Every this many rounds (and after the last) the state is released.
_MODEL_RELEASE_PERIOD = 10


class ProgramState(NamedTuple):
  """The state of `train_model`, saved after every round.

  Attributes:
    state: The training process's state.
    round_number: The last round run (0: none yet).
    next_evaluation_timestamp_seconds: When the next time-based evaluation
      is due, or None.
    data_iterator: The training data iterator (or, as saved, its bytes).
  """
  state: Any
  round_number: int
  next_evaluation_timestamp_seconds: Optional[int]
  data_iterator: Optional[Any]


def _saved(state: Any, round_number: int, next_timestamp: Optional[int],
           iterator: data_source.FederatedDataSourceIterator) -> ProgramState:
  return ProgramState(state, round_number, next_timestamp, iterator.to_bytes())


def train_model(
    *,
    train_process: learning_process.LearningProcess,
    initial_train_state: Optional[Any] = None,
    train_data_source: data_source.FederatedDataSource,
    train_per_round_clients: int,
    train_total_rounds: int,
    should_discard_round: Optional[Callable[
        [learning_process.LearningProcessOutput], bool]] = None,
    program_state_manager: program_state_manager_lib.ProgramStateManager,
    model_output_manager: release_manager.ReleaseManager,
    train_metrics_manager: Optional[release_manager.ReleaseManager] = None,
    evaluation_manager: Optional[evaluation_program_logic.EvaluationManager],
    evaluation_periodicity: Union[int, datetime.timedelta],
) -> None:
  """Trains for `train_total_rounds` rounds (see the module docstring).

  Args:
    train_process: The `LearningProcess` to train with.
    initial_train_state: The state to start from; None runs
      `train_process.initialize()`.
    train_data_source: Where the clients' data comes from.
    train_per_round_clients: Clients selected per round.
    train_total_rounds: The last round.
    should_discard_round: Optional `LearningProcessOutput -> bool`; a round
      it rejects is run again from the previous state and data iterator.
    program_state_manager: Saves and loads `ProgramState`.
    model_output_manager: Receives the training state every 10 rounds and
      after the last.
    train_metrics_manager: Optional; receives each round's metrics.
    evaluation_manager: Optional `EvaluationManager`.
    evaluation_periodicity: Rounds (int) or time (timedelta) between
      evaluations; the last round is always evaluated.

  Raises:
    ValueError: if not in a federated context, or the initial state is
      None.
    TypeError: if `next` returns no `LearningProcessOutput`.
    KeyError: if the training metrics have no `client_work/train`.
  """
  federated_context.check_in_federated_context()
  if evaluation_manager is not None:
    evaluation_manager.resume_from_previous_state()

  iterator = train_data_source.iterator()
  if initial_train_state is None:
    initial_train_state = value_reference.materialize_value(
        train_process.initialize())
  if initial_train_state is None:
    raise ValueError('The initial train state is None.')
  state = initial_train_state
  loaded, version = program_state_manager.load_latest(
      _saved(state, 0, 0, iterator))
  if loaded is not None:
    state = loaded.state
    start_round = loaded.round_number
    next_timestamp = loaded.next_evaluation_timestamp_seconds
    iterator = type(iterator).from_bytes(loaded.data_iterator)
    logging.info('Found program state version %d (round %d).', version,
                 start_round)
    if start_round >= train_total_rounds:
      if evaluation_manager is not None:
        evaluation_manager.wait_for_evaluations_to_finish()
      return
  else:
    start_round, next_timestamp = 0, None
    program_state_manager.save(_saved(state, 0, None, iterator), 0)

  next_evaluation_time = (
      datetime.datetime.fromtimestamp(next_timestamp)
      if next_timestamp else None)

  def should_evaluate(round_num: int, finished: datetime.datetime) -> bool:
    nonlocal next_evaluation_time
    if round_num == train_total_rounds:
      return True
    if isinstance(evaluation_periodicity, int):
      return round_num % evaluation_periodicity == 0
    if isinstance(evaluation_periodicity, datetime.timedelta):
      if next_evaluation_time is None or next_evaluation_time < finished:
        next_evaluation_time = finished + evaluation_periodicity
        return True
      return False
    raise ValueError(f'`evaluation_periodicity` must be an `int` or a '
                     f'`datetime.timedelta` type. Got '
                     f'{type(evaluation_periodicity)}')

  round_num = start_round + 1
  while round_num <= train_total_rounds:
    iterator_bytes = iterator.to_bytes()
    data = iterator.select(train_per_round_clients)
    output = value_reference.materialize_value(train_process.next(state, data))
    if should_discard_round is not None and should_discard_round(output):
      logging.info('Discarding training round %d; running it again.',
                   round_num)
      iterator = type(iterator).from_bytes(iterator_bytes)
      continue
    if not isinstance(output, learning_process.LearningProcessOutput):
      raise TypeError(f'Expected the training computation to return a '
                      f'`tffx.learning.templates.LearningProcessOutput`, '
                      f'found {type(output).__name__}.')
    state, metrics = output.state, output.metrics
    finished = datetime.datetime.now()
    if evaluation_manager is not None and should_evaluate(round_num, finished):
      evaluation_manager.start_evaluation(
          round_num, int(finished.timestamp()),
          train_process.get_model_weights(state))
    program_state_manager.save(
        _saved(state, round_num,
               int(next_evaluation_time.timestamp())
               if next_evaluation_time else None, iterator), round_num)
    if train_metrics_manager is not None:
      try:
        released = evaluation_program_logic.extract_and_rewrap_metrics(
            metrics, path=('client_work', 'train'))
      except KeyError as e:
        raise KeyError(
            f'`train_model` requires the `train_process` argument to be a '
            f'`tffx.learning.templates.LearningProcess` whose `next` '
            f'computation metrics result has a `train` field. Instead got a '
            f'computation whose result signature was: '
            f'{train_process.next.type_signature.result}') from e
      train_metrics_manager.release(released, round_num)
    if (round_num % _MODEL_RELEASE_PERIOD == 0 or
        round_num == train_total_rounds):
      model_output_manager.release(
          state, f'training_checkpoint_round_{round_num}')
    round_num += 1

  if evaluation_manager is not None:
    evaluation_manager.wait_for_evaluations_to_finish()
