"""Federated Stack Overflow (`tffx.simulation.datasets.stackoverflow`).

Reads TFF's files from local caches; nothing is downloaded (see
`dataset_cache`):

    load_data         stackoverflow.sqlite (TFF publishes
                      .../stackoverflow.sqlite.lzma), cache ~/.tff
    load_word_counts  stackoverflow.word_count, from the Keras archive
                      stackoverflow.word_count.tar.bz2, cache ~/.keras/datasets
    load_tag_counts   stackoverflow.tag_count (JSON), from
                      stackoverflow.tag_count.tar.bz2, cache ~/.keras/datasets

Each example is an `OrderedDict` of `creation_date`, `score` (int64),
`tags`, `title`, `tokens` and `type`, all other fields `tf.string`.
"""

import collections
import json
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import dataset_cache
from tffx.simulation import tensor_slices_client_data

ORIGIN = dataset_cache.BUCKET + 'stackoverflow.sqlite.lzma'
WORD_COUNT_ARCHIVE = 'stackoverflow.word_count.tar.bz2'
TAG_COUNT_ARCHIVE = 'stackoverflow.tag_count.tar.bz2'

_STRING_FIELDS = ('creation_date', 'tags', 'title', 'tokens', 'type')
# The HDF5 files older TFF releases read, used when the database is missing.
_LEGACY = dataset_cache.LegacyArchive(
    'stackoverflow.tar.bz2', ('stackoverflow_train.h5',
                              'stackoverflow_held_out.h5',
                              'stackoverflow_test.h5'))


def _parse(serialized: tf.Tensor):
  spec = {
      name: tf.io.FixedLenFeature(shape=(), dtype=tf.string)
      for name in _STRING_FIELDS
  }
  spec['score'] = tf.io.FixedLenFeature(shape=(), dtype=tf.int64)
  features = tf.io.parse_single_example(serialized, spec)
  return collections.OrderedDict(
      (name, features[name]) for name in sorted(features))


def load_data(
    cache_dir: Optional[str] = None
) -> Tuple[client_data.ClientData, client_data.ClientData,
           client_data.ClientData]:
  """Loads the federated Stack Overflow dataset from the local cache.

  Args:
    cache_dir: The directory holding `stackoverflow.sqlite` (or the `.lzma`
      file TFF downloads); `~/.tff`, TFF's cache, when None. Without the
      database, the HDF5 files of older TFF releases are read from
      `<cache_dir or ~/.keras>/datasets`.

  Returns:
    `(train, held_out, test)` `ClientData`s.

  Raises:
    DatasetFileNotFoundError: if the file is not in the cache.
  """
  return dataset_cache.load_splits(ORIGIN, _LEGACY,
                                   ('train', 'heldout', 'test'), _parse,
                                   cache_dir)


def load_word_counts(cache_dir: Optional[str] = None,
                     vocab_size: Optional[int] = None
                    ) -> 'collections.OrderedDict[str, int]':
  """Loads the number of training users using each word, most frequent first.

  Args:
    cache_dir: Keras' cache directory (the file is in its `datasets`
      subdirectory); `~/.keras` when None.
    vocab_size: Only the first `vocab_size` words, when given.

  Raises:
    TypeError: if `vocab_size` is neither None nor an int.
    ValueError: if `vocab_size` is not positive.
    DatasetFileNotFoundError: if the file is not in the cache.
  """
  if vocab_size is not None:
    if not isinstance(vocab_size, int):
      raise TypeError(
          f'vocab_size should be None or int, got {type(vocab_size)}.')
    if vocab_size <= 0:
      raise ValueError(f'vocab_size must be positive, got {vocab_size}.')
  path = dataset_cache.get_extracted_file(
      WORD_COUNT_ARCHIVE, dataset_cache.BUCKET + WORD_COUNT_ARCHIVE,
      'stackoverflow.word_count', cache_dir)
  word_counts = collections.OrderedDict()
  with open(path) as f:
    for line in f:
      if vocab_size is not None and len(word_counts) >= vocab_size:
        break
      word, count = line.split()
      word_counts[word] = int(count)
  return word_counts


def load_tag_counts(
    cache_dir: Optional[str] = None) -> 'collections.OrderedDict[str, int]':
  """Loads the number of training users using each tag, most frequent first.

  Args:
    cache_dir: Keras' cache directory (the file is in its `datasets`
      subdirectory); `~/.keras` when None.

  Raises:
    DatasetFileNotFoundError: if the file is not in the cache.
  """
  path = dataset_cache.get_extracted_file(
      TAG_COUNT_ARCHIVE, dataset_cache.BUCKET + TAG_COUNT_ARCHIVE,
      'stackoverflow.tag_count', cache_dir)
  with open(path) as f:
    tag_counts = json.load(f)
  return collections.OrderedDict(
      sorted(tag_counts.items(), key=lambda item: item[1], reverse=True))


def _post(date: str, score: int, tags: str, title: str, tokens: str,
          kind: str) -> dict:
  return dict(creation_date=date, score=score, tags=tags, title=title,
              tokens=tokens, type=kind)


# tffx's own small examples, in the layout of `load_data`.
_SYNTHETIC_POSTS = {
    'synthetic_1': [
        _post('2012-03-01 10:00:00 UTC', 12, 'python|numpy',
              'sum a numpy array', 'use np . sum on the array .', 'answer'),
        _post('2012-03-01 09:58:00 UTC', 3, 'python|numpy',
              'sum a numpy array', 'how do i sum an array ?', 'question'),
    ],
    'synthetic_2': [
        _post('2015-07-10 18:30:00 UTC', 7, 'git|merge',
              'undo a git merge', 'use git reset to undo the merge .',
              'answer'),
        _post('2015-07-10 18:20:00 UTC', -1, 'git|merge',
              'undo a git merge', 'i merged the wrong branch .', 'question'),
        _post('2015-07-11 08:00:00 UTC', 2, 'git',
              'undo a git merge', 'thanks , that worked .', 'answer'),
    ],
}


def get_synthetic() -> client_data.ClientData:
  """A small in-memory `ClientData` with the structure of `load_data`'s."""
  clients = {}
  for client_id, posts in _SYNTHETIC_POSTS.items():
    fields = collections.OrderedDict(
        (name, [post[name] for post in posts])
        for name in sorted(posts[0]))
    fields['score'] = np.array(fields['score'], np.int64)
    clients[client_id] = fields
  return tensor_slices_client_data.TestClientData(clients)


def _sorted_counts(counts: collections.Counter
                  ) -> 'collections.OrderedDict[str, int]':
  return collections.OrderedDict(
      sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def get_synthetic_word_counts() -> 'collections.OrderedDict[str, int]':
  """The word counts of `get_synthetic()`'s tokens, most frequent first."""
  return _sorted_counts(collections.Counter(
      word for posts in _SYNTHETIC_POSTS.values() for post in posts
      for word in post['tokens'].split()))


def get_synthetic_tag_counts() -> 'collections.OrderedDict[str, int]':
  """The tag counts of `get_synthetic()`'s posts, most frequent first."""
  return _sorted_counts(collections.Counter(
      tag for posts in _SYNTHETIC_POSTS.values() for post in posts
      for tag in post['tags'].split('|')))
