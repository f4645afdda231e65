"""Federated CIFAR-100 (`tffx.simulation.datasets.cifar100`, as in TFF).

Reads TFF's `cifar100.sqlite` (published as
https://storage.googleapis.com/tff-datasets-public/cifar100.sqlite.lzma)
from a local cache; nothing is downloaded (see `dataset_cache`). Each
example is `OrderedDict(coarse_label=int64, image=uint8[32, 32, 3],
label=int64)`.
"""

import collections
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import dataset_cache
from tffx.simulation import tensor_slices_client_data

ORIGIN = dataset_cache.BUCKET + 'cifar100.sqlite.lzma'
# The HDF5 files older TFF releases read, used when the database is missing.
_LEGACY = dataset_cache.LegacyArchive(
    'fed_cifar100.tar.bz2', ('fed_cifar100_train.h5', 'fed_cifar100_test.h5'))


def _parse(serialized: tf.Tensor):
  features = tf.io.parse_single_example(serialized, {
      'coarse_label': tf.io.FixedLenFeature(shape=(), dtype=tf.int64),
      'image': tf.io.FixedLenFeature(shape=(32, 32, 3), dtype=tf.int64),
      'label': tf.io.FixedLenFeature(shape=(), dtype=tf.int64),
  })
  return collections.OrderedDict(
      coarse_label=features['coarse_label'],
      image=tf.cast(features['image'], tf.uint8),
      label=features['label'])


def load_data(
    cache_dir: Optional[str] = None
) -> Tuple[client_data.ClientData, client_data.ClientData]:
  """Loads the federated CIFAR-100 dataset from the local cache.

  Args:
    cache_dir: The directory holding `cifar100.sqlite` (or the `.lzma` file
      TFF downloads); `~/.tff`, TFF's cache, when None. Without the
      database, the HDF5 files of older TFF releases are read from
      `<cache_dir or ~/.keras>/datasets`.

  Returns:
    `(train, test)` `ClientData`s (500 and 100 clients in TFF's file).

  Raises:
    DatasetFileNotFoundError: if the file is not in the cache.
  """
  return dataset_cache.load_splits(ORIGIN, _LEGACY, ('train', 'test'), _parse,
                                   cache_dir)


def get_synthetic() -> client_data.ClientData:
  """A small in-memory `ClientData` with the structure of `load_data`'s.

  Two clients with five 32x32 RGB gradient images each (tffx's own, not
  CIFAR images), with fine labels in [0, 99] and their coarse labels.
  """
  ramp = np.linspace(0, 255, 32).astype(np.uint8)
  images = np.stack([
      np.stack([np.tile(ramp, (32, 1)) // (i + 1),
                np.tile(ramp[:, None], (1, 32)),
                np.full((32, 32), 40 * i, np.uint8)], axis=-1)
      for i in range(5)
  ]).astype(np.uint8)
  examples = collections.OrderedDict(
      coarse_label=np.array([4, 4, 8, 10, 18], np.int64),
      image=images,
      label=np.array([0, 51, 88, 71, 90], np.int64))
  return tensor_slices_client_data.TestClientData(
      {'synthetic1': examples, 'synthetic2': examples})
