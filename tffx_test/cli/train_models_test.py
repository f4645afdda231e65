import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.cli import train_models
from tffx.learning.models import variable


def _weights(model):
  return model.initial_weights


class InitialWeightsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('softmax', 'softmax', (64,), [(5, 3), (3,)]),
      ('mlp_one_layer', 'mlp', (8,), [(5, 8), (8,), (8, 3), (3,)]),
      ('mlp_two_layers', 'mlp', (8, 4),
       [(5, 8), (8,), (8, 4), (4,), (4, 3), (3,)]),
  )
  def test_initial_weights_have_layer_shapes(self, name, hidden, shapes):

    weights = train_models.initial_weights(name, 5, 3, hidden, seed=0)

    self.assertEqual([w.shape for w in weights], shapes)
    self.assertTrue(all(w.dtype == np.float32 for w in weights))

  def test_initial_weights_are_zero_for_softmax(self):

    weights = train_models.initial_weights('softmax', 5, 3, seed=7)

    self.assertFalse(any(np.any(w) for w in weights))

  def test_initial_weights_of_mlp_depend_only_on_seed(self):

    first = train_models.initial_weights('mlp', 5, 3, (8,), seed=1)
    again = train_models.initial_weights('mlp', 5, 3, (8,), seed=1)
    other = train_models.initial_weights('mlp', 5, 3, (8,), seed=2)

    for a, b in zip(first, again):
      np.testing.assert_array_equal(a, b)
    self.assertFalse(np.array_equal(first[0], other[0]))
    self.assertLessEqual(np.abs(first[0]).max(), np.sqrt(6.0 / (5 + 8)))

  @parameterized.named_parameters(
      ('unknown_model', 'cnn', 5, 3, "Expected a model in \\['softmax', "
       "'mlp'\\], found 'cnn'"),
      ('zero_classes', 'softmax', 5, 0, 'Expected positive layer sizes'),
  )
  def test_initial_weights_raise_value_error_for_bad_arguments(
      self, name, num_features, num_classes, message):

    with self.assertRaisesRegex(ValueError, message):
      train_models.initial_weights(name, num_features, num_classes)


class BuildModelTest(parameterized.TestCase):

  def test_softmax_predicts_affine_logits(self):
    model = train_models.build_model('softmax', 2, 3)
    kernel = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]], np.float32)
    bias = np.array([0.1, 0.2, 0.3], np.float32)
    x = np.array([[1.0, 2.0]], np.float32)

    logits = model.predict_on_batch(((kernel, bias), ()), x, training=True)

    np.testing.assert_allclose(logits, x @ kernel + bias, rtol=1e-6)

  def test_mlp_predicts_through_relu(self):
    model = train_models.build_model('mlp', 1, 1, hidden_units=(2,))
    weights = (np.array([[1.0, -1.0]], np.float32), np.zeros([2], np.float32),
               np.array([[1.0], [1.0]], np.float32), np.zeros([1], np.float32))

    output = model.predict_on_batch((weights, ()), np.array([[3.0]],
                                                            np.float32))

    # relu([3, -3]) = [3, 0], summed by the output layer.
    np.testing.assert_allclose(output, [[3.0]])

  def test_loss_at_zero_weights_is_log_num_classes(self):
    model = train_models.build_model('softmax', 4, 10)
    x = np.ones([6, 4], np.float32)
    labels = np.arange(6, dtype=np.int32)

    loss = model.loss(model.predict_on_batch(_weights(model), x), labels)

    self.assertAlmostEqual(float(loss), np.log(10.0), places=5)

  def test_accuracy_counts_correct_predictions_across_batches(self):
    model = train_models.build_model('softmax', 2, 2)
    state = model.initialize_metrics_state()
    logits = tf.constant([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])

    state = model.update_metrics_state(
        state, tf.constant([0, 0, 0]),
        variable.BatchOutput(loss=1.0, predictions=logits, num_examples=3))
    state = model.update_metrics_state(
        state, tf.constant([1]),
        variable.BatchOutput(loss=3.0, predictions=tf.constant([[0.0, 5.0]]),
                             num_examples=1))
    finalized = model.finalize_metrics(state)

    self.assertEqual(list(finalized),
                     ['accuracy', 'loss', 'num_examples', 'num_batches'])
    self.assertAlmostEqual(float(finalized['accuracy']), 3.0 / 4.0)
    self.assertAlmostEqual(float(finalized['loss']), (3 * 1.0 + 3.0) / 4)

  def test_input_spec_is_features_and_integer_labels(self):

    model = train_models.build_model('mlp', 7, 3)

    self.assertEqual(model.input_spec, (tf.TensorSpec([None, 7], tf.float32),
                                        tf.TensorSpec([None], tf.int32)))
    self.assertIsInstance(model.initialize_metrics_state(),
                          collections.OrderedDict)


if __name__ == '__main__':
  absltest.main()
