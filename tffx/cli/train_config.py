"""The settings of a `tffx-train` run, and the learning process they describe.

    config = TrainConfig(algorithm='fedprox', proximal_strength=0.1)
    check_config(config)                     # TrainConfigError, named by flag
    run_settings(config)                     # what a resumed run must match
    build_learning_process(config, model)    # a tffx LearningProcess

`TrainConfig` holds one field per flag of `tffx-train` (the flags are
defined in `train.py`, with the same names and defaults); messages name the
flag, e.g. `--client_lr=-1: expected a number >= 0`. Choices:

    --algorithm        fedavg, fedavg_unweighted, fedprox, fedsgd
    --*_optimizer      sgd, sgdm (momentum 0.9), adam, adagrad, rmsprop, yogi
    --aggregator       mean; robust (adaptive zeroing and clipping);
                       dp (Gaussian mechanism, fixed clip --dp_clip, noise
                       --dp_noise_multiplier; client updates then count
                       equally, as differential privacy needs)

This module builds no data and runs nothing; `train_program` does.
"""

import dataclasses
import math
import os
from typing import Any, Dict, Optional, Tuple

from tffx.aggregators import differential_privacy
from tffx.aggregators import factory
from tffx.cli import errors
from tffx.cli import train_data
from tffx.cli import train_models
from tffx.learning import model_update_aggregator
from tffx.learning.algorithms import fed_avg
from tffx.learning.algorithms import fed_prox
from tffx.learning.algorithms import fed_sgd
from tffx.learning.models import functional
from tffx.learning.optimizers import adagrad
from tffx.learning.optimizers import adam
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.learning.optimizers import rmsprop
from tffx.learning.optimizers import sgdm
from tffx.learning.optimizers import yogi
from tffx.learning.templates import learning_process

ALGORITHMS = ('fedavg', 'fedavg_unweighted', 'fedprox', 'fedsgd')
AGGREGATORS = ('mean', 'robust', 'dp')
EXECUTORS = ('native', 'reference', 'remote', 'ray')
_MOMENTUM = 0.9
OPTIMIZERS = {
    'sgd': sgdm.build_sgdm,
    'sgdm': lambda lr: sgdm.build_sgdm(lr, momentum=_MOMENTUM),
    'adam': adam.build_adam,
    'adagrad': adagrad.build_adagrad,
    'rmsprop': rmsprop.build_rmsprop,
    'yogi': yogi.build_yogi,
}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """The settings of a run; see the flags in `tffx/cli/train.py`.

  The defaults train a softmax regression with FedAvg on Synthetic(1, 1)
  for 20 rounds, fast enough to watch the accuracy rise in under a minute.
  """
  algorithm: str = 'fedavg'
  dataset: str = 'synthetic_1_1'
  model: str = 'softmax'
  hidden_units: Tuple[int, ...] = (64,)
  rounds: int = 20
  clients_per_round: int = 10
  local_epochs: int = 1
  batch_size: int = 32
  client_optimizer: str = 'sgd'
  client_lr: float = 0.1
  server_optimizer: str = 'sgd'
  server_lr: float = 1.0
  proximal_strength: float = 0.01
  aggregator: str = 'mean'
  dp_noise_multiplier: float = 0.1
  dp_clip: float = 1.0
  hdf5_features: Tuple[str, ...] = ('pixels',)
  hdf5_label: str = 'label'
  hdf5_test_path: str = ''
  num_classes: int = 0
  data_seed: int = 0
  seed: int = 0
  executor: str = 'native'
  # With executor 'native': run a map over many clients as one vectorized
  # TensorFlow call where it applies (results agree with per-client runs to
  # float rounding; per-client runs are bit-identical to remote and Ray).
  vectorize_clients: bool = True
  workers: Tuple[str, ...] = ()
  # How to reach workers that require a token or TLS (see tffx-worker).
  auth_token_file: str = ''
  tls_ca: str = ''
  tls_cert: str = ''
  tls_key: str = ''
  # With executor 'ray': the cluster ('' starts a local one) and the number
  # of workers (0: one per node).
  ray_address: str = ''
  ray_workers: int = 0
  root_dir: str = ''
  rounds_per_checkpoint: int = 5
  eval_every: int = 5
  eval_clients: int = 0
  overwrite: bool = False
  # Keep training when the training loss is NaN or infinite.
  allow_nonfinite_loss: bool = False


def _fail(name: str, value: Any, expected: str) -> None:
  raise errors.TrainConfigError(f'--{name}={value}: expected {expected}')


def _check_choice(config: TrainConfig, name: str, choices) -> None:
  value = getattr(config, name)
  if value not in choices:
    _fail(name, value, f'one of {", ".join(choices)}')


def _check_int(config: TrainConfig, name: str, minimum: int) -> None:
  value = getattr(config, name)
  if (isinstance(value, bool) or not isinstance(value, int) or
      value < minimum):
    what = 'a positive integer' if minimum == 1 else f'an integer >= {minimum}'
    _fail(name, value, what)


def _check_number(config: TrainConfig, name: str, positive: bool) -> None:
  value = getattr(config, name)
  if (isinstance(value, bool) or not isinstance(value, (int, float)) or
      not math.isfinite(value) or value < 0 or (positive and value == 0)):
    _fail(name, value, 'a number > 0' if positive else 'a number >= 0')


def _check_worker_credentials(config: TrainConfig) -> None:
  """Token and TLS files: only for remote workers, existing, complete."""
  names = ('auth_token_file', 'tls_ca', 'tls_cert', 'tls_key')
  for name in names:
    value = getattr(config, name)
    if not value:
      continue
    if config.executor != 'remote':
      _fail(name, value, f'only with --executor=remote, found '
            f'--executor={config.executor}')
    if not os.path.isfile(value):
      _fail(name, value, 'an existing file')
  if bool(config.tls_cert) != bool(config.tls_key):
    raise errors.TrainConfigError(
        '--tls_cert and --tls_key: expected both (a client certificate and '
        'its key) or neither')
  if config.tls_cert and not config.tls_ca:
    _fail('tls_cert', config.tls_cert,
          '--tls_ca too (the CA of the workers\' certificates; it turns TLS '
          'on)')


def _check_workers(config: TrainConfig) -> None:
  """Each worker 'host:port' with a port number, each once."""
  flag = f'--workers={",".join(config.workers)}'
  for worker in config.workers:
    host, _, port = worker.rpartition(':')
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
      raise errors.TrainConfigError(
          f'{flag}: expected host:port for each worker (a port in 1-65535), '
          f'found {worker!r}')
  repeated = sorted({w for w in config.workers
                     if config.workers.count(w) > 1})
  if repeated:
    raise errors.TrainConfigError(
        f'{flag}: expected each worker once, found {repeated[0]} '
        f'{config.workers.count(repeated[0])} times')


def check_config(config: TrainConfig) -> None:
  """Checks every setting on its own and against the others.

  Raises:
    TrainConfigError: naming the first flag that is wrong.
  """
  _check_choice(config, 'algorithm', ALGORITHMS)
  _check_choice(config, 'model', train_models.MODELS)
  _check_choice(config, 'client_optimizer', tuple(OPTIMIZERS))
  _check_choice(config, 'server_optimizer', tuple(OPTIMIZERS))
  _check_choice(config, 'aggregator', AGGREGATORS)
  _check_choice(config, 'executor', EXECUTORS)
  for name in ('rounds', 'clients_per_round', 'local_epochs', 'batch_size',
               'rounds_per_checkpoint'):
    _check_int(config, name, 1)
  for name in ('eval_every', 'eval_clients', 'num_classes', 'data_seed',
               'seed'):
    _check_int(config, name, 0)
  for name in ('client_lr', 'server_lr', 'proximal_strength',
               'dp_noise_multiplier'):
    _check_number(config, name, positive=False)
  _check_number(config, 'dp_clip', positive=True)
  if config.model == 'mlp' and (not config.hidden_units or any(
      isinstance(u, bool) or not isinstance(u, int) or u < 1
      for u in config.hidden_units)):
    _fail('hidden_units', ','.join(map(str, config.hidden_units)),
          'a comma-separated list of positive layer widths')
  if config.executor == 'remote' and not config.workers:
    raise errors.TrainConfigError(
        '--executor=remote: expected --workers=host:port,... (the addresses '
        'of running tffx-worker processes)')
  if config.workers and config.executor != 'remote':
    raise errors.TrainConfigError(
        f'--workers={",".join(config.workers)}: expected only with '
        f'--executor=remote, found --executor={config.executor}')
  _check_workers(config)
  _check_worker_credentials(config)
  _check_int(config, 'ray_workers', 0)
  if config.executor != 'ray':
    for name in ('ray_address', 'ray_workers'):
      if getattr(config, name):
        _fail(name, getattr(config, name), f'only with --executor=ray, '
              f'found --executor={config.executor}')
  if config.algorithm == 'fedsgd' and config.aggregator == 'dp':
    raise errors.TrainConfigError(
        '--aggregator=dp: expected --algorithm=fedavg, fedavg_unweighted or '
        'fedprox; FedSGD averages gradients weighted by examples, which '
        'differential privacy does not bound')
  if not config.dataset.startswith(train_data.HDF5_PREFIX) and (
      config.dataset not in train_data.SYNTHETIC_DATASETS):
    raise errors.TrainConfigError(
        f'--dataset={config.dataset}: expected one of '
        f'{", ".join(train_data.SYNTHETIC_DATASETS)} or '
        f'{train_data.HDF5_PREFIX}<path>')
  if not config.hdf5_features or not config.hdf5_label:
    raise errors.TrainConfigError(
        '--hdf5_features, --hdf5_label: expected column names, found none')


def is_weighted(config: TrainConfig) -> bool:
  """Whether client updates are weighted by their number of examples."""
  return config.algorithm != 'fedavg_unweighted' and config.aggregator != 'dp'


def run_settings(config: TrainConfig) -> Dict[str, Any]:
  """The settings that decide a run's results, keyed by flag name.

  A run resumes from a `--root_dir` only with the same settings. The number
  of rounds, the executor, checkpointing and evaluation are not among them:
  a run may continue for more rounds, or on other machines.
  """
  names = ['algorithm', 'dataset', 'model', 'clients_per_round',
           'local_epochs', 'batch_size', 'server_optimizer', 'server_lr',
           'aggregator', 'seed']
  if config.algorithm != 'fedsgd':
    names += ['client_optimizer', 'client_lr']
  if config.algorithm == 'fedprox':
    names.append('proximal_strength')
  if config.aggregator == 'dp':
    names += ['dp_noise_multiplier', 'dp_clip']
  if config.model == 'mlp':
    names.append('hidden_units')
  if config.dataset.startswith(train_data.HDF5_PREFIX):
    names += ['hdf5_features', 'hdf5_label', 'num_classes']
  else:
    names.append('data_seed')
  settings = {}
  for name in names:
    value = getattr(config, name)
    settings[name] = list(value) if isinstance(value, tuple) else value
  return settings


def build_optimizer(name: str,
                    learning_rate: float) -> optimizer_base.Optimizer:
  """The optimizer `name` of `OPTIMIZERS` with its other defaults."""
  return OPTIMIZERS[name](learning_rate)


def build_aggregator(config: TrainConfig
                    ) -> Optional[factory.AggregationFactory]:
  """The model update aggregator; None for the algorithm's default mean."""
  if config.aggregator == 'robust':
    return model_update_aggregator.robust_aggregator(
        weighted=is_weighted(config))
  if config.aggregator == 'dp':
    return differential_privacy.DifferentiallyPrivateFactory.gaussian_fixed(
        noise_multiplier=config.dp_noise_multiplier,
        clients_per_round=config.clients_per_round,
        clip=config.dp_clip,
        noise_seed=config.seed)
  return None


def build_learning_process(
    config: TrainConfig,
    model: functional.FunctionalModel) -> learning_process.LearningProcess:
  """The `LearningProcess` of `config.algorithm` for `model`.

  Raises:
    TrainConfigError: if the settings do not pass `check_config`.
  """
  check_config(config)
  server_optimizer = build_optimizer(config.server_optimizer, config.server_lr)
  aggregator = build_aggregator(config)
  if config.algorithm == 'fedsgd':
    return fed_sgd.build_fed_sgd(model, server_optimizer,
                                 model_aggregator=aggregator)
  client_optimizer = build_optimizer(config.client_optimizer, config.client_lr)
  weighted = is_weighted(config)
  if config.algorithm == 'fedprox':
    build = (fed_prox.build_weighted_fed_prox if weighted else
             fed_prox.build_unweighted_fed_prox)
    return build(model, config.proximal_strength, client_optimizer,
                 server_optimizer, model_aggregator=aggregator)
  build = (fed_avg.build_weighted_fed_avg if weighted else
           fed_avg.build_unweighted_fed_avg)
  return build(model, client_optimizer, server_optimizer,
               model_aggregator=aggregator)
