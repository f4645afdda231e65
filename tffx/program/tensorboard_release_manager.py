"""`TensorBoardReleaseManager`: released metrics as TensorBoard summaries.

Each numeric scalar becomes a `tf.summary.scalar` and each non-empty
numeric array a `tf.summary.histogram`, named by its flattened path (see
`release_manager`) at step `key`. Strings and None have no TensorBoard plot
and are skipped. The event files are flushed after every release;
TensorBoard (`tensorboard --logdir`) or `tf.compat.v1.train.summary_iterator`
reads them. As TensorFlow Federated's `tff.program.TensorBoardReleaseManager`,
but synchronous. `tf.summary.scalar` and `tf.summary.histogram` come from the
`tensorboard` package, a dependency of tffx.
"""

import os
from typing import Any

import numpy as np
import tensorflow as tf

from tffx.program import release_manager

# numpy kinds TensorBoard can plot: bool, signed, unsigned, float.
_NUMERIC_KINDS = frozenset('biuf')


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
        # Booleans and integers are plotted as floats, as TFF does.
        if array.ndim == 0:
          tf.summary.scalar(name, array.astype(np.float32), step=step)
        else:
          tf.summary.histogram(name, array.astype(np.float64), step=step)
    self._writer.flush()

  def close(self) -> None:
    """Flushes and closes the event file; later releases open a new one."""
    self._writer.close()
    self._closed = True
