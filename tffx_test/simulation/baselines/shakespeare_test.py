import os

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.learning import algorithms
from tffx.learning import optimizers
from tffx.simulation import sql_client_data
from tffx.simulation.baselines import client_spec
from tffx.simulation.baselines import shakespeare


def _write_shakespeare_cache(cache_dir):
  """TFF's shakespeare.sqlite layout, with two roles."""
  sql_client_data.write_database(
      os.path.join(cache_dir, 'shakespeare.sqlite'), {
          'train': {
              'HAMLET': [{'snippets': 'to be, or not to be'},
                         {'snippets': 'words words words'}],
              'LEAR': [{'snippets': 'nothing will come of nothing'}],
          },
          'test': {'LEAR': [{'snippets': 'dhl'}]},
      })


def _ids(text):
  """Ids by hand: 1 + the index in TFF's vocabulary, 87 for other bytes."""
  return [shakespeare.CHAR_VOCAB.index(c) + 1
          if c in shakespeare.CHAR_VOCAB else 87 for c in text]


class ShakespeareTaskTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.cache_dir = self.create_tempdir().full_path
    _write_shakespeare_cache(self.cache_dir)

  def test_constants_are_tffs(self):

    self.assertLen(shakespeare.CHAR_VOCAB, 86)
    self.assertLen(set(shakespeare.CHAR_VOCAB), 86)
    self.assertEqual(shakespeare.VOCAB_LENGTH, 90)
    self.assertEqual(shakespeare.DEFAULT_SEQUENCE_LENGTH, 80)

  def test_element_type_is_input_and_target_sequences(self):

    task = shakespeare.create_character_prediction_task(
        client_spec.ClientSpec(num_epochs=1, batch_size=2),
        cache_dir=self.cache_dir)

    spec = tf.TensorSpec([None, 80], tf.int64)
    self.assertEqual(task.datasets.element_type_structure, (spec, spec))
    self.assertEqual(task.model_fn().input_spec, (spec, spec))
    self.assertEqual(task.datasets.train_data.client_ids, ['HAMLET', 'LEAR'])

  def test_eval_data_is_framed_padded_and_shifted(self):
    task = shakespeare.create_character_prediction_task(
        client_spec.ClientSpec(num_epochs=1, batch_size=2),
        sequence_length=3, cache_dir=self.cache_dir)

    batches = list(task.datasets.get_centralized_test_data())

    # 'dhl' -> [bos, d, h, l, eos] padded to 8 (a multiple of 4), in two
    # windows of 4, each split into input and target.
    self.assertEqual(_ids('dhl'), [1, 2, 3])
    self.assertLen(batches, 1)
    x, y = batches[0]
    np.testing.assert_array_equal(x, [[88, 1, 2], [89, 0, 0]])
    np.testing.assert_array_equal(y, [[1, 2, 3], [0, 0, 0]])

  def test_model_reports_num_tokens_without_padding(self):
    task = shakespeare.create_character_prediction_task(
        client_spec.ClientSpec(num_epochs=1, batch_size=2),
        sequence_length=3, cache_dir=self.cache_dir)
    model = task.model_fn()

    for batch in task.datasets.get_centralized_test_data():
      model.forward_pass(batch, training=False)
    unfinalized = model.report_local_unfinalized_metrics()
    finalizers = model.metric_finalizers()

    self.assertEqual(list(unfinalized), ['num_tokens', 'accuracy', 'loss',
                                         'num_examples', 'num_batches'])
    # Targets [1, 2, 3] and [0, 0, 0]: the padding (0) is not counted.
    self.assertEqual(int(finalizers['num_tokens'](unfinalized['num_tokens'])),
                     3)
    self.assertEqual(
        int(finalizers['num_examples'](unfinalized['num_examples'])), 2)

  def test_train_data_maps_characters_to_tff_ids(self):
    task = shakespeare.create_character_prediction_task(
        client_spec.ClientSpec(num_epochs=1, batch_size=100,
                               shuffle_buffer_size=1),
        sequence_length=5, cache_dir=self.cache_dir)
    lear = task.datasets.train_data.client_ids.index('LEAR')

    (x, y), = list(task.datasets.train_data.preprocess(
        task.datasets.train_preprocess_fn).create_tf_dataset_for_client(
            task.datasets.train_data.client_ids[lear]))

    text = 'nothing will come of nothing'
    ids = [88] + _ids(text) + [89]
    ids += [0] * (-len(ids) % 6)
    windows = np.reshape(ids, (-1, 6))
    np.testing.assert_array_equal(x, windows[:, :-1])
    np.testing.assert_array_equal(y, windows[:, 1:])

  def test_unknown_bytes_map_to_oov_id(self):
    preprocess = shakespeare.create_preprocess_fn(
        client_spec.ClientSpec(num_epochs=1, batch_size=1,
                               shuffle_buffer_size=1),
        sequence_length=3)
    dataset = tf.data.Dataset.from_tensor_slices(
        {'snippets': ['a~\u00e9']})

    (x, y), = list(preprocess(dataset).take(1))

    # '~' is not in the vocabulary, and 'é' is two bytes, neither in it.
    np.testing.assert_array_equal(x, [[88, _ids('a')[0], 87]])
    np.testing.assert_array_equal(y, [[_ids('a')[0], 87, 87]])

  def test_raises_value_error_for_nonpositive_sequence_length(self):
    with self.assertRaisesRegex(ValueError, 'sequence_length'):
      shakespeare.create_character_prediction_task(
          client_spec.ClientSpec(num_epochs=1, batch_size=2),
          sequence_length=0, cache_dir=self.cache_dir)

  def test_fed_avg_on_task_lowers_training_loss(self):
    task = shakespeare.create_character_prediction_task(
        client_spec.ClientSpec(num_epochs=2, batch_size=2,
                               shuffle_buffer_size=1),
        sequence_length=8, use_synthetic_data=True)
    process = algorithms.build_weighted_fed_avg(
        task.model_fn,
        client_optimizer_fn=optimizers.build_sgdm(learning_rate=0.5))
    clients = task.datasets.sample_train_clients(3, random_seed=0)
    tf.keras.utils.set_random_seed(2)
    state = process.initialize()

    losses = []
    for _ in range(3):
      output = process.next(state, clients)
      state = output.state
      losses.append(float(output.metrics['client_work']['train']['loss']))

    self.assertLess(losses[-1], losses[0], losses)
    self.assertTrue(all(np.isfinite(losses)), losses)


if __name__ == '__main__':
  absltest.main()
