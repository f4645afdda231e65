"""Federated Shakespeare (`tffx.simulation.datasets.shakespeare`, as in TFF).

Reads TFF's `shakespeare.sqlite` (published as
https://storage.googleapis.com/tff-datasets-public/shakespeare.sqlite.lzma)
from a local cache; nothing is downloaded (see `dataset_cache`). Each
example is `OrderedDict(snippets=tf.string)`: contiguous lines of one
character (client) of a play.
"""

import collections
from typing import Optional, Tuple

import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import dataset_cache
from tffx.simulation import sql_client_data

ORIGIN = ('https://storage.googleapis.com/tff-datasets-public/'
          'shakespeare.sqlite.lzma')


def _parse(serialized: tf.Tensor):
  features = tf.io.parse_single_example(
      serialized,
      {'snippets': tf.io.FixedLenFeature(shape=(), dtype=tf.string)})
  return collections.OrderedDict(snippets=features['snippets'])


def load_data(
    cache_dir: Optional[str] = None
) -> Tuple[client_data.ClientData, client_data.ClientData]:
  """Loads the federated Shakespeare dataset from the local cache.

  Args:
    cache_dir: The directory holding `shakespeare.sqlite` (or the `.lzma`
      file TFF downloads); `~/.tff`, TFF's cache, when None.

  Returns:
    `(train, test)` `ClientData`s.

  Raises:
    DatasetFileNotFoundError: if the file is not in the cache.
  """
  path = dataset_cache.get_compressed_file(ORIGIN, cache_dir)
  return sql_client_data.load_splits(path, ('train', 'test'), _parse)
