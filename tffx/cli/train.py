"""tffx-train: trains a model with federated learning, resumably.

    tffx-train                       # FedAvg, Synthetic(1, 1), 20 rounds
    tffx-train --algorithm=fedprox --proximal_strength=0.1 --rounds=50
    tffx-train --dataset=hdf5:emnist_train.h5 --hdf5_test_path=emnist_test.h5 \\
        --model=mlp --client_lr=0.05
    tffx-train --executor=remote --workers=127.0.0.1:8000,127.0.0.1:8001
    python -m tffx.cli.train --helpshort

Prints one line per round (time, training loss and accuracy, ETA), an
evaluation every --eval_every rounds, and where the outputs are. The run
lives in --root_dir (default <tmp>/tffx_train/<dataset>_<model>_<algorithm>_
seed<seed>): checkpoints of the full training state, metrics.csv and
TensorBoard events. Killed and started again with the same flags, it resumes
from its last checkpoint and ends with the same weights as a run that never
stopped; with other settings in the same --root_dir it refuses to start
(pass --overwrite to start over). `--verbosity=0` also logs every round's
metrics.

A wrong flag or dataset prints one line, `tffx-train: error: ...`, and exits
with status 2; so does a round whose training loss is NaN or infinite (the
last checkpoint keeps the last good state; --allow_nonfinite_loss trains
on). Clients without examples are skipped with one warning line. This module parses flags; the program is
`tffx.cli.train_program`.
"""

import sys
import time

from absl import flags
import tensorflow as tf

from tffx.cli import console_scripts
from tffx.cli import errors
from tffx.cli import progress
from tffx.cli import train_config
from tffx.cli import train_data
from tffx.cli import train_models
from tffx.cli import train_program
from tffx.remote import errors as remote_errors

_DEFAULTS = train_config.TrainConfig()
_PROGRAM = 'tffx-train'
USAGE_EXIT_CODE = console_scripts.USAGE_EXIT_CODE
FAILURE_EXIT_CODE = 1
INTERRUPTED_EXIT_CODE = 130

_ALGORITHM = flags.DEFINE_enum(
    'algorithm', _DEFAULTS.algorithm, train_config.ALGORITHMS,
    'fedavg (weighted by examples), fedavg_unweighted, fedprox (see '
    '--proximal_strength), fedsgd (one server step on the mean gradient).')
_DATASET = flags.DEFINE_string(
    'dataset', _DEFAULTS.dataset,
    f'{", ".join(train_data.SYNTHETIC_DATASETS)} (FedProx\'s synthetic data, '
    f'generated in memory), or hdf5:<path> for a file in TFF\'s layout '
    f'(e.g. EMNIST: pixels 28x28 float, label int).')
_MODEL = flags.DEFINE_enum('model', _DEFAULTS.model, train_models.MODELS,
                           'softmax regression, or a small ReLU MLP.')
_HIDDEN_UNITS = flags.DEFINE_list(
    'hidden_units', [str(u) for u in _DEFAULTS.hidden_units],
    'Widths of the MLP\'s hidden layers.')
_ROUNDS = flags.DEFINE_integer('rounds', _DEFAULTS.rounds,
                               'The round the run ends at.')
_CLIENTS_PER_ROUND = flags.DEFINE_integer(
    'clients_per_round', _DEFAULTS.clients_per_round,
    'Clients sampled (uniformly, without replacement) each round.')
_LOCAL_EPOCHS = flags.DEFINE_integer(
    'local_epochs', _DEFAULTS.local_epochs,
    'Passes of a client over its data in a round.')
_BATCH_SIZE = flags.DEFINE_integer('batch_size', _DEFAULTS.batch_size,
                                   'Examples per client batch.')
_CLIENT_OPTIMIZER = flags.DEFINE_enum(
    'client_optimizer', _DEFAULTS.client_optimizer,
    list(train_config.OPTIMIZERS),
    'The optimizer of local training (sgdm: momentum 0.9).')
_CLIENT_LR = flags.DEFINE_float('client_lr', _DEFAULTS.client_lr,
                                'Learning rate of the client optimizer.')
_SERVER_OPTIMIZER = flags.DEFINE_enum(
    'server_optimizer', _DEFAULTS.server_optimizer,
    list(train_config.OPTIMIZERS),
    'The optimizer applying the mean client update to the global model.')
_SERVER_LR = flags.DEFINE_float('server_lr', _DEFAULTS.server_lr,
                                'Learning rate of the server optimizer.')
_PROXIMAL_STRENGTH = flags.DEFINE_float(
    'proximal_strength', _DEFAULTS.proximal_strength,
    'FedProx\'s mu (only with --algorithm=fedprox).')
_AGGREGATOR = flags.DEFINE_enum(
    'aggregator', _DEFAULTS.aggregator, train_config.AGGREGATORS,
    'mean; robust (adaptive zeroing and clipping); dp (Gaussian mechanism '
    'with a fixed clip; client updates then count equally).')
_DP_NOISE_MULTIPLIER = flags.DEFINE_float(
    'dp_noise_multiplier', _DEFAULTS.dp_noise_multiplier,
    'With --aggregator=dp: noise stddev in units of --dp_clip.')
_DP_CLIP = flags.DEFINE_float(
    'dp_clip', _DEFAULTS.dp_clip,
    'With --aggregator=dp: the L2 norm client updates are clipped to.')
_HDF5_FEATURES = flags.DEFINE_list(
    'hdf5_features', list(_DEFAULTS.hdf5_features),
    'With --dataset=hdf5:...: the columns flattened and joined into the '
    'model input.')
_HDF5_LABEL = flags.DEFINE_string(
    'hdf5_label', _DEFAULTS.hdf5_label,
    'With --dataset=hdf5:...: the integer label column.')
_HDF5_TEST_PATH = flags.DEFINE_string(
    'hdf5_test_path', _DEFAULTS.hdf5_test_path,
    'With --dataset=hdf5:...: a file of test clients in the same layout; '
    'without it, evaluation uses the training clients.')
_NUM_CLASSES = flags.DEFINE_integer(
    'num_classes', _DEFAULTS.num_classes,
    'With --dataset=hdf5:...: the number of labels; 0 reads the labels.')
_DATA_SEED = flags.DEFINE_integer(
    'data_seed', _DEFAULTS.data_seed,
    'Seed of the generated synthetic data (kept apart from --seed, so runs '
    'with several seeds see the same data).')
_SEED = flags.DEFINE_integer(
    'seed', _DEFAULTS.seed,
    'Seeds client sampling, shuffles, initial MLP weights and DP noise.')
_EXECUTOR = flags.DEFINE_enum(
    'executor', _DEFAULTS.executor, train_config.EXECUTORS,
    'native (a thread pool in this process), reference (simple and slow, '
    'to check results), remote (tffx-worker processes, see --workers), or '
    'ray (workers as actors on a Ray cluster, see --ray_address; needs '
    "pip install 'tffx[ray]').")
_VECTORIZE_CLIENTS = flags.DEFINE_bool(
    'vectorize_clients', _DEFAULTS.vectorize_clients,
    'With --executor=native: run the clients of a round in few vectorized '
    'TensorFlow calls where the client work allows it (faster; agrees with '
    'per-client execution to float rounding). --novectorize_clients runs '
    'each client on its own, bit-identical to --executor=remote or ray.')
_WORKERS = flags.DEFINE_list(
    'workers', list(_DEFAULTS.workers),
    'With --executor=remote: host:port of each tffx-worker.')
_AUTH_TOKEN_FILE = flags.DEFINE_string(
    'auth_token_file', _DEFAULTS.auth_token_file,
    'With --executor=remote: a file holding the workers\' shared secret '
    '(their --auth_token_file).')
_TLS_CA = flags.DEFINE_string(
    'tls_ca', _DEFAULTS.tls_ca,
    'With --executor=remote: the PEM CA of the workers\' certificates; '
    'turns TLS on.')
_TLS_CERT = flags.DEFINE_string(
    'tls_cert', _DEFAULTS.tls_cert,
    'With --executor=remote and --tls_ca: a PEM client certificate, for '
    'workers started with --tls_ca.')
_TLS_KEY = flags.DEFINE_string(
    'tls_key', _DEFAULTS.tls_key, 'The private key of --tls_cert.')
_RAY_ADDRESS = flags.DEFINE_string(
    'ray_address', _DEFAULTS.ray_address,
    "With --executor=ray: the Ray cluster, 'auto', 'ray://host:10001' or "
    "'host:6379'; empty starts a local one.")
_RAY_WORKERS = flags.DEFINE_integer(
    'ray_workers', _DEFAULTS.ray_workers,
    'With --executor=ray: the number of tffx workers; 0 for one per node.')
_ROOT_DIR = flags.DEFINE_string(
    'root_dir', _DEFAULTS.root_dir,
    'Directory of checkpoints and metrics; default '
    '<tmp>/tffx_train/<dataset>_<model>_<algorithm>_seed<seed>.')
_ROUNDS_PER_CHECKPOINT = flags.DEFINE_integer(
    'rounds_per_checkpoint', _DEFAULTS.rounds_per_checkpoint,
    'Save the training state every this many rounds (and after the last).')
_EVAL_EVERY = flags.DEFINE_integer(
    'eval_every', _DEFAULTS.eval_every,
    'Evaluate the global model every this many rounds; 0 never.')
_EVAL_CLIENTS = flags.DEFINE_integer(
    'eval_clients', _DEFAULTS.eval_clients,
    'Clients evaluated (a fixed sample); 0 for all.')
_OVERWRITE = flags.DEFINE_bool(
    'overwrite', _DEFAULTS.overwrite,
    'Delete the checkpoints and metrics in --root_dir and start over.')
_ALLOW_NONFINITE_LOSS = flags.DEFINE_bool(
    'allow_nonfinite_loss', _DEFAULTS.allow_nonfinite_loss,
    'Keep training when a round\'s training loss is NaN or infinite; by '
    'default the run stops there, its last checkpoint the last good state.')


def _int_list(name: str, values) -> tuple:
  try:
    return tuple(int(v) for v in values)
  except ValueError:
    raise errors.TrainConfigError(
        f'--{name}={",".join(values)}: expected a comma-separated list of '
        f'integers') from None


def config_from_flags() -> train_config.TrainConfig:
  """The `TrainConfig` of the parsed flags (checked by `run_training`)."""
  return train_config.TrainConfig(
      algorithm=_ALGORITHM.value,
      dataset=_DATASET.value,
      model=_MODEL.value,
      hidden_units=_int_list('hidden_units', _HIDDEN_UNITS.value),
      rounds=_ROUNDS.value,
      clients_per_round=_CLIENTS_PER_ROUND.value,
      local_epochs=_LOCAL_EPOCHS.value,
      batch_size=_BATCH_SIZE.value,
      client_optimizer=_CLIENT_OPTIMIZER.value,
      client_lr=_CLIENT_LR.value,
      server_optimizer=_SERVER_OPTIMIZER.value,
      server_lr=_SERVER_LR.value,
      proximal_strength=_PROXIMAL_STRENGTH.value,
      aggregator=_AGGREGATOR.value,
      dp_noise_multiplier=_DP_NOISE_MULTIPLIER.value,
      dp_clip=_DP_CLIP.value,
      hdf5_features=tuple(_HDF5_FEATURES.value),
      hdf5_label=_HDF5_LABEL.value,
      hdf5_test_path=_HDF5_TEST_PATH.value,
      num_classes=_NUM_CLASSES.value,
      data_seed=_DATA_SEED.value,
      seed=_SEED.value,
      executor=_EXECUTOR.value,
      vectorize_clients=_VECTORIZE_CLIENTS.value,
      workers=tuple(_WORKERS.value),
      auth_token_file=_AUTH_TOKEN_FILE.value,
      tls_ca=_TLS_CA.value,
      tls_cert=_TLS_CERT.value,
      tls_key=_TLS_KEY.value,
      ray_address=_RAY_ADDRESS.value,
      ray_workers=_RAY_WORKERS.value,
      root_dir=_ROOT_DIR.value,
      rounds_per_checkpoint=_ROUNDS_PER_CHECKPOINT.value,
      eval_every=_EVAL_EVERY.value,
      eval_clients=_EVAL_CLIENTS.value,
      overwrite=_OVERWRITE.value,
      allow_nonfinite_loss=_ALLOW_NONFINITE_LOSS.value)


def _exit_with_error(message: str, exit_code: int) -> None:
  console_scripts.exit_with_error(_PROGRAM, message, exit_code)


def _print_summary(result: train_program.TrainResult, seconds: float,
                   rounds_run: int) -> None:
  print(f'done: round {result.final_round} reached, {rounds_run} rounds run '
        f'in {seconds:.1f}s')
  if result.train_metrics is not None:
    print(f'  last round (training clients): '
          f'{progress.format_metrics(result.train_metrics)}')
  if result.eval_metrics is not None:
    print(f'  final model (evaluation):      '
          f'{progress.format_metrics(result.eval_metrics)}')
  print(f'  checkpoints: {result.checkpoint_dir}')
  print(f'  metrics CSV: {result.metrics_csv}')
  print(f'  TensorBoard: tensorboard --logdir {result.tensorboard_dir}')
  print('  rerun the same command to resume or extend (--rounds=N)')


def main(argv) -> None:
  if len(argv) > 1:
    _exit_with_error(f'unexpected arguments {argv[1:]}; flags look like '
                     f'--name=value', USAGE_EXIT_CODE)
  # Same seed and flags, same weights: also for ops whose default kernels
  # may sum in a thread-dependent order.
  tf.config.experimental.enable_op_determinism()
  started = time.monotonic()
  try:
    result = train_program.run_training(config_from_flags())
  except (errors.TrainConfigError, errors.NonFiniteLossError) as e:
    _exit_with_error(str(e), USAGE_EXIT_CODE)
  except (remote_errors.NoLiveWorkersError,
          remote_errors.WorkerUnavailableError,
          remote_errors.WorkerRefusedError,
          remote_errors.PoisonClientError) as e:
    where = (f'--ray_address={_RAY_ADDRESS.value or "(local)"}'
             if _EXECUTOR.value == 'ray' else
             f'--workers={",".join(_WORKERS.value)}')
    _exit_with_error(f'{where}: {e}', FAILURE_EXIT_CODE)
  except KeyboardInterrupt:
    _exit_with_error('interrupted; rerun the same command to resume from the '
                     'last checkpoint', INTERRUPTED_EXIT_CODE)
  _print_summary(result, time.monotonic() - started,
                 max(0, result.final_round - result.start_round))


def run() -> None:
  """The console-script entry point, `tffx-train`.

  Per-round metrics also go to the log (LoggingReleaseManager), shown with
  --verbosity=0; by default the progress lines say the same.
  """
  console_scripts.run(main, sys.modules[__name__],
                      flags_parser=console_scripts.one_line_flags_parser(
                          _PROGRAM))


if __name__ == '__main__':
  run()
