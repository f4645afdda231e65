from absl.testing import absltest
import tensorflow as tf

from tffx.learning.metrics import counters
from tffx.learning.metrics import keras_utils


class NumExamplesCounterTest(absltest.TestCase):

  def test_counts_rows_of_predictions_over_batches(self):
    counter = counters.NumExamplesCounter()

    counter.update_state(tf.zeros([3, 1]), tf.zeros([3, 2]))
    counter.update_state(tf.zeros([4, 1]), tf.zeros([4, 2]))

    self.assertEqual(counter.result().numpy(), 7)

  def test_ignores_sample_weights(self):
    counter = counters.NumExamplesCounter()

    counter.update_state(tf.zeros([5]), tf.zeros([5]),
                         sample_weight=tf.constant([0.0, 0.0, 1.0, 2.0, 0.5]))

    self.assertEqual(counter.result().numpy(), 5)

  def test_uses_the_first_of_several_outputs(self):
    counter = counters.NumExamplesCounter()

    counter.update_state(None, [tf.zeros([2, 3]), tf.zeros([6])])

    self.assertEqual(counter.result().numpy(), 2)

  def test_has_tffs_name_and_dtype(self):

    counter = counters.NumExamplesCounter()

    self.assertEqual(counter.name, 'num_examples')
    self.assertEqual(counter.dtype, 'int64')
    self.assertIsInstance(counter, tf.keras.metrics.Sum)


class NumBatchesCounterTest(absltest.TestCase):

  def test_counts_update_calls(self):
    counter = counters.NumBatchesCounter()

    for size in (1, 5, 2):
      counter.update_state(tf.zeros([size]), tf.zeros([size]),
                           sample_weight=tf.zeros([size]))

    self.assertEqual(counter.result().numpy(), 3)

  def test_reset_starts_again_from_zero(self):
    counter = counters.NumBatchesCounter(name='batches')
    counter.update_state(None, None)

    counter.reset_state()

    self.assertEqual(counter.result().numpy(), 0)
    self.assertEqual(counter.name, 'batches')


class FunctionalCountersTest(absltest.TestCase):

  def test_counters_work_as_functional_metrics(self):
    initialize, update, finalize = keras_utils.create_functional_metric_fns(
        lambda: {'num_examples': counters.NumExamplesCounter(),
                 'num_batches': counters.NumBatchesCounter()})
    state = initialize()

    for size in (2, 3):
      state = update(state, tf.zeros([size, 1]), tf.zeros([size, 1]))
    finalized = finalize(state)

    self.assertEqual(int(finalized['num_examples']), 5)
    self.assertEqual(int(finalized['num_batches']), 2)


if __name__ == '__main__':
  absltest.main()
