"""Keras metrics that count what a client trained or evaluated on.

    NumExamplesCounter()   num_examples: examples seen (first dimension of
                           the predictions; the first one if there are several)
    NumBatchesCounter()    num_batches: batches seen (calls to update_state)

Both are `tf.keras.metrics.Sum`s of int64 that ignore sample weights, so
their unfinalized values add up across clients (`sum_then_finalize`). They
are built on whichever Keras `tf.keras` is when this module is imported.
"""

import tensorflow as tf


class NumExamplesCounter(tf.keras.metrics.Sum):
  """Counts examples: the size of the first dimension of `y_pred`.

  With several outputs, the first one (in `tf.nest.flatten` order) is used.
  Sample weights are ignored: every example counts once.
  """

  def __init__(self, name: str = 'num_examples', dtype=tf.int64):
    super().__init__(name=name, dtype=dtype)

  def update_state(self, y_true, y_pred, sample_weight=None):
    del y_true, sample_weight  # Every example counts once.
    first_output = tf.nest.flatten(y_pred)[0]
    return super().update_state(tf.shape(first_output)[0])


class NumBatchesCounter(tf.keras.metrics.Sum):
  """Counts batches: one per `update_state` call, ignoring sample weights."""

  def __init__(self, name: str = 'num_batches', dtype=tf.int64):
    super().__init__(name=name, dtype=dtype)

  def update_state(self, y_true, y_pred, sample_weight=None):
    del y_true, y_pred, sample_weight  # Every batch counts once.
    return super().update_state(1)
