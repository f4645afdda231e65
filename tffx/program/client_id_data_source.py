"""`ClientIdDataSource`: a federated data source of client ids.

    source = ClientIdDataSource(client_data.client_ids)
    source.federated_type          {string}@CLIENTS
    source.iterator().select(10)   ten distinct client ids, at random

A program passes the ids to a computation that builds each client's
dataset on the clients (see
`tffx.simulation.compose_dataset_computation_with_computation`). As
TensorFlow Federated's `tff.program.ClientIdDataSource` and
`ClientIdDataSourceIterator`.
"""

import random
from typing import List, Optional, Sequence

import numpy as np

from tffx.program import data_source
from tffx.types import computation_types
from tffx.types import placements


def _check_client_ids(client_ids: Sequence[str]) -> None:
  if isinstance(client_ids, (str, bytes)) or not isinstance(
      client_ids, Sequence):
    raise TypeError(f'Expected a sequence of client id strings, found '
                    f'{type(client_ids).__name__}.')
  if not client_ids:
    raise ValueError('Expected `client_ids` to not be empty.')
  for client_id in client_ids:
    if not isinstance(client_id, str):
      raise TypeError(f'Expected client ids to be strings, found '
                      f'{client_id!r}.')


class ClientIdDataSourceIterator(data_source.FederatedDataSourceIterator):
  """Selects client ids from a list, uniformly at random."""

  def __init__(self, client_ids: Sequence[str]):
    """Builds the iterator.

    Raises:
      TypeError: if `client_ids` is not a sequence of strings.
      ValueError: if it is empty.
    """
    _check_client_ids(client_ids)
    self._client_ids = list(client_ids)
    self._federated_type = computation_types.FederatedType(
        np.str_, placements.CLIENTS)

  @classmethod
  def from_bytes(cls, buffer: bytes) -> 'ClientIdDataSourceIterator':
    """Returns the iterator that `to_bytes` serialized."""
    return cls([f.decode('utf-8') for f in data_source.unpack_fields(buffer)])

  def to_bytes(self) -> bytes:
    return data_source.pack_fields(
        [client_id.encode('utf-8') for client_id in self._client_ids])

  @property
  def federated_type(self) -> computation_types.FederatedType:
    return self._federated_type

  def select(self, k: Optional[int] = None) -> List[str]:
    """Returns `k` distinct client ids, picked uniformly at random.

    Raises:
      ValueError: if `k` is None, negative or more than the client ids.
    """
    k = data_source.check_k(k, len(self._client_ids), 'client_ids')
    return random.sample(self._client_ids, k)

  def __eq__(self, other: object) -> bool:
    if self is other:
      return True
    if not isinstance(other, ClientIdDataSourceIterator):
      return NotImplemented
    return self._client_ids == other._client_ids


class ClientIdDataSource(data_source.FederatedDataSource):
  """A federated data source of client ids (strings at CLIENTS)."""

  def __init__(self, client_ids: Sequence[str]):
    """Builds the data source.

    Raises:
      TypeError: if `client_ids` is not a sequence of strings.
      ValueError: if it is empty.
    """
    _check_client_ids(client_ids)
    self._client_ids = list(client_ids)
    self._federated_type = computation_types.FederatedType(
        np.str_, placements.CLIENTS)

  @property
  def federated_type(self) -> computation_types.FederatedType:
    return self._federated_type

  def iterator(self) -> ClientIdDataSourceIterator:
    return ClientIdDataSourceIterator(self._client_ids)
