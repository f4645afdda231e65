"""Federated EMNIST (`tffx.simulation.datasets.emnist`, as in TFF).

Reads TFF's `emnist_all.sqlite` (published as
https://storage.googleapis.com/tff-datasets-public/emnist_all.sqlite.lzma)
from a local cache; nothing is downloaded (see `dataset_cache`). Each
example is `OrderedDict(label=int32, pixels=float32[28, 28])`, pixels in
[0, 1] with 1.0 the background, as TFF documents.
"""

import collections
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import dataset_cache
from tffx.simulation import tensor_slices_client_data

ORIGIN = dataset_cache.BUCKET + 'emnist_all.sqlite.lzma'


def _parse(serialized: tf.Tensor):
  features = tf.io.parse_single_example(serialized, {
      'pixels': tf.io.FixedLenFeature(shape=(28, 28), dtype=tf.float32),
      'label': tf.io.FixedLenFeature(shape=(), dtype=tf.int64),
  })
  return collections.OrderedDict(
      label=tf.cast(features['label'], tf.int32), pixels=features['pixels'])


def load_data(
    only_digits: bool = True,
    cache_dir: Optional[str] = None
) -> Tuple[client_data.ClientData, client_data.ClientData]:
  """Loads the federated EMNIST dataset from the local cache.

  Args:
    only_digits: Whether to load the digits only (10 classes, 3,383
      writers) or digits and letters (62 classes, 3,400 writers).
    cache_dir: The directory holding `emnist_all.sqlite` (or the `.lzma`
      file TFF downloads); `~/.tff`, TFF's cache, when None. Without the
      database, the HDF5 files of older TFF releases are read from
      `<cache_dir or ~/.keras>/datasets`.

  Returns:
    `(train, test)` `ClientData`s, one client per writer.

  Raises:
    DatasetFileNotFoundError: if the file is not in the cache; the message
      says which file to place where.
  """
  name = 'fed_emnist_digitsonly' if only_digits else 'fed_emnist'
  legacy = dataset_cache.LegacyArchive(f'{name}.tar.bz2',
                                       (f'{name}_train.h5', f'{name}_test.h5'))
  prefix = 'digits_only' if only_digits else 'all'
  return dataset_cache.load_splits(ORIGIN, legacy,
                                   (f'{prefix}_train', f'{prefix}_test'),
                                   _parse, cache_dir)


def _synthetic_digit(label: int) -> np.ndarray:
  """A 28x28 image, 1.0 background, with `label + 1` dark vertical bars."""
  pixels = np.ones((28, 28), np.float32)
  for bar in range(label + 1):
    pixels[6:22, 2 + 2 * bar] = 0.0
  return pixels


def get_synthetic() -> client_data.ClientData:
  """A small in-memory `ClientData` with the structure of `load_data`'s.

  Two clients, 'synthetic1' and 'synthetic2', each with ten examples, one
  per digit label 0-9 (tffx's own drawings, not EMNIST images).
  """
  examples = collections.OrderedDict(
      label=np.arange(10, dtype=np.int32),
      pixels=np.stack([_synthetic_digit(label) for label in range(10)]))
  return tensor_slices_client_data.TestClientData(
      {'synthetic1': examples, 'synthetic2': examples})
