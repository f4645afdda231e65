"""`TensorBoardReleaseManager`: released metrics as TensorBoard summaries.

Each numeric scalar becomes a scalar summary and each non-empty numeric
array a histogram summary, named by its flattened path (see
`release_manager`) at step `key`. Strings and None have no TensorBoard
plot and are skipped. The event files are flushed after every release;
`tf.compat.v1.train.summary_iterator` or TensorBoard reads them.

The summaries are written with `tf.summary.write` and the metadata of
TensorBoard's `scalars` and `histograms` plugins (the format
`tf.summary.scalar` and `tf.summary.histogram` write), because those two
functions need the `tensorboard` package, which TensorFlow no longer
installs. As TensorFlow Federated's `tff.program.TensorBoardReleaseManager`,
but synchronous.
"""

import os
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from tffx.program import release_manager

# numpy kinds TensorBoard can plot: bool, signed, unsigned, float.
_NUMERIC_KINDS = frozenset('biuf')
# TensorBoard's default number of histogram buckets.
HISTOGRAM_BUCKETS = 30


def _metadata(plugin_name: str, data_class: int) -> summary_pb2.SummaryMetadata:
  # Empty plugin content is version 0 of the plugins' data, which they read.
  return summary_pb2.SummaryMetadata(
      plugin_data=summary_pb2.SummaryMetadata.PluginData(
          plugin_name=plugin_name, content=b''),
      data_class=data_class)


_SCALAR_METADATA = _metadata('scalars', summary_pb2.DATA_CLASS_SCALAR)
_HISTOGRAM_METADATA = _metadata('histograms', summary_pb2.DATA_CLASS_TENSOR)


def histogram_buckets(values: np.ndarray) -> np.ndarray:
  """Returns TensorBoard's histogram tensor: rows `(left, right, count)`.

  `HISTOGRAM_BUCKETS` equal buckets over `[min, max]`, or one bucket
  `(v, v, n)` when all `n` values equal `v`.
  """
  values = np.asarray(values, np.float64).ravel()
  low, high = values.min(), values.max()
  if low == high:
    return np.array([[low, high, float(values.size)]])
  counts, edges = np.histogram(values, bins=HISTOGRAM_BUCKETS,
                               range=(low, high))
  return np.stack([edges[:-1], edges[1:], counts.astype(np.float64)], axis=1)


class TensorBoardReleaseManager(release_manager.ReleaseManager):
  """Writes released metrics to TensorBoard event files in `summary_dir`."""

  def __init__(self, summary_dir: str):
    """Builds the manager and its summary writer.

    Args:
      summary_dir: Directory of the event files; created if missing.

    Raises:
      ValueError: if `summary_dir` is empty.
    """
    summary_dir = os.fspath(summary_dir)
    if not summary_dir:
      raise ValueError('Expected a non-empty summary_dir, found an empty one.')
    self._summary_dir = summary_dir
    self._writer = tf.summary.create_file_writer(summary_dir)
    self._closed = False

  @property
  def summary_dir(self) -> str:
    return self._summary_dir

  def release(self, value: Any, key: Any) -> None:
    """Writes the numeric metrics of `value` at step `key`, then flushes.

    Raises:
      TypeError: if `key` is not an integer.
      ValueError: if `key` is negative or two metrics get the same name.
    """
    step = release_manager.check_key(key)
    if self._closed:
      self._writer = tf.summary.create_file_writer(self._summary_dir)
      self._closed = False
    with self._writer.as_default():
      for name, leaf in release_manager.flatten_metrics(value).items():
        if leaf is None:
          continue
        array = np.asarray(leaf)
        if array.dtype.kind not in _NUMERIC_KINDS or not array.size:
          continue
        if array.ndim == 0:
          tf.summary.write(name, tf.constant(array, tf.float32), step=step,
                           metadata=_SCALAR_METADATA)
        else:
          tf.summary.write(name, tf.constant(histogram_buckets(array)),
                           step=step, metadata=_HISTOGRAM_METADATA)
    self._writer.flush()

  def close(self) -> None:
    """Flushes and closes the event file; later releases open a new one."""
    self._writer.close()
    self._closed = True
