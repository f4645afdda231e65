from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.simulation.baselines import emnist_models


def _num_params(model):
  return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


class EmnistModelsTest(parameterized.TestCase):

  # Hand counts, weights plus biases, layer by layer (digits only).
  @parameterized.named_parameters(
      # conv 3x3x1x32 + 32, conv 3x3x32x64 + 64, dense (12*12*64)x128 + 128,
      # dense 128x10 + 10.
      ('cnn_dropout', emnist_models.create_conv_dropout_model,
       320 + 18496 + 1179776 + 1290),
      # conv 5x5x1x32 + 32, conv 5x5x32x64 + 64, dense (7*7*64)x512 + 512,
      # dense 512x10 + 10.
      ('cnn', emnist_models.create_original_fedavg_cnn_model,
       832 + 51264 + 1606144 + 5130),
      # dense 784x200 + 200, 200x200 + 200, 200x10 + 10.
      ('2nn', emnist_models.create_two_hidden_layer_model,
       157000 + 40200 + 2010),
  )
  def test_digit_model_has_hand_counted_parameters(self, builder, expected):

    model = builder(only_digits=True)

    self.assertEqual(_num_params(model), expected)

  @parameterized.named_parameters(
      ('cnn_dropout', emnist_models.create_conv_dropout_model),
      ('cnn', emnist_models.create_original_fedavg_cnn_model),
      ('2nn', emnist_models.create_two_hidden_layer_model),
  )
  def test_outputs_one_logit_per_class(self, builder):
    images = tf.ones((3, 28, 28, 1))

    digits = builder(only_digits=True)(images, training=False)
    characters = builder(only_digits=False)(images, training=False)

    self.assertEqual(digits.shape, (3, 10))
    self.assertEqual(characters.shape, (3, 62))

  def test_seed_fixes_initial_weights(self):

    first = emnist_models.create_two_hidden_layer_model(seed=7)
    second = emnist_models.create_two_hidden_layer_model(seed=7)

    for a, b in zip(first.get_weights(), second.get_weights()):
      np.testing.assert_array_equal(a, b)


if __name__ == '__main__':
  absltest.main()
