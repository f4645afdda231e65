import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.learning.models import model_weights
from tffx.learning.optimizers import adagrad
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx_test.learning.optimizers import optimizer_test_utils as test_utils

_DEFAULTS = dict(learning_rate=0.1, epsilon=1e-7)


def _adagrad_step(t, h, w, g, s):
  """Textbook Adagrad on one float64 weight; returns (w, s)."""
  del t  # Adagrad does not count steps.
  s = s + g**2
  return w - h['learning_rate'] * g / np.sqrt(s + h['epsilon']), s


def _numpy_adagrad(weights, gradients_per_step, hparams_per_step,
                   initial_preconditioner_value=0.1):
  """Textbook Adagrad over flat lists; returns (weights, s)."""
  return test_utils.numpy_reference(
      _adagrad_step, weights, gradients_per_step, hparams_per_step,
      [lambda w: np.full_like(w, initial_preconditioner_value)])


class AdagradTest(parameterized.TestCase):

  def test_build_adagrad_returns_optimizer(self):

    self.assertIsInstance(adagrad.build_adagrad(0.1), optimizer_base.Optimizer)

  @parameterized.named_parameters(
      ('negative_learning_rate', dict(learning_rate=-0.1), 'learning_rate'),
      ('nan_learning_rate', dict(learning_rate=float('nan')), 'learning_rate'),
      ('negative_initial_preconditioner_value',
       dict(initial_preconditioner_value=-0.1), 'initial_preconditioner_value'),
      ('negative_epsilon', dict(epsilon=-1e-7), 'epsilon'),
  )
  def test_build_adagrad_raises_value_error(self, changes, message):
    kwargs = dict(_DEFAULTS, **changes)

    with self.assertRaisesRegex(ValueError,
                                f'Expected a non-negative {message}'):
      adagrad.build_adagrad(**kwargs)

  def test_initialize_state_structure(self):
    optimizer = adagrad.build_adagrad(
        0.1, initial_preconditioner_value=0.25, epsilon=1e-3)

    state = optimizer.initialize(test_utils.SPECS)

    self.assertIsInstance(state, collections.OrderedDict)
    self.assertEqual(list(state),
                     ['learning_rate', 'epsilon', 'preconditioner'])
    test_utils.assert_float32_scalars(self, state,
                                      dict(learning_rate=0.1, epsilon=1e-3))
    self.assertEqual(list(state['preconditioner']), ['kernel', 'bias'])
    np.testing.assert_array_equal(state['preconditioner']['kernel'],
                                  np.full([2, 2], 0.25))
    np.testing.assert_array_equal(state['preconditioner']['bias'][0],
                                  np.full([2], 0.25))
    self.assertEqual(state['preconditioner']['kernel'].dtype, tf.float32)

  @parameterized.named_parameters(
      ('learning_rate', dict(learning_rate=0.5)),
      ('epsilon', dict(epsilon=0.5)),
  )
  def test_next_matches_numpy_over_five_steps_with_hparams_changed(
      self, changes):
    optimizer = adagrad.build_adagrad(**_DEFAULTS)

    state, weights, hparams_per_step = (
        test_utils.run_steps_with_hparams_changed(optimizer, _DEFAULTS,
                                                  changes))

    expected, s = _numpy_adagrad(
        test_utils.WEIGHTS, test_utils.GRADIENTS, hparams_per_step)
    self.assertIsInstance(weights, collections.OrderedDict)
    self.assertEqual(list(weights), ['kernel', 'bias'])
    test_utils.assert_all_close(self, weights, expected)
    test_utils.assert_all_close(self, state['preconditioner'], s)

  def test_next_with_zero_initial_preconditioner_matches_numpy(self):
    optimizer = adagrad.build_adagrad(0.1, initial_preconditioner_value=0.0)
    state = optimizer.initialize(test_utils.SPECS)

    _, weights = optimizer.next(state, test_utils.WEIGHTS,
                                test_utils.GRADIENTS[0])

    expected, _ = _numpy_adagrad(test_utils.WEIGHTS,
                                 test_utils.GRADIENTS[:1], [_DEFAULTS], 0.0)
    test_utils.assert_all_close(self, weights, expected)

  def test_next_keeps_float64_weights(self):
    optimizer = adagrad.build_adagrad(0.1)

    weights = test_utils.run_one_float64_step(optimizer, 1.0, 0.5)

    expected, _ = _numpy_adagrad([1.0], [[0.5]], [_DEFAULTS])
    self.assertEqual(weights[0].dtype, tf.float64)
    # Only the hyperparameters are float32 (rounded by ~1e-8).
    np.testing.assert_allclose(weights[0], expected[0], rtol=1e-7)

  def test_next_raises_value_error_for_mismatched_gradients(self):
    optimizer = adagrad.build_adagrad(0.1)
    state = optimizer.initialize(test_utils.SPECS)

    with self.assertRaisesRegex(ValueError, 'the gradients to have the'):
      optimizer.next(state, test_utils.WEIGHTS, [np.zeros([2, 2], np.float32)])

  def test_next_raises_value_error_for_state_of_other_weights(self):
    optimizer = adagrad.build_adagrad(0.1)
    state = optimizer.initialize([tf.TensorSpec([2], tf.float32)])

    with self.assertRaisesRegex(ValueError, 'the preconditioner in the state'):
      optimizer.next(state, test_utils.WEIGHTS, test_utils.GRADIENTS[0])

  def test_get_hparams_set_hparams_round_trip(self):
    optimizer = adagrad.build_adagrad(0.1)
    changed = collections.OrderedDict(learning_rate=0.5, epsilon=0.01)

    test_utils.assert_hparams_round_trip(self, optimizer, changed,
                                         ['preconditioner'])

  def test_set_hparams_raises_key_error_for_preconditioner(self):
    optimizer = adagrad.build_adagrad(0.1)

    with self.assertRaisesRegex(KeyError, r"unknown \['preconditioner'\]"):
      optimizer.set_hparams(optimizer.initialize(test_utils.SPECS),
                            {'preconditioner': 1.0})


class AdagradFinalizerTest(absltest.TestCase):

  def test_apply_optimizer_finalizer_over_two_rounds_with_hparams_changed(
      self):

    hparams, second = test_utils.run_finalizer_over_two_rounds(
        adagrad.build_adagrad(0.1), second_learning_rate=0.5)

    expected, s = _numpy_adagrad(
        test_utils.FINALIZER_WEIGHTS.trainable, test_utils.FINALIZER_UPDATES,
        [_DEFAULTS, dict(_DEFAULTS, learning_rate=0.5)])
    self.assertAlmostEqual(float(hparams['learning_rate']), 0.1, places=6)
    self.assertIsInstance(second.result, model_weights.ModelWeights)
    test_utils.assert_all_close(self, second.result.trainable, expected)
    test_utils.assert_all_close(self, second.state['preconditioner'], s)
    self.assertEqual(int(second.result.non_trainable[0]), 7)


if __name__ == '__main__':
  absltest.main()
