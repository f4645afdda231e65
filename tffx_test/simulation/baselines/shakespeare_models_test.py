from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.simulation.baselines import shakespeare_models


class ShakespeareModelsTest(absltest.TestCase):

  def test_recurrent_model_predicts_every_position(self):
    model = shakespeare_models.create_recurrent_model(vocab_size=90,
                                                      sequence_length=7)

    logits = model(tf.ones((2, 7), tf.int64))

    self.assertEqual(logits.shape, (2, 7, 90))

  def test_recurrent_model_has_hand_counted_parameters(self):
    model = shakespeare_models.create_recurrent_model(vocab_size=90,
                                                      sequence_length=5)

    num_params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)

    # Embedding 90x8; LSTM 4 gates x ((in + 256) x 256 + 256) with in = 8,
    # then in = 256; dense 256x90 + 90.
    lstm = lambda n_in: 4 * ((n_in + 256) * 256 + 256)
    self.assertEqual(num_params, 720 + lstm(8) + lstm(256) + 23130)

  def test_masked_accuracy_ignores_masked_tokens(self):
    metric = shakespeare_models.MaskedCategoricalAccuracy(masked_tokens=[0])
    # Predicted ids: 1, 2, 2, 0 (argmax); true ids: 1, 1, 2, 0.
    logits = tf.constant([[[0., 5., 0.], [0., 0., 5.], [0., 0., 5.],
                           [5., 0., 0.]]])
    labels = tf.constant([[1, 1, 2, 0]], tf.int64)

    metric.update_state(labels, logits)

    # Two right of the three unmasked positions; the padding is not counted.
    self.assertAlmostEqual(float(metric.result()), 2 / 3, places=6)

  def test_masked_accuracy_without_mask_counts_all(self):
    metric = shakespeare_models.MaskedCategoricalAccuracy()
    logits = tf.constant([[[0., 5.], [5., 0.]]])

    metric.update_state(tf.constant([[1, 1]]), logits)

    self.assertAlmostEqual(float(metric.result()), 0.5, places=6)

  def test_num_tokens_counter_counts_unmasked_targets(self):
    metric = shakespeare_models.NumTokensCounter(masked_tokens=[0])

    metric.update_state(tf.constant([[1, 1, 2, 0], [3, 0, 0, 0]], tf.int64),
                        tf.zeros([2, 4, 5]))
    metric.update_state(tf.constant([[4, 4]], tf.int64), tf.zeros([1, 2, 5]))

    self.assertEqual(int(metric.result()), 3 + 1 + 2)
    self.assertEqual(metric.name, 'num_tokens')


if __name__ == '__main__':
  absltest.main()
