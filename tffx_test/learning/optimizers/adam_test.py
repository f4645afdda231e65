import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.learning.models import model_weights
from tffx.learning.optimizers import adam
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx_test.learning.optimizers import optimizer_test_utils as test_utils

_DEFAULTS = dict(learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7)


def _adam_step(t, h, w, g, acc, s):
  """Textbook Adam on one float64 weight at step t; returns (w, acc, s)."""
  acc = h['beta_1'] * acc + (1 - h['beta_1']) * g
  s = h['beta_2'] * s + (1 - h['beta_2']) * g**2
  lr_t = (h['learning_rate'] * np.sqrt(1 - h['beta_2']**t) /
          (1 - h['beta_1']**t))
  return w - lr_t * acc / (np.sqrt(s) + h['epsilon']), acc, s


def _numpy_adam(weights, gradients_per_step, hparams_per_step):
  """Textbook Adam over flat lists; returns (weights, acc, s)."""
  return test_utils.numpy_reference(_adam_step, weights, gradients_per_step,
                                    hparams_per_step,
                                    [np.zeros_like, np.zeros_like])


class AdamTest(parameterized.TestCase):

  def test_build_adam_returns_optimizer(self):

    self.assertIsInstance(adam.build_adam(0.1), optimizer_base.Optimizer)

  @parameterized.named_parameters(
      ('negative_learning_rate', dict(learning_rate=-0.1), 'learning_rate'),
      ('nan_learning_rate', dict(learning_rate=float('nan')), 'learning_rate'),
      ('beta_1_of_one', dict(beta_1=1.0), r'beta_1 in \[0, 1\)'),
      ('negative_beta_1', dict(beta_1=-0.1), r'beta_1 in \[0, 1\)'),
      ('beta_2_above_one', dict(beta_2=1.5), r'beta_2 in \[0, 1\)'),
      ('negative_epsilon', dict(epsilon=-1e-7), 'epsilon'),
  )
  def test_build_adam_raises_value_error(self, changes, message):
    kwargs = dict(_DEFAULTS, **changes)

    with self.assertRaisesRegex(ValueError, message):
      adam.build_adam(**kwargs)

  def test_initialize_state_structure(self):
    optimizer = adam.build_adam(0.1, beta_1=0.5, beta_2=0.75, epsilon=1e-3)

    state = optimizer.initialize(test_utils.SPECS)

    self.assertIsInstance(state, collections.OrderedDict)
    self.assertEqual(list(state), [
        'learning_rate', 'beta_1', 'beta_2', 'epsilon', 'step', 'accumulator',
        'preconditioner'
    ])
    test_utils.assert_float32_scalars(
        self, state,
        dict(learning_rate=0.1, beta_1=0.5, beta_2=0.75, epsilon=1e-3))
    self.assertEqual(state['step'].dtype, tf.int32)
    self.assertEqual(int(state['step']), 0)
    for key in ('accumulator', 'preconditioner'):
      self.assertEqual(list(state[key]), ['kernel', 'bias'])
      np.testing.assert_array_equal(state[key]['kernel'], np.zeros([2, 2]))
      np.testing.assert_array_equal(state[key]['bias'][0], np.zeros([2]))

  @parameterized.named_parameters(
      ('learning_rate', dict(learning_rate=0.5)),
      ('betas', dict(beta_1=0.5, beta_2=0.9)),
      ('epsilon', dict(epsilon=0.1)),
  )
  def test_next_matches_numpy_over_five_steps_with_hparams_changed(
      self, changes):
    optimizer = adam.build_adam(**_DEFAULTS)

    state, weights, hparams_per_step = (
        test_utils.run_steps_with_hparams_changed(optimizer, _DEFAULTS,
                                                  changes))

    expected, acc, s = _numpy_adam(
        test_utils.WEIGHTS, test_utils.GRADIENTS, hparams_per_step)
    self.assertIsInstance(weights, collections.OrderedDict)
    self.assertEqual(list(weights), ['kernel', 'bias'])
    test_utils.assert_all_close(self, weights, expected)
    test_utils.assert_all_close(self, state['accumulator'], acc)
    test_utils.assert_all_close(self, state['preconditioner'], s)
    self.assertEqual(int(state['step']), 5)

  def test_next_keeps_float64_weights(self):
    optimizer = adam.build_adam(0.1)

    weights = test_utils.run_one_float64_step(optimizer, 1.0, 0.5)

    expected, _, _ = _numpy_adam([1.0], [[0.5]], [_DEFAULTS])
    self.assertEqual(weights[0].dtype, tf.float64)
    # Only the hyperparameters are float32 (rounded by ~1e-8).
    np.testing.assert_allclose(weights[0], expected[0], rtol=1e-7)

  def test_next_raises_value_error_for_mismatched_gradients(self):
    optimizer = adam.build_adam(0.1)
    state = optimizer.initialize(test_utils.SPECS)

    with self.assertRaisesRegex(ValueError, 'the gradients to have the'):
      optimizer.next(state, test_utils.WEIGHTS, [np.zeros([2, 2], np.float32)])

  def test_next_raises_value_error_for_state_of_other_weights(self):
    optimizer = adam.build_adam(0.1)
    state = optimizer.initialize([tf.TensorSpec([2], tf.float32)])

    with self.assertRaisesRegex(ValueError, 'the accumulator in the state'):
      optimizer.next(state, test_utils.WEIGHTS, test_utils.GRADIENTS[0])

  def test_get_hparams_set_hparams_round_trip(self):
    optimizer = adam.build_adam(0.1)
    changed = collections.OrderedDict(
        learning_rate=0.5, beta_1=0.25, beta_2=0.75, epsilon=0.01)

    test_utils.assert_hparams_round_trip(self, optimizer, changed,
                                         ['accumulator', 'step'])

  def test_set_hparams_raises_key_error_for_step(self):
    optimizer = adam.build_adam(0.1)

    with self.assertRaisesRegex(KeyError, r"unknown \['step'\]"):
      optimizer.set_hparams(optimizer.initialize(test_utils.SPECS), {'step': 3})


class AdamFinalizerTest(absltest.TestCase):

  def test_apply_optimizer_finalizer_over_two_rounds_with_hparams_changed(
      self):

    hparams, second = test_utils.run_finalizer_over_two_rounds(
        adam.build_adam(0.1), second_learning_rate=0.5)

    expected, _, _ = _numpy_adam(
        test_utils.FINALIZER_WEIGHTS.trainable, test_utils.FINALIZER_UPDATES,
        [_DEFAULTS, dict(_DEFAULTS, learning_rate=0.5)])
    self.assertAlmostEqual(float(hparams['learning_rate']), 0.1, places=6)
    self.assertIsInstance(second.result, model_weights.ModelWeights)
    test_utils.assert_all_close(self, second.result.trainable, expected)
    self.assertEqual(int(second.result.non_trainable[0]), 7)
    self.assertEqual(int(second.state['step']), 2)


if __name__ == '__main__':
  absltest.main()
