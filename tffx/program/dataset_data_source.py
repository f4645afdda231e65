"""`DatasetDataSource`: a federated data source of one dataset per client.

    source = DatasetDataSource([client_0_dataset, client_1_dataset, ...])
    source.federated_type          {U*}@CLIENTS, U the datasets' element type
    source.iterator().select(2)    two of the datasets, picked at random

Within one `select` the datasets are distinct; across calls they are drawn
again (with replacement). As TensorFlow Federated's
`tff.program.DatasetDataSource` and `DatasetDataSourceIterator`; an iterator
serializes its datasets as tf.data graphs (as `tffx.remote` sends them).
"""

import random
from typing import List, Optional, Sequence

import numpy as np
import tensorflow as tf

from tffx.program import data_source
from tffx.remote import dataset_graphs
from tffx.remote import graph_allowlist
from tffx.types import computation_types
from tffx.types import placements
from tffx.types import type_conversions


def _check_datasets(datasets: Sequence[tf.data.Dataset]) -> None:
  """Raises unless `datasets` is a non-empty list of datasets of one spec."""
  if isinstance(datasets, (str, bytes)) or not isinstance(datasets, Sequence):
    raise TypeError(f'Expected a sequence of tf.data.Datasets, found '
                    f'{type(datasets).__name__}.')
  if not datasets:
    raise ValueError('Expected `datasets` to not be empty.')
  element_spec = None
  for dataset in datasets:
    if not isinstance(dataset, tf.data.Dataset):
      raise TypeError(f'Expected a sequence of tf.data.Datasets, found an '
                      f'element of type {type(dataset).__name__}.')
    if element_spec is None:
      element_spec = dataset.element_spec
    elif dataset.element_spec != element_spec:
      raise ValueError(
          f'Expected each `tf.data.Dataset` in `datasets` to have the same '
          f'type specification, found {element_spec} and '
          f'{dataset.element_spec}.')


class DatasetDataSourceIterator(data_source.FederatedDataSourceIterator):
  """Selects datasets from a list, uniformly at random."""

  def __init__(self, datasets: Sequence[tf.data.Dataset],
               federated_type: computation_types.FederatedType):
    """Builds the iterator.

    Raises:
      TypeError: if `datasets` is not a sequence of datasets, or
        `federated_type` not a federated type.
      ValueError: if `datasets` is empty or of different element specs.
    """
    _check_datasets(datasets)
    if not isinstance(federated_type, computation_types.FederatedType):
      raise TypeError(f'Expected a tffx.FederatedType, found '
                      f'{type(federated_type).__name__}.')
    self._datasets = list(datasets)
    self._federated_type = federated_type

  @classmethod
  def from_bytes(cls, buffer: bytes) -> 'DatasetDataSourceIterator':
    """Returns the iterator that `to_bytes` serialized."""
    *graphs, type_bytes = data_source.unpack_fields(buffer)
    federated_type = data_source.unpack_federated_type(type_bytes)
    allowlist = graph_allowlist.GraphAllowlist()
    datasets = [
        dataset_graphs.from_graph(graph, federated_type.member.element,
                                  allowlist, f'dataset {i}')
        for i, graph in enumerate(graphs)
    ]
    return cls(datasets, federated_type)

  def to_bytes(self) -> bytes:
    """Returns the datasets' pipelines and the type, serialized.

    Raises:
      ValueError: if a dataset's pipeline does not serialize (it calls
        Python functions or holds external state).
    """
    graphs = []
    for i, dataset in enumerate(self._datasets):
      graph = dataset_graphs.to_graph(dataset,
                                      self._federated_type.member.element)
      if graph is None:
        raise ValueError(f'Dataset {i} does not serialize as a tf.data graph '
                         f'(its pipeline calls Python or holds external '
                         f'state).')
      graphs.append(graph)
    return data_source.pack_fields(
        graphs + [data_source.pack_type(self._federated_type)])

  @property
  def federated_type(self) -> computation_types.FederatedType:
    return self._federated_type

  def select(self, k: Optional[int] = None) -> List[tf.data.Dataset]:
    """Returns `k` distinct datasets, picked uniformly at random.

    Raises:
      ValueError: if `k` is None, negative or more than the datasets.
    """
    k = data_source.check_k(k, len(self._datasets), 'datasets')
    return random.sample(self._datasets, k)

  def __eq__(self, other: object) -> bool:
    if self is other:
      return True
    if not isinstance(other, DatasetDataSourceIterator):
      return NotImplemented
    if (self._federated_type != other._federated_type or
        len(self._datasets) != len(other._datasets)):
      return False
    return all(
        _same_elements(a, b) for a, b in zip(self._datasets, other._datasets))


def _same_elements(a: tf.data.Dataset, b: tf.data.Dataset) -> bool:
  """Returns whether two datasets yield equal elements, in the same order."""
  elements_a = [tf.nest.flatten(e) for e in a.as_numpy_iterator()]
  elements_b = [tf.nest.flatten(e) for e in b.as_numpy_iterator()]
  return len(elements_a) == len(elements_b) and all(
      len(x) == len(y) and all(np.array_equal(u, v) for u, v in zip(x, y))
      for x, y in zip(elements_a, elements_b))


class DatasetDataSource(data_source.FederatedDataSource):
  """A federated data source backed by one `tf.data.Dataset` per client."""

  def __init__(self, datasets: Sequence[tf.data.Dataset]):
    """Builds the data source.

    Raises:
      TypeError: if `datasets` is not a sequence of datasets.
      ValueError: if it is empty or its datasets have different element
        specs.
    """
    _check_datasets(datasets)
    self._datasets = list(datasets)
    element_type = type_conversions.tensorflow_to_type(
        self._datasets[0].element_spec)
    self._federated_type = computation_types.FederatedType(
        computation_types.SequenceType(element_type), placements.CLIENTS)

  @property
  def federated_type(self) -> computation_types.FederatedType:
    return self._federated_type

  def iterator(self) -> DatasetDataSourceIterator:
    return DatasetDataSourceIterator(self._datasets, self._federated_type)
