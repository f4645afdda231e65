"""Shakespeare baseline tasks (`tffx.simulation.baselines.shakespeare`).

    create_character_prediction_task(train_client_spec, ...) -> BaselineTask
    DEFAULT_SEQUENCE_LENGTH = 80, VOCAB_LENGTH = 90

Data comes from `tffx.simulation.datasets.shakespeare.load_data(cache_dir)`,
TFF's files in a local cache (nothing is downloaded), or from its
`get_synthetic()`. A client (a role in a play) has string snippets; each
is turned into character ids, framed by beginning- and end-of-snippet ids
and padded with 0 to a multiple of `sequence_length + 1`; the ids are cut
into windows of `sequence_length + 1`, batched, and each window is split
into input (all but the last id) and target (all but the first):

    (TensorSpec([None, sequence_length], int64),
     TensorSpec([None, sequence_length], int64))

Ids, as in TFF: 0 padding, 1-86 the characters of `CHAR_VOCAB` in order,
87 any other byte, 88 beginning, 89 end of snippet.
"""

import functools
from typing import Optional

import numpy as np
import tensorflow as tf

from tffx.learning.models import keras_utils
from tffx.simulation import shakespeare as shakespeare_data
from tffx.simulation.baselines import baseline_task
from tffx.simulation.baselines import client_spec
from tffx.simulation.baselines import shakespeare_models
from tffx.simulation.baselines import task_data

# TFF's character vocabulary; its order fixes the character ids.
CHAR_VOCAB = list(
    'dhlptx@DHLPTX $(,048cgkoswCGKOSW[_#\'/37;?bfjnrvzBFJNRVZ"&*.26:\naeimquyA'
    'EIMQUY]!%)-159\r')
PAD_ID = 0
OOV_ID = len(CHAR_VOCAB) + 1
BOS_ID = len(CHAR_VOCAB) + 2
EOS_ID = len(CHAR_VOCAB) + 3
VOCAB_LENGTH = len(CHAR_VOCAB) + 4
DEFAULT_SEQUENCE_LENGTH = 80
DEFAULT_SHUFFLE_BUFFER_SIZE = 50


def _byte_to_id_table() -> np.ndarray:
  """The id of each byte value 0-255 (snippets are split into bytes)."""
  table = np.full(256, OOV_ID, np.int64)
  for index, char in enumerate(CHAR_VOCAB):
    table[ord(char)] = index + 1
  return table


def _build_to_ids(window_length: int):
  """Maps an example to its snippet's ids, framed and padded."""
  # A constant, not a lookup table: the dataset graph holds no resource.
  table = tf.constant(_byte_to_id_table())

  def to_ids(example):
    byte_values = tf.io.decode_raw(example['snippets'], tf.uint8)
    ids = tf.gather(table, tf.cast(byte_values, tf.int32))
    ids = tf.concat([[BOS_ID], ids, [EOS_ID]], axis=0)
    pad_length = tf.math.floormod(-tf.shape(ids)[0], window_length)
    return tf.concat([ids, tf.fill([pad_length], tf.constant(PAD_ID, tf.int64))],
                     axis=0)

  return to_ids


def _split_input_target(windows):
  return windows[:, :-1], windows[:, 1:]


def create_preprocess_fn(spec: client_spec.ClientSpec,
                         sequence_length: int = DEFAULT_SEQUENCE_LENGTH):
  """The preprocessing of one Shakespeare client dataset under `spec`.

  Raises:
    ValueError: if `sequence_length` is not a positive integer.
  """
  if sequence_length < 1:
    raise ValueError('sequence_length must be a positive integer.')
  window_length = sequence_length + 1

  def preprocess_fn(dataset: tf.data.Dataset) -> tf.data.Dataset:
    dataset = client_spec.shuffle_repeat_take(dataset, spec,
                                              DEFAULT_SHUFFLE_BUFFER_SIZE)
    # Each snippet's ids have a length divisible by window_length, so no
    # window straddles two snippets and none is dropped.
    dataset = dataset.map(_build_to_ids(window_length)).unbatch()
    dataset = dataset.batch(window_length, drop_remainder=True)
    return dataset.batch(spec.batch_size).map(_split_input_target)

  return preprocess_fn


def _create_task(train_client_spec, eval_client_spec, sequence_length,
                 train_data, test_data) -> baseline_task.BaselineTask:
  datasets = task_data.from_client_specs(
      train_data, test_data, train_client_spec, eval_client_spec,
      functools.partial(create_preprocess_fn, sequence_length=sequence_length))
  input_spec = datasets.element_type_structure

  def model_fn():
    return keras_utils.from_keras_model(
        keras_model=shakespeare_models.create_recurrent_model(
            vocab_size=VOCAB_LENGTH, sequence_length=sequence_length),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        input_spec=input_spec,
        metrics=[
            shakespeare_models.NumTokensCounter(masked_tokens=[PAD_ID]),
            shakespeare_models.MaskedCategoricalAccuracy(
                masked_tokens=[PAD_ID])
        ])

  return baseline_task.BaselineTask(datasets, model_fn)


def create_character_prediction_task(
    train_client_spec: client_spec.ClientSpec,
    eval_client_spec: Optional[client_spec.ClientSpec] = None,
    sequence_length: int = DEFAULT_SEQUENCE_LENGTH,
    cache_dir: Optional[str] = None,
    use_synthetic_data: bool = False) -> baseline_task.BaselineTask:
  """Creates a baseline task for next-character prediction on Shakespeare.

  The task takes `sequence_length` characters and predicts the next one at
  each position (sparse categorical cross-entropy on the logits); the
  model reports `num_tokens` (the non-padding target tokens) and `accuracy`
  over them, as TFF's. A client is a role
  in a play.

  Args:
    train_client_spec: The `ClientSpec` of training clients.
    eval_client_spec: The `ClientSpec` of evaluation data; `None` batches
      it by 64, one epoch, without shuffling.
    sequence_length: The (positive) length of each input sequence.
    cache_dir: The directory holding TFF's `shakespeare.sqlite` (or its
      `.lzma`); `~/.tff` when None. Nothing is downloaded.
    use_synthetic_data: Use
      `tffx.simulation.datasets.shakespeare.get_synthetic()` (a few lines,
      for tests) as train and test data instead.

  Returns:
    A `tffx.simulation.baselines.BaselineTask`.

  Raises:
    ValueError: if `sequence_length` is not positive.
    DatasetFileNotFoundError: if the dataset is not in the cache.
  """
  if sequence_length < 1:
    raise ValueError('sequence_length must be a positive integer.')
  if use_synthetic_data:
    train_data = test_data = shakespeare_data.get_synthetic()
  else:
    train_data, test_data = shakespeare_data.load_data(cache_dir=cache_dir)
  return _create_task(train_client_spec, eval_client_spec, sequence_length,
                      train_data, test_data)
