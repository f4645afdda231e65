"""`ReleaseManager`: where a program releases values (metrics) for people.

    release_manager.release(value, key)

`value` is a nest of metrics, e.g. the `metrics` of a learning process
round; `key` says which release it is, normally the round number. As
TensorFlow Federated's `tff.program.ReleaseManager`, but synchronous.

The managers flatten the nest to names joined by '/' (see `value_paths`):

    OrderedDict(client_work=OrderedDict(train=OrderedDict(loss=0.5)))
        -> {'client_work/train/loss': 0.5}

This module defines the interface and the helpers the managers share; the
managers are `CSVFileReleaseManager`, `TensorBoardReleaseManager`,
`LoggingReleaseManager` and `GroupingReleaseManager`, each in its module.
"""

import abc
import collections
import json
from typing import Any, TypeVar

import numpy as np
import tensorflow as tf

from tffx.program import value_paths
from tffx.program import value_reference

# What a release manager releases: any value, value references included,
# and nests of them (TFF's type names).
ReleasableValue = Any
ReleasableStructure = TypeVar('ReleasableStructure')

# The name of a value that is a single leaf, not a nest.
TOP_LEVEL_NAME = 'value'


def check_key(key: Any) -> int:
  """Returns `key` as an int after checking it is a non-negative integer.

  Raises:
    TypeError: if `key` is not an integer.
    ValueError: if it is negative.
  """
  if isinstance(key, bool) or not hasattr(key, '__index__'):
    raise TypeError(f'Expected an integer key (e.g. the round number), found '
                    f'{key!r} of type {type(key).__name__}.')
  key = int(key)
  if key < 0:
    raise ValueError(f'Expected a non-negative key, found {key}.')
  return key


def flatten_metrics(value: Any) -> 'collections.OrderedDict[str, Any]':
  """Returns `{name: leaf}` for the leaves of `value`, in order.

  Value references are materialized, tensors become numpy values; other
  leaves are returned as they are.

  Raises:
    ValueError: if two leaves get the same name.
  """
  result = collections.OrderedDict()
  value = value_reference.materialize_value(value)
  for path, leaf in value_paths.flatten_with_paths(value):
    if isinstance(leaf, (tf.Tensor, tf.Variable)):
      leaf = leaf.numpy()
    result[path or TOP_LEVEL_NAME] = leaf
  return result


def format_metric(leaf: Any) -> str:
  """Returns the text of one metric: a number as `str`, an array as JSON.

  None is the empty string; bytes are decoded as UTF-8.
  """
  if leaf is None:
    return ''
  if isinstance(leaf, bytes):
    return leaf.decode('utf-8', errors='replace')
  if isinstance(leaf, np.ndarray):
    if leaf.ndim == 0:
      return format_metric(leaf[()])
    return json.dumps(leaf.tolist(), default=format_metric)
  if isinstance(leaf, np.bytes_):
    return format_metric(bytes(leaf))
  return str(leaf)


class ReleaseManager(abc.ABC):
  """Releases values to one destination (a file, a log, a dashboard)."""

  @abc.abstractmethod
  def release(self, value: Any, key: Any) -> None:
    """Releases `value` (a nest of metrics) under `key` (e.g. the round)."""
