"""The training program of `tffx-train`: rounds, checkpoints, metrics, resume.

    result = run_training(TrainConfig(rounds=20), out=sys.stdout)

One run, in `root_dir` (default `<tmp>/tffx_train/<dataset>_<model>_
<algorithm>_seed<seed>`, see `default_root_dir`):

    root_dir/
      config.json                 run_settings of the run; a run resumes here
                                  only with the same settings
      checkpoints/program_state_<round>.npz
                                  the learning process state after a round
                                  (weights, optimizer and aggregator states)
      metrics.csv                 one row per round (key 0: the initial model)
      tensorboard/                the same metrics as TensorBoard events

Each round r = start + 1 .. rounds: sample clients (a function of the seed
and r alone), run `process.next`, evaluate every `eval_every` rounds,
release the metrics (CSV, TensorBoard, log), then save a checkpoint every
`rounds_per_checkpoint` rounds and after the last. Releasing before saving
means a crash never loses a row: rows after the newest checkpoint are
dropped on resume and written again. Because sampling, shuffles, DP noise
and the state are all determined by the seed and the round, a resumed run
ends with the same weights as one that never stopped.

Progress goes to `out` (see `progress`); this module defines no flags.
"""

import importlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from typing import Any, Dict, NamedTuple, Optional, TextIO

import numpy as np

from tffx.backends import native
from tffx.backends import reference
from tffx.backends import remote
from tffx.cli import errors
from tffx.cli import progress as progress_lib
from tffx.cli import train_config
from tffx.cli import train_data
from tffx.cli import train_models
from tffx.learning.algorithms import fed_eval
from tffx.program import atomic_files
from tffx.program import csv_file_release_manager
from tffx.program import errors as program_errors
from tffx.program import file_program_state_manager
from tffx.program import grouping_release_manager
from tffx.program import logging_release_manager
from tffx.program import tensorboard_release_manager
from tffx.simulation import sampling

TrainConfig = train_config.TrainConfig
CONFIG_FILE = 'config.json'
CHECKPOINT_DIR = 'checkpoints'
METRICS_FILE = 'metrics.csv'
TENSORBOARD_DIR = 'tensorboard'
# Checkpoints kept: enough to fall back past one damaged file.
_KEEP_CHECKPOINTS = 3


class TrainResult(NamedTuple):
  """What a run did and where it wrote.

  Attributes:
    root_dir: The run's directory.
    start_round: The round it resumed from (0 for a fresh run).
    final_round: The round of the final state.
    model_weights: The final `ModelWeights`, of numpy arrays.
    train_metrics: The last round's training metrics, or None if no round
      ran in this process.
    eval_metrics: The final evaluation, or None if evaluation is off.
    checkpoint_dir, metrics_csv, tensorboard_dir: Where the outputs are.
  """
  root_dir: str
  start_round: int
  final_round: int
  model_weights: Any
  train_metrics: Optional[Dict[str, Any]]
  eval_metrics: Optional[Dict[str, Any]]
  checkpoint_dir: str
  metrics_csv: str
  tensorboard_dir: str


def default_root_dir(config: TrainConfig) -> str:
  """`<tmp>/tffx_train/<dataset>_<model>_<algorithm>_seed<seed>`.

  A rerun with the same flags resumes (or finds the run complete); a run
  with other main flags gets its own directory. An HDF5 dataset is named
  by its file name.
  """
  dataset = config.dataset
  if dataset.startswith(train_data.HDF5_PREFIX):
    dataset = os.path.splitext(os.path.basename(
        dataset[len(train_data.HDF5_PREFIX):]))[0] or 'hdf5'
  name = f'{dataset}_{config.model}_{config.algorithm}_seed{config.seed}'
  name = re.sub(r'[^A-Za-z0-9._-]', '_', name)
  return os.path.join(tempfile.gettempdir(), 'tffx_train', name)


def _remove_outputs(root_dir: str) -> None:
  """Removes what a run writes in `root_dir`, and nothing else."""
  for name in (CHECKPOINT_DIR, TENSORBOARD_DIR):
    shutil.rmtree(os.path.join(root_dir, name), ignore_errors=True)
  for name in (METRICS_FILE, CONFIG_FILE):
    path = os.path.join(root_dir, name)
    if os.path.exists(path):
      os.remove(path)


def _describe_differences(saved: Dict[str, Any],
                          settings: Dict[str, Any]) -> str:
  names = sorted(set(saved) | set(settings))
  return ', '.join(
      f'--{n}: {saved.get(n, "unset")} there, {settings.get(n, "unset")} here'
      for n in names if saved.get(n) != settings.get(n))


def prepare_root_dir(config: TrainConfig, root_dir: str) -> None:
  """Checks that `root_dir` is free or holds this run; records the settings.

  A directory without checkpoints holds nothing to resume, so its recorded
  settings are replaced.

  Raises:
    TrainConfigError: if it holds checkpoints of a run with other settings,
      checkpoints that no `tffx-train` run recorded, or cannot be written.
  """
  try:
    _prepare_root_dir(config, root_dir)
  except OSError as e:
    raise errors.TrainConfigError(
        f'--root_dir={root_dir}: cannot use it ({e.strerror or e})') from e


def _check_output_kinds(root_dir: str) -> None:
  """Refuses outputs that exist as the wrong kind (a directory metrics.csv)."""
  for name, want_dir in ((CONFIG_FILE, False), (METRICS_FILE, False),
                         (CHECKPOINT_DIR, True), (TENSORBOARD_DIR, True)):
    path = os.path.join(root_dir, name)
    if os.path.exists(path) and os.path.isdir(path) != want_dir:
      raise errors.TrainConfigError(
          f'--root_dir={root_dir}: expected {name} to be a '
          f'{"directory" if want_dir else "file"}, found a '
          f'{"file" if want_dir else "directory"}. Tip: remove it, or pass '
          f'another --root_dir')


def _prepare_root_dir(config: TrainConfig, root_dir: str) -> None:
  settings = train_config.run_settings(config)
  if os.path.exists(root_dir) and not os.path.isdir(root_dir):
    raise errors.TrainConfigError(
        f'--root_dir={root_dir}: expected a directory, found a file')
  _check_output_kinds(root_dir)
  if config.overwrite:
    _remove_outputs(root_dir)
  config_path = os.path.join(root_dir, CONFIG_FILE)
  tip = (f'Tip: pass another --root_dir, or --overwrite to delete its '
         f'checkpoints and metrics and start over')
  has_checkpoints = bool(file_program_state_manager.FileProgramStateManager(
      os.path.join(root_dir, CHECKPOINT_DIR)).get_versions())
  if os.path.exists(config_path) and has_checkpoints:
    try:
      with open(config_path, encoding='utf-8') as f:
        saved = json.load(f)
    except (OSError, ValueError) as e:
      raise errors.TrainConfigError(
          f'--root_dir={root_dir}: cannot read {CONFIG_FILE} ({e}). {tip}'
      ) from e
    if saved != settings:
      raise errors.TrainConfigError(
          f'--root_dir={root_dir}: holds a run with other settings '
          f'({_describe_differences(saved, settings)}). {tip}')
    return
  if has_checkpoints:
    raise errors.TrainConfigError(
        f'--root_dir={root_dir}: holds checkpoints but no {CONFIG_FILE}, so '
        f'their settings are unknown. {tip}')
  # No checkpoint: nothing to resume. Metrics of a run that stopped before
  # its first checkpoint are dropped when the state loads (round 0).
  os.makedirs(root_dir, exist_ok=True)
  atomic_files.write_atomically(
      config_path, lambda f: json.dump(settings, f, indent=2, sort_keys=True),
      mode='w', encoding='utf-8')


def create_execution_context(config: TrainConfig):
  """The execution context of `config.executor`."""
  if config.executor == 'remote':
    return remote.create_remote_execution_context(
        targets=config.workers,
        auth_token_file=config.auth_token_file or None,
        tls_ca=config.tls_ca or None,
        tls_cert=config.tls_cert or None,
        tls_key=config.tls_key or None)
  if config.executor == 'ray':
    # Ray is an optional dependency (tffx[ray]): imported only when used.
    ray_backend = importlib.import_module('tffx.backends.ray')
    return ray_backend.create_ray_execution_context(
        address=config.ray_address or None,
        num_workers=config.ray_workers or None)
  if config.executor == 'native':
    return native.create_local_execution_context(
        vectorize_clients=config.vectorize_clients)
  return reference.create_reference_execution_context()


def _eval_client_ids(data: train_data.FederatedData, config: TrainConfig):
  client_ids = data.test.client_ids
  if not config.eval_clients or config.eval_clients >= len(client_ids):
    return client_ids
  chosen = np.random.default_rng(config.seed).choice(
      len(client_ids), config.eval_clients, replace=False)
  return [client_ids[i] for i in sorted(chosen)]


class _Evaluator:
  """Evaluates model weights on fixed clients with `build_fed_eval`."""

  def __init__(self, model, data: train_data.FederatedData,
               config: TrainConfig):
    self._process = fed_eval.build_fed_eval(model)
    self._state = None
    self._datasets = train_data.client_datasets(
        data.test, _eval_client_ids(data, config), config.batch_size)
    self.split = data.eval_split

  @property
  def num_clients(self) -> int:
    return len(self._datasets)

  def __call__(self, weights) -> Dict[str, Any]:
    if self._state is None:
      self._state = self._process.initialize()
    state = self._process.set_model_weights(self._state, weights)
    _, metrics = self._process.next(state, self._datasets)
    return dict(metrics['client_work']['eval']['current_round_metrics'])


class _Outputs(NamedTuple):
  """Where a run saves its state and releases its metrics."""
  state_manager: file_program_state_manager.FileProgramStateManager
  csv: csv_file_release_manager.CSVFileReleaseManager
  tensorboard: tensorboard_release_manager.TensorBoardReleaseManager
  release: grouping_release_manager.GroupingReleaseManager


def _open_outputs(root_dir: str) -> _Outputs:
  state_manager = file_program_state_manager.FileProgramStateManager(
      os.path.join(root_dir, CHECKPOINT_DIR), keep_total=_KEEP_CHECKPOINTS)
  csv = csv_file_release_manager.CSVFileReleaseManager(
      os.path.join(root_dir, METRICS_FILE))
  tensorboard = tensorboard_release_manager.TensorBoardReleaseManager(
      os.path.join(root_dir, TENSORBOARD_DIR))
  release = grouping_release_manager.GroupingReleaseManager(
      [csv, tensorboard, logging_release_manager.LoggingReleaseManager()])
  return _Outputs(state_manager, csv, tensorboard, release)


def _load_state(outputs: _Outputs, initial_state: Any, root_dir: str):
  """`(state, round)` of the newest checkpoint, or of the initial state.

  Also drops the metrics rows after that round (for round 0, all of them:
  they belong to a run that never reached a checkpoint).
  """
  try:
    saved, start_round = outputs.state_manager.load_latest(
        {'round_num': 0, 'state': initial_state})
  except program_errors.ProgramStateStructureError as e:
    raise errors.TrainConfigError(
        f'--root_dir={root_dir}: its checkpoints do not fit this run ({e})'
    ) from e
  if saved is None:
    outputs.csv.remove_all_values()
    return initial_state, 0
  outputs.csv.remove_values_greater_than(start_round)
  return saved['state'], start_round


def _describe_run(config: TrainConfig, data: train_data.FederatedData) -> str:
  algorithm = config.algorithm
  if config.aggregator == 'dp' and algorithm != 'fedavg_unweighted':
    algorithm += ' (unweighted, for dp)'
  return (f'tffx-train: {algorithm} on {config.dataset} '
          f'({len(data.train.client_ids)} clients), {config.model} model, '
          f'{config.clients_per_round} clients/round, {config.rounds} rounds, '
          f'{config.aggregator} aggregator, {config.executor} executor')


def _train_rounds(config, data, process, evaluator, outputs, progress, state,
                  start_round):
  """Runs rounds `start_round + 1 .. config.rounds`; see the module docstring.

  Returns:
    `(state, last training metrics, last evaluation)`, the metrics None
    when no round ran or nothing was evaluated.
  """
  sample = sampling.build_uniform_sampling_fn(data.train.client_ids,
                                              random_seed=config.seed)
  train_metrics = eval_metrics = None
  for round_num in range(start_round + 1, config.rounds + 1):
    datasets = train_data.client_datasets(
        data.train, sample(round_num, config.clients_per_round),
        config.batch_size, config.local_epochs, config.seed, round_num)
    started = time.monotonic()
    state, metrics = process.next(state, datasets)
    seconds = time.monotonic() - started
    train_metrics = dict(metrics['client_work']['train'])
    _check_loss(train_metrics, round_num, config)
    released = {'round_seconds': seconds, **metrics}
    evaluate = evaluator is not None and (
        round_num % config.eval_every == 0 or round_num == config.rounds)
    if evaluate:
      eval_metrics = evaluator(process.get_model_weights(state))
      released['eval'] = eval_metrics
    # Released before saved: a crash in between drops this row on resume
    # and writes it again, rather than losing it.
    outputs.release.release(released, round_num)
    if (round_num % config.rounds_per_checkpoint == 0 or
        round_num == config.rounds):
      outputs.state_manager.save({'round_num': round_num, 'state': state},
                                 round_num)
    progress.round_done(round_num, seconds, train_metrics)
    if evaluate:
      progress.eval_done(round_num, eval_metrics, evaluator.split,
                         evaluator.num_clients)
  return state, train_metrics, eval_metrics


def _check_loss(train_metrics: Dict[str, Any], round_num: int,
                config: TrainConfig) -> None:
  """Stops a run whose training loss is NaN or infinite (before saving)."""
  loss = train_metrics.get('loss')
  if loss is None or config.allow_nonfinite_loss or np.all(np.isfinite(loss)):
    return
  raise errors.NonFiniteLossError(
      f'round {round_num}: the training loss is {float(np.asarray(loss))}; '
      f'stopped without saving this round, so the last checkpoint holds '
      f'the last good state. Tip: check the data for NaN or infinite '
      f'values, or lower --client_lr; --allow_nonfinite_loss trains on')


def run_training(config: TrainConfig,
                 out: Optional[TextIO] = None) -> TrainResult:
  """Runs (or resumes) the run of `config`; see the module docstring.

  Args:
    config: The settings.
    out: Where progress lines go (default stdout).

  Raises:
    TrainConfigError: for settings that cannot start a run (bad values, a
      dataset that cannot be read, a `root_dir` of another run).
    NonFiniteLossError: if a round's training loss is NaN or infinite and
      `config.allow_nonfinite_loss` is not set.
  """
  train_config.check_config(config)
  data = train_data.load_dataset(
      config.dataset, config.hdf5_features, config.hdf5_label,
      config.hdf5_test_path or None, config.num_classes, config.data_seed)
  for warning in data.warnings:
    sys.stderr.write(f'tffx-train: warning: {warning}\n')
  if config.clients_per_round > len(data.train.client_ids):
    raise errors.TrainConfigError(
        f'--clients_per_round={config.clients_per_round}: expected at most '
        f'{len(data.train.client_ids)}, the number of clients of '
        f'{config.dataset}')
  root_dir = os.path.abspath(config.root_dir or default_root_dir(config))
  prepare_root_dir(config, root_dir)
  progress = progress_lib.Progress(config.rounds, out)
  progress.print(_describe_run(config, data))
  model = train_models.build_model(config.model, data.num_features,
                                   data.num_classes, config.hidden_units,
                                   config.seed)
  process = train_config.build_learning_process(config, model)
  evaluator = _Evaluator(model, data, config) if config.eval_every else None
  outputs = _open_outputs(root_dir)
  context = create_execution_context(config)
  try:
    with context:
      state, start_round = _load_state(outputs, process.initialize(),
                                       root_dir)
      progress.print(f'root_dir: {root_dir} ' + (
          f'(resuming from round {start_round})' if start_round else
          '(new run)'))
      eval_metrics = None
      if evaluator is not None and start_round == 0:
        eval_metrics = evaluator(process.get_model_weights(state))
        outputs.release.release({'eval': eval_metrics}, 0)
        progress.eval_done(0, eval_metrics, evaluator.split,
                           evaluator.num_clients)
      state, train_metrics, round_eval = _train_rounds(
          config, data, process, evaluator, outputs, progress, state,
          start_round)
      eval_metrics = round_eval or eval_metrics
      if start_round >= config.rounds:
        progress.print(f'nothing to train: the run is at round {start_round}, '
                       f'--rounds={config.rounds}')
        if evaluator is not None:
          eval_metrics = evaluator(process.get_model_weights(state))
          progress.eval_done(start_round, eval_metrics, evaluator.split,
                             evaluator.num_clients)
      weights = process.get_model_weights(state)
  finally:
    outputs.tensorboard.close()
    context.close()
  return TrainResult(root_dir, start_round, max(start_round, config.rounds),
                     weights, train_metrics, eval_metrics,
                     outputs.state_manager.root_dir, outputs.csv.file_path,
                     outputs.tensorboard.summary_dir)
