"""`ClientData`: a federated dataset, one `tf.data.Dataset` per client id.

    ClientData                          client_ids, element_type_structure,
      |                                 create_tf_dataset_for_client(id)
      |-- from_clients_and_tf_fn(ids, fn)     datasets made by fn(id)
      |-- preprocess(fn)                      fn applied to each client dataset
      |-- TestClientData          (tensor_slices_client_data.py) in memory
      `-- HDF5ClientData          (hdf5_client_data.py) TFF's HDF5 files

As TensorFlow Federated's `tff.simulation.datasets.ClientData`, with one
difference: datasets are built from Python client ids, so a `ClientData`
has no `serializable_dataset_fn` and no in-graph `dataset_computation`;
programs build the datasets of the sampled clients in Python and pass them
to a computation. This module neither samples clients (see
`sampling.py`) nor reads files.
"""

import abc
import collections
import functools
from typing import Any, Callable, Iterator, List, Optional, Sequence

import numpy as np
import tensorflow as tf

from tffx.simulation import errors


def check_client_ids(client_ids: Sequence[str]) -> List[str]:
  """Returns `client_ids` as a list after checking them.

  Raises:
    TypeError: if an id is not a string.
    ValueError: if there are no ids, or an id repeats.
  """
  client_ids = list(client_ids)
  if not client_ids:
    raise ValueError('Expected at least one client id, found none.')
  for client_id in client_ids:
    if not isinstance(client_id, str):
      raise TypeError(f'Expected client ids to be strings, found '
                      f'{client_id!r} of type {type(client_id).__name__}.')
  duplicates = sorted(
      i for i, n in collections.Counter(client_ids).items() if n > 1)
  if duplicates:
    raise ValueError(f'Expected unique client ids, found {duplicates[:5]} '
                     f'more than once.')
  return client_ids


def _check_dataset(dataset: Any, where: str) -> tf.data.Dataset:
  if not isinstance(dataset, tf.data.Dataset):
    raise TypeError(f'Expected {where} to return a tf.data.Dataset, found '
                    f'{type(dataset).__name__}.')
  return dataset


def _concatenate(datasets: List[tf.data.Dataset]) -> tf.data.Dataset:
  # Pairwise rounds keep the nesting of `concatenate` logarithmic in the
  # number of clients; a left fold over thousands of clients nests as deep.
  while len(datasets) > 1:
    pairs = [
        datasets[i].concatenate(datasets[i + 1])
        for i in range(0, len(datasets) - 1, 2)
    ]
    if len(datasets) % 2:
      pairs.append(datasets[-1])
    datasets = pairs
  return datasets[0]


class ClientData(abc.ABC):
  """A federated dataset: a `tf.data.Dataset` for each client id.

  Subclasses define `client_ids`, `element_type_structure` and
  `_create_dataset`; the rest is built on those.
  """

  @property
  @abc.abstractmethod
  def client_ids(self) -> List[str]:
    """The ids of the clients, a list of strings (no repeats)."""

  @property
  @abc.abstractmethod
  def element_type_structure(self) -> Any:
    """The `tf.TensorSpec` structure of the elements of every client dataset."""

  @abc.abstractmethod
  def _create_dataset(self, client_id: str) -> tf.data.Dataset:
    """Returns the dataset of `client_id`, an id known to be valid."""

  @functools.cached_property
  def _client_id_set(self) -> frozenset:
    return frozenset(self.client_ids)

  def _check_client_id(self, client_id: str) -> None:
    if not isinstance(client_id, str):
      raise TypeError(f'Expected a client id string, found {client_id!r} of '
                      f'type {type(client_id).__name__}.')
    if client_id not in self._client_id_set:
      examples = ', '.join(repr(i) for i in self.client_ids[:3])
      raise errors.UnknownClientIdError(
          f'Expected one of the {len(self.client_ids)} client ids of this '
          f'ClientData (e.g. {examples}), found {client_id!r}.')

  def create_tf_dataset_for_client(self, client_id: str) -> tf.data.Dataset:
    """Returns the examples of one client as a `tf.data.Dataset`.

    Raises:
      TypeError: if `client_id` is not a string.
      UnknownClientIdError: if `client_id` is not in `client_ids`.
    """
    self._check_client_id(client_id)
    return self._create_dataset(client_id)

  def _shuffled_client_ids(self, seed: Optional[int]) -> List[str]:
    client_ids = list(self.client_ids)
    order = np.random.default_rng(seed).permutation(len(client_ids))
    return [client_ids[i] for i in order]

  def datasets(self,
               limit_count: Optional[int] = None,
               seed: Optional[int] = None) -> Iterator[tf.data.Dataset]:
    """Yields the client datasets in a random order.

    Args:
      limit_count: Yield at most this many datasets; all when None.
      seed: Seeds the order of the clients; a fresh order when None.

    Raises:
      ValueError: if `limit_count` is negative.
    """
    if limit_count is not None and limit_count < 0:
      raise ValueError(f'Expected a non-negative limit_count, found '
                       f'{limit_count}.')
    client_ids = self._shuffled_client_ids(seed)
    if limit_count is not None:
      client_ids = client_ids[:limit_count]
    for client_id in client_ids:
      yield self._create_dataset(client_id)

  def create_tf_dataset_from_all_clients(
      self, seed: Optional[int] = None) -> tf.data.Dataset:
    """Returns one dataset with the examples of all clients.

    The clients come one after the other, in an order drawn from `seed`
    (a fresh order when None); the examples of a client keep their order.
    For centralized evaluation, or baselines that ignore the clients.
    """
    return _concatenate(
        [self._create_dataset(i) for i in self._shuffled_client_ids(seed)])

  def preprocess(
      self, preprocess_fn: Callable[[tf.data.Dataset], tf.data.Dataset]
  ) -> 'ClientData':
    """Returns a `ClientData` whose datasets are `preprocess_fn(dataset)`.

    `preprocess_fn` runs on each client dataset when it is created (for
    example `lambda ds: ds.shuffle(100).batch(20)`), so batches never mix
    clients.

    Raises:
      TypeError: if `preprocess_fn` is not callable or does not return a
        `tf.data.Dataset` (checked on the first client).
    """
    if not callable(preprocess_fn):
      raise TypeError(f'Expected a callable preprocess_fn, found '
                      f'{type(preprocess_fn).__name__}.')

    def dataset_fn(client_id):
      return _check_dataset(
          preprocess_fn(self._create_dataset(client_id)), 'preprocess_fn')

    return _FunctionClientData(self.client_ids, dataset_fn)

  @classmethod
  def from_clients_and_tf_fn(
      cls, client_ids: Sequence[str],
      serializable_dataset_fn: Callable[[tf.Tensor], tf.data.Dataset]
  ) -> 'ClientData':
    """Returns a `ClientData` whose datasets are made by a function.

    Args:
      client_ids: The client ids, non-empty and unique.
      serializable_dataset_fn: Takes a client id as a `tf.string` scalar
        tensor and returns that client's `tf.data.Dataset`, as in TFF.

    Raises:
      TypeError: if an id is not a string, the function is not callable, or
        it does not return a `tf.data.Dataset` (checked on the first client).
      ValueError: if `client_ids` is empty or has repeats.
    """
    if not callable(serializable_dataset_fn):
      raise TypeError(f'Expected a callable serializable_dataset_fn, found '
                      f'{type(serializable_dataset_fn).__name__}.')

    def dataset_fn(client_id):
      return _check_dataset(
          serializable_dataset_fn(tf.constant(client_id, tf.string)),
          'serializable_dataset_fn')

    return _FunctionClientData(client_ids, dataset_fn)


class FixedClientData(ClientData):
  """A `ClientData` whose client ids and element structure are set once.

  Subclasses set `self._client_ids` (a list) and
  `self._element_type_structure` in `__init__`; the properties read them.
  """

  @property
  def client_ids(self) -> List[str]:
    return list(self._client_ids)

  @property
  def element_type_structure(self) -> Any:
    return self._element_type_structure


class _FunctionClientData(FixedClientData):
  """A `ClientData` whose datasets come from `dataset_fn(client_id)`."""

  def __init__(self, client_ids: Sequence[str],
               dataset_fn: Callable[[str], tf.data.Dataset]):
    self._client_ids = check_client_ids(client_ids)
    self._dataset_fn = dataset_fn
    # Building the first dataset checks the function early and gives the
    # element structure; tf.data datasets are lazy, so this reads no data.
    self._element_type_structure = dataset_fn(self._client_ids[0]).element_spec

  def _create_dataset(self, client_id: str) -> tf.data.Dataset:
    return self._dataset_fn(client_id)
