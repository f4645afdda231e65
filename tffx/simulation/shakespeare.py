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
from tffx.simulation import tensor_slices_client_data

ORIGIN = dataset_cache.BUCKET + 'shakespeare.sqlite.lzma'
# The HDF5 files older TFF releases read, used when the database is missing.
_LEGACY = dataset_cache.LegacyArchive(
    'shakespeare.tar.bz2', ('shakespeare_train.h5', 'shakespeare_test.h5'))


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
      file TFF downloads); `~/.tff`, TFF's cache, when None. Without the
      database, the HDF5 files of older TFF releases are read from
      `<cache_dir or ~/.keras>/datasets`.

  Returns:
    `(train, test)` `ClientData`s.

  Raises:
    DatasetFileNotFoundError: if the file is not in the cache.
  """
  return dataset_cache.load_splits(ORIGIN, _LEGACY, ('train', 'test'), _parse,
                                   cache_dir)


def get_synthetic() -> client_data.ClientData:
  """A small in-memory `ClientData` with the structure of `load_data`'s.

  Three characters with a few short lines each (tffx's own text).
  """
  return tensor_slices_client_data.TestClientData({
      'THE_TEMPEST_ARIEL': collections.OrderedDict(
          snippets=[b'All hail, great master!', b'I come.', b'Done.']),
      'HAMLET_HORATIO': collections.OrderedDict(
          snippets=[b'Well, my lord.', b'It would, my lord.']),
      'OTHELLO_IAGO': collections.OrderedDict(snippets=[b'Ay, my lord.']),
  })
