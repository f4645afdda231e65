"""Client datasets a worker can open itself: a source instead of examples.

    source = DatasetSource('hdf5', {'path': '/shared/emnist.h5'}, 'f0000_14')
    dataset = attach(client_data_dataset, source)    # on the driver
    source_of(dataset)                                # -> source, or None
    batch(dataset, 20)      # dataset.batch(20), still tagged (batch_size=20)
    open_dataset(source)    # on a worker: the same dataset, from the source

A `ClientData` whose clients a worker can produce on its own (an HDF5 file
on shared storage, the synthetic generator with its seed) tags each dataset
it creates with its source; a remote strategy then sends the source (kind,
parameters, client id: a few bytes) instead of the client's examples.
Openers are registered by kind (`register_opener`) by the module that
defines the `ClientData`; a worker opens only kinds that are registered in
its process. Any other transformation of a tagged dataset drops the tag
(the result is no longer what the source names), so such datasets travel
as before.

This module neither sends nor serves values.
"""

import dataclasses
import json
import threading
from typing import Any, Callable, Dict, Mapping, Optional

import tensorflow as tf

_ATTRIBUTE = '_tffx_dataset_source'
_lock = threading.Lock()
_openers: Dict[str, Callable[[Mapping[str, Any], str], tf.data.Dataset]] = {}


@dataclasses.dataclass(frozen=True)
class DatasetSource:
  """How a worker produces one client's dataset.

  Attributes:
    kind: The registered opener's name, e.g. 'hdf5' or 'synthetic'.
    params_json: The opener's parameters, as canonical JSON (so that
      sources compare and travel as text).
    client_id: The client.
    batch_size: Batch the opened dataset by this (0: not batched).
  """
  kind: str
  params_json: str
  client_id: str
  batch_size: int = 0

  @classmethod
  def of(cls, kind: str, params: Mapping[str, Any],
         client_id: str) -> 'DatasetSource':
    return cls(kind, json.dumps(dict(params), sort_keys=True), client_id)

  @property
  def params(self) -> Dict[str, Any]:
    return json.loads(self.params_json)


def attach(dataset: tf.data.Dataset,
           source: DatasetSource) -> tf.data.Dataset:
  """Tags `dataset` with the source it was opened from; returns it."""
  setattr(dataset, _ATTRIBUTE, source)
  return dataset


def source_of(dataset: Any) -> Optional[DatasetSource]:
  """The source `dataset` was tagged with, or None."""
  return getattr(dataset, _ATTRIBUTE, None)


def batch(dataset: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
  """`dataset.batch(batch_size)`, keeping the tag of an unbatched source."""
  if batch_size < 1:
    raise ValueError(f'Expected a positive batch_size, found {batch_size}.')
  source = source_of(dataset)
  result = dataset.batch(batch_size)
  if source is not None and not source.batch_size:
    attach(result, dataclasses.replace(source, batch_size=batch_size))
  return result


def register_opener(
    kind: str, opener: Callable[[Mapping[str, Any], str],
                                tf.data.Dataset]) -> None:
  """Makes `open_dataset` open sources of `kind` with `opener(params, id)`."""
  with _lock:
    _openers[kind] = opener


def open_dataset(source: DatasetSource) -> tf.data.Dataset:
  """The dataset `source` names, tagged with it.

  Raises:
    ValueError: if no opener of the source's kind is registered here, or
      the parameters do not parse.
  """
  with _lock:
    opener = _openers.get(source.kind)
  if opener is None:
    raise ValueError(f'Expected a client dataset source of a kind among '
                     f'{sorted(_openers)}, found {source.kind!r}.')
  try:
    params = source.params
  except json.JSONDecodeError as e:
    raise ValueError(f'The parameters of a {source.kind!r} source do not '
                     f'parse as JSON: {e}.') from None
  dataset = opener(params, source.client_id)
  if source.batch_size:
    dataset = dataset.batch(source.batch_size)
  return attach(dataset, source)
