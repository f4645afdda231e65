"""The Keras model and metrics of the Shakespeare baseline.

    create_recurrent_model(vocab_size, sequence_length)
        character ids (batch, sequence_length) -> embedding (8) -> LSTM (256)
        -> LSTM (256) -> dense logits (batch, sequence_length, vocab_size)
    MaskedCategoricalAccuracy(masked_tokens)
        accuracy of the logits' argmax over the tokens not in `masked_tokens`
        (the padding), so padded positions neither help nor hurt.
    NumTokensCounter(masked_tokens)
        the number of target tokens not in `masked_tokens` (`num_tokens`).
"""

from typing import Optional, Sequence

import tensorflow as tf


def create_recurrent_model(vocab_size: int,
                           sequence_length: int,
                           mask_zero: bool = True,
                           seed: Optional[int] = None) -> tf.keras.Model:
  """A two-layer LSTM predicting the next character at every position.

  Args:
    vocab_size: The number of character ids (padding, OOV and the
      beginning- and end-of-snippet ids included).
    sequence_length: The length of each input sequence.
    mask_zero: Whether id 0 (padding) is masked in the recurrent layers.
    seed: An optional seed for the initial weights.
  """
  init = tf.keras.initializers.GlorotNormal(seed=seed)
  recurrent_init = tf.keras.initializers.Orthogonal(seed=seed)
  lstm = lambda: tf.keras.layers.LSTM(
      256, return_sequences=True, kernel_initializer=init,
      recurrent_initializer=recurrent_init)
  return tf.keras.Sequential([
      tf.keras.Input(shape=(sequence_length,), dtype='int64'),
      tf.keras.layers.Embedding(
          vocab_size, 8, mask_zero=mask_zero,
          embeddings_initializer=tf.keras.initializers.RandomUniform(
              seed=seed)),
      lstm(),
      lstm(),
      tf.keras.layers.Dense(vocab_size, kernel_initializer=init),
  ])


class MaskedCategoricalAccuracy(tf.keras.metrics.Mean):
  """Accuracy of predicted tokens, ignoring the tokens in `masked_tokens`."""

  def __init__(self,
               masked_tokens: Sequence[int] = (),
               name: str = 'accuracy',
               dtype=None):
    super().__init__(name=name, dtype=dtype)
    self._masked_tokens = tuple(int(t) for t in masked_tokens)

  def update_state(self, y_true, y_pred, sample_weight=None):
    y_true = tf.cast(tf.reshape(y_true, [-1]), tf.int64)
    y_pred = tf.reshape(y_pred, [-1, tf.shape(y_pred)[-1]])
    correct = tf.cast(
        tf.equal(y_true, tf.argmax(y_pred, axis=-1, output_type=tf.int64)),
        tf.float32)
    weight = tf.ones_like(correct)
    if sample_weight is not None:
      weight = tf.reshape(tf.cast(sample_weight, tf.float32), [-1])
    for token in self._masked_tokens:
      weight *= tf.cast(tf.not_equal(y_true, token), tf.float32)
    return super().update_state(correct, sample_weight=weight)

  def get_config(self):
    config = super().get_config()
    config['masked_tokens'] = list(self._masked_tokens)
    return config


class NumTokensCounter(tf.keras.metrics.Sum):
  """Counts the target tokens not in `masked_tokens` (weighted, if given)."""

  def __init__(self,
               masked_tokens: Sequence[int] = (),
               name: str = 'num_tokens',
               dtype=tf.int64):
    super().__init__(name=name, dtype=dtype)
    self._masked_tokens = tuple(int(t) for t in masked_tokens)

  def update_state(self, y_true, y_pred, sample_weight=None):
    del y_pred  # Only the targets count.
    y_true = tf.cast(tf.reshape(y_true, [-1]), tf.int64)
    weight = tf.ones_like(y_true)
    if sample_weight is not None:
      weight = tf.reshape(tf.cast(sample_weight, tf.int64), [-1])
    for token in self._masked_tokens:
      weight *= tf.cast(tf.not_equal(y_true, token), tf.int64)
    return super().update_state(tf.reduce_sum(weight))

  def get_config(self):
    config = super().get_config()
    config['masked_tokens'] = list(self._masked_tokens)
    return config
