"""Federated EMNIST (`tffx.simulation.datasets.emnist`, as in TFF).

Reads TFF's `emnist_all.sqlite` (published as
https://storage.googleapis.com/tff-datasets-public/emnist_all.sqlite.lzma)
from a local cache; nothing is downloaded (see `dataset_cache`). Each
example is `OrderedDict(label=int32, pixels=float32[28, 28])`, pixels in
[0, 1] with 1.0 the background, as TFF documents.
"""

import collections
from typing import Optional, Tuple

import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import dataset_cache
from tffx.simulation import sql_client_data

ORIGIN = ('https://storage.googleapis.com/tff-datasets-public/'
          'emnist_all.sqlite.lzma')


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
      file TFF downloads); `~/.tff`, TFF's cache, when None.

  Returns:
    `(train, test)` `ClientData`s, one client per writer.

  Raises:
    DatasetFileNotFoundError: if the file is not in the cache; the message
      says which file to place where.
  """
  path = dataset_cache.get_compressed_file(ORIGIN, cache_dir)
  prefix = 'digits_only' if only_digits else 'all'
  return sql_client_data.load_splits(path, (f'{prefix}_train',
                                            f'{prefix}_test'), _parse)
