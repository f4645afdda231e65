import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.learning.models import keras_utils
from tffx.simulation import tensor_slices_client_data
from tffx.simulation.baselines import baseline_task
from tffx.simulation.baselines import task_data


def _datasets():
  clients = tensor_slices_client_data.TestClientData({
      'a': collections.OrderedDict(x=np.ones((4, 3), np.float32),
                                   y=np.zeros((4, 1), np.float32)),
  })
  return task_data.BaselineTaskDatasets(
      clients, clients, train_preprocess_fn=lambda ds: ds.batch(2),
      eval_preprocess_fn=lambda ds: ds.batch(2))


def _model_fn(num_features):

  def model_fn():
    return keras_utils.from_keras_model(
        tf.keras.Sequential([tf.keras.Input(shape=(num_features,)),
                             tf.keras.layers.Dense(1)]),
        loss=tf.keras.losses.MeanSquaredError(),
        input_spec=collections.OrderedDict(
            x=tf.TensorSpec([None, num_features], tf.float32),
            y=tf.TensorSpec([None, 1], tf.float32)))

  return model_fn


class BaselineTaskTest(absltest.TestCase):

  def test_holds_datasets_and_model_fn(self):
    datasets = _datasets()
    model_fn = _model_fn(3)

    task = baseline_task.BaselineTask(datasets, model_fn)

    self.assertIs(task.datasets, datasets)
    self.assertIs(task.model_fn, model_fn)
    self.assertEqual(task, baseline_task.BaselineTask(datasets, model_fn))

  def test_is_frozen(self):
    task = baseline_task.BaselineTask(_datasets(), _model_fn(3))

    with self.assertRaises(AttributeError):
      task.model_fn = _model_fn(3)  # pytype: disable=not-writable

  def test_raises_value_error_when_input_spec_does_not_match(self):
    with self.assertRaisesRegex(ValueError,
                                'model input spec must match the dataset'):
      baseline_task.BaselineTask(_datasets(), _model_fn(5))

  def test_raises_type_error_for_wrong_datasets(self):
    with self.assertRaises(TypeError):
      baseline_task.BaselineTask(tf.data.Dataset.range(2), _model_fn(3))

  def test_raises_type_error_for_uncallable_model_fn(self):
    with self.assertRaises(TypeError):
      baseline_task.BaselineTask(_datasets(), _model_fn(3)())


if __name__ == '__main__':
  absltest.main()
