"""`FilePerUserClientData`: one file per client, read by a dataset function.

As TFF's `tff.simulation.datasets.FilePerUserClientData`: the dataset of a
client is `dataset_fn(path)` for the client's file path (a `tf.string`
scalar), by default `tf.data.TFRecordDataset` in `create_from_dir`.
"""

import os
from typing import Callable, Mapping

import tensorflow as tf

from tffx.simulation import client_data


class FilePerUserClientData(client_data.FixedClientData):
  """A federated dataset whose clients are files."""

  def __init__(self, client_ids_to_files: Mapping[str, str],
               dataset_fn: Callable[[tf.Tensor], tf.data.Dataset]):
    """Creates the `ClientData`.

    Args:
      client_ids_to_files: `{client_id: file path}`, non-empty.
      dataset_fn: Takes a file path (`tf.string` scalar) and returns the
        client's `tf.data.Dataset`.

    Raises:
      TypeError: if the mapping is not a mapping, or `dataset_fn` is not
        callable.
      ValueError: if the mapping is empty.
    """
    if not isinstance(client_ids_to_files, Mapping):
      raise TypeError(f'Expected client_ids_to_files to be a mapping, found '
                      f'{type(client_ids_to_files).__name__}.')
    if not callable(dataset_fn):
      raise TypeError(f'Expected a callable dataset_fn, found '
                      f'{type(dataset_fn).__name__}.')
    self._client_ids = sorted(client_data.check_client_ids(
        list(client_ids_to_files)))
    self._files = dict(client_ids_to_files)
    self._dataset_fn = dataset_fn
    self._element_type_structure = self._create_dataset(
        self._client_ids[0]).element_spec

  @classmethod
  def create_from_dir(
      cls,
      path: str,
      create_tf_dataset_fn: Callable[[tf.Tensor], tf.data.Dataset] = (
          tf.data.TFRecordDataset)
  ) -> 'FilePerUserClientData':
    """One client per file of the directory `path`, named by the file name."""
    files = {name: os.path.join(path, name) for name in os.listdir(path)}
    return cls(files, create_tf_dataset_fn)

  def _create_dataset(self, client_id: str) -> tf.data.Dataset:
    return self._dataset_fn(tf.constant(self._files[client_id], tf.string))
