import os

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.learning import algorithms
from tffx.learning import optimizers
from tffx.simulation import errors
from tffx.simulation import sql_client_data
from tffx.simulation.baselines import baseline_task
from tffx.simulation.baselines import client_spec
from tffx.simulation.baselines import emnist

# TFF's element type of the preprocessed EMNIST character recognition data.
_ELEMENT_SPEC = (tf.TensorSpec([None, 28, 28, 1], tf.float32),
                 tf.TensorSpec([None], tf.int32))


def _example(label):
  """An image with `label + 1` dark columns, so labels are learnable."""
  pixels = np.ones((28, 28), np.float32)
  pixels[4:24, 1:2 * (label % 10) + 2] = 0.0
  return {'label': label, 'pixels': pixels}


def _write_emnist_cache(cache_dir):
  """TFF's emnist_all.sqlite layout: a few writers in each split."""
  digits = {f'w{i}': [_example(label) for label in range(10)]
            for i in range(3)}
  sql_client_data.write_database(
      os.path.join(cache_dir, 'emnist_all.sqlite'), {
          'digits_only_train': digits,
          'digits_only_test': {'w0': [_example(3), _example(7)]},
          'all_train': {'w0': [_example(40), _example(61)],
                        'w9': [_example(12)]},
          'all_test': {'w9': [_example(36)]},
      })


class EmnistTaskTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.cache_dir = self.create_tempdir().full_path
    _write_emnist_cache(self.cache_dir)

  @parameterized.named_parameters(
      ('cnn_dropout', 'cnn_dropout'),
      ('cnn', 'cnn'),
      ('2nn', '2nn'),
      ('enum', emnist.CharacterRecognitionModel.CNN),
  )
  def test_creates_task_from_cache_for_each_model(self, model_id):

    task = emnist.create_character_recognition_task(
        client_spec.ClientSpec(num_epochs=1, batch_size=4),
        model_id=model_id, only_digits=True, cache_dir=self.cache_dir)

    self.assertIsInstance(task, baseline_task.BaselineTask)
    self.assertEqual(task.datasets.element_type_structure, _ELEMENT_SPEC)
    self.assertEqual(task.datasets.train_data.client_ids, ['w0', 'w1', 'w2'])
    model = task.model_fn()
    self.assertEqual(model.input_spec, _ELEMENT_SPEC)
    x, y = next(iter(task.datasets.sample_train_clients(1, random_seed=0)[0]))
    output = model.forward_pass((x, y), training=False)
    self.assertEqual(output.predictions.shape, (4, 10))

  def test_all_characters_have_62_classes(self):
    task = emnist.create_character_recognition_task(
        client_spec.ClientSpec(num_epochs=1, batch_size=2), model_id='2nn',
        only_digits=False, cache_dir=self.cache_dir)

    x, _ = next(iter(task.datasets.get_centralized_test_data()))
    logits = task.model_fn().predict_on_batch(x, training=False)

    self.assertEqual(task.datasets.train_data.client_ids, ['w0', 'w9'])
    self.assertEqual(logits.shape, (1, 62))

  def test_train_preprocessing_repeats_takes_and_batches(self):
    task = emnist.create_character_recognition_task(
        client_spec.ClientSpec(num_epochs=3, batch_size=4, max_elements=25,
                               shuffle_buffer_size=1),
        model_id='2nn', only_digits=True, cache_dir=self.cache_dir)

    batches = list(task.datasets.sample_train_clients(1, random_seed=0)[0])

    self.assertEqual([int(y.shape[0]) for _, y in batches],
                     [4, 4, 4, 4, 4, 4, 1])
    labels = np.concatenate([y.numpy() for _, y in batches])
    np.testing.assert_array_equal(labels, list(range(10)) * 2 + [0, 1, 2, 3, 4])
    self.assertEqual(batches[0][0].shape, (4, 28, 28, 1))
    np.testing.assert_array_equal(batches[0][0][1, :, :, 0],
                                  _example(1)['pixels'])

  def test_default_eval_spec_batches_by_64_without_shuffling(self):
    task = emnist.create_character_recognition_task(
        client_spec.ClientSpec(num_epochs=5, batch_size=1),
        model_id='2nn', only_digits=True, cache_dir=self.cache_dir)

    batches = list(task.datasets.get_centralized_test_data())

    self.assertLen(batches, 1)
    np.testing.assert_array_equal(batches[0][1], [3, 7])

  def test_synthetic_data_is_train_and_test_data(self):

    task = emnist.create_character_recognition_task(
        client_spec.ClientSpec(num_epochs=1, batch_size=4), model_id='2nn',
        only_digits=True, use_synthetic_data=True)

    self.assertIs(task.datasets.train_data, task.datasets.test_data)
    self.assertEqual(task.datasets.element_type_structure, _ELEMENT_SPEC)

  def test_raises_value_error_for_unknown_model_id(self):
    with self.assertRaisesRegex(ValueError, 'must be one of'):
      emnist.create_character_recognition_task(
          client_spec.ClientSpec(num_epochs=1, batch_size=4),
          model_id='resnet', cache_dir=self.cache_dir)

  def test_raises_not_found_without_cache(self):
    empty = self.create_tempdir().full_path

    with self.assertRaises(errors.DatasetFileNotFoundError):
      emnist.create_character_recognition_task(
          client_spec.ClientSpec(num_epochs=1, batch_size=4),
          cache_dir=empty)

  def test_fed_avg_on_task_lowers_training_loss(self):
    task = emnist.create_character_recognition_task(
        client_spec.ClientSpec(num_epochs=2, batch_size=5,
                               shuffle_buffer_size=1),
        model_id='2nn', only_digits=True, cache_dir=self.cache_dir,
        debug_seed=1)
    process = algorithms.build_weighted_fed_avg(
        task.model_fn,
        client_optimizer_fn=optimizers.build_sgdm(learning_rate=0.05))
    clients = task.datasets.sample_train_clients(3, random_seed=0)
    state = process.initialize()

    losses = []
    for _ in range(4):
      output = process.next(state, clients)
      state = output.state
      losses.append(float(output.metrics['client_work']['train']['loss']))

    self.assertLess(losses[-1], 0.8 * losses[0], losses)
    self.assertTrue(all(np.isfinite(losses)), losses)


if __name__ == '__main__':
  absltest.main()
