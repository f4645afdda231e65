"""Federated data sources: where a federated program gets client data.

    data_source.federated_type       e.g. {string}@CLIENTS
    iterator = data_source.iterator()
    iterator.select(k)               data for k clients, of federated_type
    iterator.to_bytes() / Iterator.from_bytes(buffer)   (program state)

As TensorFlow Federated's `tff.program.FederatedDataSource` and
`FederatedDataSourceIterator`. The implementations are
`DatasetDataSource` and `ClientIdDataSource`.
"""

import abc
import struct
from typing import Any, List, Optional, Sequence

from tffx.proto import computation_pb2
from tffx.types import computation_types
from tffx.types import type_serialization


class FederatedDataSourceIterator(abc.ABC):
  """Selects data from a federated data source; serializable."""

  @classmethod
  @abc.abstractmethod
  def from_bytes(cls, buffer: bytes) -> 'FederatedDataSourceIterator':
    """Returns the iterator that `to_bytes` serialized into `buffer`."""

  @abc.abstractmethod
  def to_bytes(self) -> bytes:
    """Returns this iterator serialized (see `from_bytes`)."""

  @property
  @abc.abstractmethod
  def federated_type(self) -> computation_types.FederatedType:
    """The type of the data that `select` returns."""

  @abc.abstractmethod
  def select(self, k: Optional[int] = None) -> Any:
    """Returns a new selection of data, for `k` clients."""


class FederatedDataSource(abc.ABC):
  """A source of federated data for a federated program."""

  @property
  @abc.abstractmethod
  def federated_type(self) -> computation_types.FederatedType:
    """The type of the data that its iterators' `select` returns."""

  @abc.abstractmethod
  def iterator(self) -> FederatedDataSourceIterator:
    """Returns a new iterator over this data source."""


def check_k(k: Any, count: int, what: str) -> int:
  """Returns `k` after checking 0 <= k <= count.

  Raises:
    TypeError: if `k` is not an int.
    ValueError: if it is None, negative or greater than `count`.
  """
  if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
    raise TypeError(f'Expected k to be an int, found {k!r}.')
  if k is None or k < 0 or k > count:
    raise ValueError(f'Expected `k` to be a positive integer and less than '
                     f'the number of `{what}`, found `k` of {k} and number '
                     f'of `{what}` of {count}.')
  return k


def pack_fields(fields: Sequence[bytes]) -> bytes:
  """Returns `fields` as one buffer, each prefixed with its length."""
  return b''.join(struct.pack('>Q', len(f)) + f for f in fields)


def unpack_fields(buffer: bytes) -> List[bytes]:
  """Returns the fields that `pack_fields` packed into `buffer`.

  Raises:
    ValueError: if `buffer` is not such a buffer (e.g. cut short).
  """
  fields, offset = [], 0
  while offset < len(buffer):
    if offset + 8 > len(buffer):
      raise ValueError('Expected a serialized data source iterator; the '
                       'buffer is cut short.')
    (size,) = struct.unpack_from('>Q', buffer, offset)
    offset += 8
    if offset + size > len(buffer):
      raise ValueError('Expected a serialized data source iterator; the '
                       'buffer is cut short.')
    fields.append(bytes(buffer[offset:offset + size]))
    offset += size
  return fields


def pack_type(type_spec: computation_types.Type) -> bytes:
  return type_serialization.serialize_type(type_spec).SerializeToString()


def unpack_federated_type(buffer: bytes) -> computation_types.FederatedType:
  """Returns the federated type `pack_type` serialized.

  Raises:
    TypeError: if it is not a federated type.
  """
  type_spec = type_serialization.deserialize_type(
      computation_pb2.Type.FromString(buffer))
  if not isinstance(type_spec, computation_types.FederatedType):
    raise TypeError(f'Expected a federated type, found {type_spec}.')
  return type_spec
