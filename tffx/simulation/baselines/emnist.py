"""EMNIST baseline tasks (`tffx.simulation.baselines.emnist`, as in TFF).

    create_character_recognition_task(train_client_spec, ...) -> BaselineTask
    CharacterRecognitionModel   the model ids: 'cnn_dropout', 'cnn', '2nn'

Data comes from `tffx.simulation.datasets.emnist.load_data(only_digits,
cache_dir)`, TFF's files in a local cache (nothing is downloaded), or from
its `get_synthetic()`. Each client's examples are shuffled, repeated and
truncated as its `ClientSpec` says, batched, then mapped to
`(pixels[..., None], label)`: the task's element type is

    (TensorSpec([None, 28, 28, 1], float32), TensorSpec([None], int32))

The loss is sparse categorical cross-entropy on the model's logits, and the
model reports `sparse_categorical_accuracy`.
"""

import enum
from typing import Optional, Union

import tensorflow as tf

from tffx.learning.models import keras_utils
from tffx.simulation import emnist as emnist_data
from tffx.simulation.baselines import baseline_task
from tffx.simulation.baselines import client_spec
from tffx.simulation.baselines import emnist_models
from tffx.simulation.baselines import task_data

# The most examples any EMNIST client has: the default shuffle buffer.
MAX_CLIENT_DATASET_SIZE = 418


class CharacterRecognitionModel(enum.Enum):
  """Enum for EMNIST character recognition models."""
  CNN_DROPOUT = 'cnn_dropout'
  CNN = 'cnn'
  TWO_LAYER_DNN = '2nn'


_MODEL_BUILDERS = {
    CharacterRecognitionModel.CNN_DROPOUT:
        emnist_models.create_conv_dropout_model,
    CharacterRecognitionModel.CNN:
        emnist_models.create_original_fedavg_cnn_model,
    CharacterRecognitionModel.TWO_LAYER_DNN:
        emnist_models.create_two_hidden_layer_model,
}


def _to_image_and_label(batch):
  return tf.expand_dims(batch['pixels'], axis=-1), batch['label']


def create_preprocess_fn(spec: client_spec.ClientSpec):
  """The preprocessing of one EMNIST client dataset under `spec`."""

  def preprocess_fn(dataset: tf.data.Dataset) -> tf.data.Dataset:
    dataset = client_spec.shuffle_repeat_take(dataset, spec,
                                              MAX_CLIENT_DATASET_SIZE)
    return dataset.batch(spec.batch_size).map(_to_image_and_label)

  return preprocess_fn


def _check_model_id(model_id) -> CharacterRecognitionModel:
  try:
    return CharacterRecognitionModel(
        model_id.value if isinstance(model_id, CharacterRecognitionModel)
        else model_id)
  except ValueError:
    valid = [m.value for m in CharacterRecognitionModel]
    raise ValueError(f'The model argument must be one of {valid}, found '
                     f'{model_id!r}.') from None


def _create_task(
    train_client_spec: client_spec.ClientSpec,
    eval_client_spec: Optional[client_spec.ClientSpec],
    model_id: Union[str, CharacterRecognitionModel],
    only_digits: bool,
    train_data,
    test_data,
    debug_seed: Optional[int] = None) -> baseline_task.BaselineTask:
  """The character recognition task on the given EMNIST-like data.

  Args are those of `create_character_recognition_task`, with the training
  `ClientData` and the test data (a `ClientData` or a `tf.data.Dataset`)
  given instead of loaded.
  """
  model = _check_model_id(model_id)
  datasets = task_data.from_client_specs(train_data, test_data,
                                         train_client_spec, eval_client_spec,
                                         create_preprocess_fn)
  build_keras_model = _MODEL_BUILDERS[model]
  input_spec = datasets.element_type_structure

  def model_fn():
    return keras_utils.from_keras_model(
        keras_model=build_keras_model(only_digits=only_digits,
                                      seed=debug_seed),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        input_spec=input_spec,
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])

  return baseline_task.BaselineTask(datasets, model_fn)


def create_character_recognition_task(
    train_client_spec: client_spec.ClientSpec,
    eval_client_spec: Optional[client_spec.ClientSpec] = None,
    model_id: Union[str, CharacterRecognitionModel] = 'cnn_dropout',
    only_digits: bool = False,
    cache_dir: Optional[str] = None,
    use_synthetic_data: bool = False,
    debug_seed: Optional[int] = None) -> baseline_task.BaselineTask:
  """Creates a baseline task for character recognition on EMNIST.

  The task minimizes the sparse categorical cross-entropy between the
  model's output and the image's label: 10 labels (digits) with
  `only_digits=True`, 62 (digits and letters) otherwise.

  Args:
    train_client_spec: The `ClientSpec` of training clients.
    eval_client_spec: The `ClientSpec` of evaluation data; `None` batches
      it by 64, one epoch, without shuffling.
    model_id: A `CharacterRecognitionModel` or its value: 'cnn_dropout'
      (convolutions with dropout), 'cnn' (McMahan et al. 2017's CNN) or
      '2nn' (two dense hidden layers of 200 units).
    only_digits: Whether to use the digits only (10 classes).
    cache_dir: The directory holding TFF's `emnist_all.sqlite` (or its
      `.lzma`); `~/.tff` when None. Nothing is downloaded.
    use_synthetic_data: Use `tffx.simulation.datasets.emnist.get_synthetic()`
      (a few examples, for tests) as train and test data instead.
    debug_seed: An optional seed for the model's initial weights.

  Returns:
    A `tffx.simulation.baselines.BaselineTask`.

  Raises:
    ValueError: if `model_id` is not one of the model ids.
    DatasetFileNotFoundError: if the dataset is not in the cache.
  """
  _check_model_id(model_id)
  if use_synthetic_data:
    train_data = test_data = emnist_data.get_synthetic()
  else:
    train_data, test_data = emnist_data.load_data(
        only_digits=only_digits, cache_dir=cache_dir)
  return _create_task(
      train_client_spec, eval_client_spec, model_id, only_digits,
      train_data, test_data, debug_seed)
