"""The synthetic heterogeneous benchmark of FedProx, generated from a seed.

Li et al., "Federated Optimization in Heterogeneous Networks" (MLSys
2020) define Synthetic(alpha, beta): multinomial logistic regression data
whose clients differ in their model (alpha) and in their features (beta).
For each client k:

    u_k ~ N(0, alpha^2)                 B_k ~ N(0, beta^2)
    W_k ~ N(u_k, 1)   [10 x 60]         v_k ~ N(B_k, 1)   [60]
    b_k ~ N(u_k, 1)   [10]              x ~ N(v_k, Sigma),
                                        Sigma = diag(j^-1.2), j = 1..60
    y = argmax(softmax(W_k x + b_k))    (= argmax of the logits)
    n_k = floor(LogNormal(mu=4, sigma=2)) + 50 examples

`alpha` and `beta` are standard deviations, as in the authors' released
generator (the paper writes N(0, alpha)). The IID variant draws one W, b ~
N(0, 1) shared by all clients and x ~ N(0, Sigma) everywhere; only the
client sizes differ. Each client's examples are split into a train and a
test part (90% / 10% by default, as the authors' code).

    load_data(alpha, beta, iid=False, num_clients=30, seed=0)
        -> (train ClientData, test ClientData), elements
           OrderedDict(x=float32[60], y=int32[])

Generation is deterministic in `seed` (numpy `Generator`s): client k
draws from its own stream, so its data does not depend on `num_clients`,
and its size is the same in every variant. Sizes are heavy-tailed: with
seed 2, one of 30 clients has about 70,000 examples.
This module generates data in memory; it writes no files. Its datasets
carry their source (these arguments), so Ray workers regenerate them
themselves (`tffx.executors.dataset_sources`).
"""

import collections
import functools
from typing import Any, Mapping, Tuple

import numpy as np
import tensorflow as tf

from tffx.executors import dataset_sources
from tffx.simulation import tensor_slices_client_data

NUM_FEATURES = 60
NUM_CLASSES = 10

# The variants of the paper's experiments: name -> (alpha, beta, iid).
VARIANTS: Mapping[str, Tuple[float, float, bool]] = collections.OrderedDict([
    ('synthetic_0_0', (0.0, 0.0, False)),
    ('synthetic_0.5_0.5', (0.5, 0.5, False)),
    ('synthetic_1_1', (1.0, 1.0, False)),
    ('synthetic_iid', (0.0, 0.0, True)),
])

# Client sizes: floor(LogNormal(mu, sigma)) + minimum, as the authors' code.
_SIZE_MU = 4.0
_SIZE_SIGMA = 2.0
_MIN_EXAMPLES = 50

# Keys of the random streams under the seed: one for the parameters the
# IID variant shares, one per client.
_SHARED_STREAM = 0
_CLIENT_STREAM = 1


def feature_variances() -> np.ndarray:
  """The diagonal of Sigma: `j ** -1.2` for features j = 1..60."""
  return np.arange(1, NUM_FEATURES + 1, dtype=np.float64)**-1.2


def _generator(seed: int, *stream: int) -> np.random.Generator:
  return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream))


def _client_arrays(rng: np.random.Generator, num_examples: int,
                   weights: np.ndarray, bias: np.ndarray,
                   feature_mean: np.ndarray):
  noise = rng.standard_normal((num_examples, NUM_FEATURES))
  x = feature_mean + noise * np.sqrt(feature_variances())
  y = np.argmax(x @ weights.T + bias, axis=1)
  return collections.OrderedDict(
      x=x.astype(np.float32), y=y.astype(np.int32))


def _check_arguments(alpha, beta, iid, num_clients, seed):
  if alpha < 0 or beta < 0:
    raise ValueError(f'Expected non-negative alpha and beta, found '
                     f'alpha={alpha}, beta={beta}.')
  if iid and (alpha or beta):
    raise ValueError(
        f'Expected alpha=0 and beta=0 for the IID variant, found '
        f'alpha={alpha}, beta={beta}. Tip: they set how much clients '
        f'differ; IID clients share one model and feature distribution.')
  if not isinstance(num_clients, (int, np.integer)) or num_clients < 1:
    raise ValueError(f'Expected a positive integer num_clients, found '
                     f'{num_clients!r}.')
  if not isinstance(seed, (int, np.integer)) or seed < 0:
    raise ValueError(f'Expected a non-negative integer seed, found {seed!r}.')


def generate_client_arrays(alpha: float,
                           beta: float,
                           iid: bool = False,
                           num_clients: int = 30,
                           seed: int = 0):
  """Returns the examples of every client, before the train/test split.

  Args:
    alpha: Standard deviation of the clients' model means u_k.
    beta: Standard deviation of the clients' feature means B_k.
    iid: Whether all clients share one model and feature distribution
      (then `alpha` and `beta` must be 0).
    num_clients: Number of clients.
    seed: Seed of all the randomness.

  Returns:
    `OrderedDict(client_id=OrderedDict(x=float32[n, 60], y=int32[n]))`,
    ids `client_00`, `client_01`, ... (zero-padded, so they sort in order).

  Raises:
    ValueError: if an argument is out of range (see above).
  """
  _check_arguments(alpha, beta, iid, num_clients, seed)
  shared = _generator(seed, _SHARED_STREAM)
  shared_weights = shared.standard_normal((NUM_CLASSES, NUM_FEATURES))
  shared_bias = shared.standard_normal(NUM_CLASSES)
  width = len(str(num_clients - 1))
  result = collections.OrderedDict()
  for k in range(num_clients):
    rng = _generator(seed, _CLIENT_STREAM, k)
    # Drawn first, so a seed gives the same client sizes in every variant.
    num_examples = int(rng.lognormal(_SIZE_MU, _SIZE_SIGMA)) + _MIN_EXAMPLES
    if iid:
      weights, bias = shared_weights, shared_bias
      feature_mean = np.zeros(NUM_FEATURES)
    else:
      model_mean = rng.normal(0.0, alpha)
      feature_mean_mean = rng.normal(0.0, beta)
      weights = rng.normal(model_mean, 1.0, (NUM_CLASSES, NUM_FEATURES))
      bias = rng.normal(model_mean, 1.0, NUM_CLASSES)
      feature_mean = rng.normal(feature_mean_mean, 1.0, NUM_FEATURES)
    result[f'client_{k:0{width}d}'] = _client_arrays(
        rng, num_examples, weights, bias, feature_mean)
  return result


def load_data(alpha: float,
              beta: float,
              iid: bool = False,
              num_clients: int = 30,
              seed: int = 0,
              test_fraction: float = 0.1):
  """Returns Synthetic(alpha, beta) as `(train, test)` `ClientData`s.

  Both have the same client ids; each client's first examples are its train
  examples and the last `test_fraction` of them (at least one) its test
  examples.

  Args:
    alpha: Standard deviation of the clients' model means (0, 0.5, 1 in the
      paper).
    beta: Standard deviation of the clients' feature means.
    iid: The IID variant (needs `alpha == beta == 0`).
    num_clients: Number of clients (30 in the paper).
    seed: Seed of all the randomness; the same seed gives the same data.
    test_fraction: Fraction of each client's examples held out, in (0, 1).

  Returns:
    `(train, test)`, two `TestClientData` with elements
    `OrderedDict(x=float32[60], y=int32[])`.

  Raises:
    ValueError: if an argument is out of range.
  """
  train, test = _split_arrays(alpha, beta, iid, num_clients, seed,
                              test_fraction)
  params = dict(alpha=alpha, beta=beta, iid=iid, num_clients=num_clients,
                seed=seed, test_fraction=test_fraction)
  return (_SyntheticClientData(train, dict(params, part='train')),
          _SyntheticClientData(test, dict(params, part='test')))


def _split_arrays(alpha, beta, iid, num_clients, seed, test_fraction):
  """`load_data`'s train and test examples: `{client_id: OrderedDict(x, y)}`."""
  if not 0.0 < test_fraction < 1.0:
    raise ValueError(f'Expected test_fraction in (0, 1), found '
                     f'{test_fraction}.')
  clients = generate_client_arrays(alpha, beta, iid, num_clients, seed)
  train, test = {}, {}
  for client_id, arrays in clients.items():
    num_examples = len(arrays['y'])
    num_test = min(num_examples - 1,
                   max(1, int(round(num_examples * test_fraction))))
    split = num_examples - num_test
    train[client_id] = collections.OrderedDict(
        (k, v[:split]) for k, v in arrays.items())
    test[client_id] = collections.OrderedDict(
        (k, v[split:]) for k, v in arrays.items())
  return train, test


class _SyntheticClientData(tensor_slices_client_data.TestClientData):
  """`TestClientData` whose datasets carry their source (the arguments of
  `load_data`), so a worker generates them itself rather than receiving
  the examples (`tffx.executors.dataset_sources`)."""

  def __init__(self, tensor_slices_dict, params: Mapping[str, Any]):
    super().__init__(tensor_slices_dict)
    self._source_params = dict(params)

  def _create_dataset(self, client_id: str) -> tf.data.Dataset:
    return dataset_sources.attach(
        super()._create_dataset(client_id),
        dataset_sources.DatasetSource.of('synthetic', self._source_params,
                                         client_id))


@functools.lru_cache(maxsize=4)
def _load_part(alpha, beta, iid, num_clients, seed, test_fraction, part):
  train, test = load_data(alpha, beta, iid, num_clients, seed, test_fraction)
  return train if part == 'train' else test


def _open_source(params: Mapping[str, Any], client_id: str) -> tf.data.Dataset:
  return _load_part(**params).create_tf_dataset_for_client(client_id)


dataset_sources.register_opener('synthetic', _open_source)


def _variant(name: str):
  if name not in VARIANTS:
    raise ValueError(f'Expected a synthetic variant in {list(VARIANTS)}, '
                     f'found {name!r}.')
  return VARIANTS[name]


def load_variant(name: str, num_clients: int = 30, seed: int = 0,
                 test_fraction: float = 0.1):
  """`load_data` for a variant of `VARIANTS` by name, e.g. `synthetic_1_1`.

  Raises:
    ValueError: if `name` is not in `VARIANTS`, or as `load_data`.
  """
  alpha, beta, iid = _variant(name)
  return load_data(alpha, beta, iid, num_clients, seed, test_fraction)


def load_variant_arrays(name: str, num_clients: int = 30, seed: int = 0,
                        test_fraction: float = 0.1):
  """The examples of `load_variant` as arrays, without `ClientData`.

  Returns:
    `(train, test)`, each `{client_id: OrderedDict(x=float32[n, 60],
    y=int32[n])}`.

  Raises:
    ValueError: as `load_variant`.
  """
  alpha, beta, iid = _variant(name)
  return _split_arrays(alpha, beta, iid, num_clients, seed, test_fraction)
