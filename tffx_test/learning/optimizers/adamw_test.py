import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.learning.optimizers import adamw
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx_test.learning.optimizers import optimizer_test_utils as test_utils

_DEFAULTS = dict(learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=0.05)


def _adamw_step(t, h, w, g, acc, s):
  """Textbook AdamW (decoupled decay) on one float64 weight at step t."""
  acc = h['beta_1'] * acc + (1 - h['beta_1']) * g
  s = h['beta_2'] * s + (1 - h['beta_2']) * g**2
  normalization = np.sqrt(1 - h['beta_2']**t) / (1 - h['beta_1']**t)
  w = w - h['learning_rate'] * (
      normalization * acc / (np.sqrt(s) + h['epsilon']) + h['weight_decay'] * w)
  return w, acc, s


class AdamWTest(parameterized.TestCase):

  def test_build_adamw_returns_optimizer(self):

    self.assertIsInstance(adamw.build_adamw(0.1), optimizer_base.Optimizer)

  @parameterized.named_parameters(
      ('negative_learning_rate', dict(learning_rate=-0.1), 'learning_rate'),
      ('beta_1_of_one', dict(beta_1=1.0), 'beta_1'),
      ('negative_epsilon', dict(epsilon=-1.0), 'epsilon'),
      ('negative_weight_decay', dict(weight_decay=-0.1), 'weight_decay'),
  )
  def test_build_adamw_raises_value_error(self, changes, message):

    with self.assertRaisesRegex(ValueError, message):
      adamw.build_adamw(**dict(_DEFAULTS, **changes))

  def test_initialize_state_has_tff_keys_in_order(self):
    optimizer = adamw.build_adamw(**_DEFAULTS)

    state = optimizer.initialize(test_utils.SPECS)

    self.assertIsInstance(state, collections.OrderedDict)
    self.assertEqual(list(state), [
        'learning_rate', 'beta_1', 'beta_2', 'epsilon', 'step', 'accumulator',
        'preconditioner', 'weight_decay'
    ])
    test_utils.assert_float32_scalars(self, state, _DEFAULTS)
    self.assertEqual(list(optimizer.get_hparams(state)), [
        'learning_rate', 'beta_1', 'beta_2', 'epsilon', 'weight_decay'
    ])

  @parameterized.named_parameters(
      ('learning_rate', dict(learning_rate=0.5)),
      ('weight_decay', dict(weight_decay=0.2)),
      ('betas', dict(beta_1=0.5, beta_2=0.9)),
  )
  def test_next_matches_numpy_over_five_steps_with_hparams_changed(
      self, changes):
    optimizer = adamw.build_adamw(**_DEFAULTS)

    state, weights, hparams_per_step = (
        test_utils.run_steps_with_hparams_changed(optimizer, _DEFAULTS,
                                                  changes))

    expected, acc, s = test_utils.numpy_reference(
        _adamw_step, test_utils.WEIGHTS, test_utils.GRADIENTS,
        hparams_per_step, [np.zeros_like, np.zeros_like])
    test_utils.assert_all_close(self, weights, expected)
    test_utils.assert_all_close(self, state['accumulator'], acc)
    test_utils.assert_all_close(self, state['preconditioner'], s)
    self.assertEqual(int(state['step']), len(test_utils.GRADIENTS))

  def test_next_with_zero_weight_decay_is_adam(self):
    optimizer = adamw.build_adamw(0.1, weight_decay=0.0)
    hparams = dict(_DEFAULTS, weight_decay=0.0)

    _, weights, _ = test_utils.run_steps_with_hparams_changed(
        optimizer, hparams, {})

    expected, _, _ = test_utils.numpy_reference(
        _adamw_step, test_utils.WEIGHTS, test_utils.GRADIENTS,
        [hparams] * len(test_utils.GRADIENTS), [np.zeros_like, np.zeros_like])
    test_utils.assert_all_close(self, weights, expected)

  def test_hparams_round_trip(self):
    optimizer = adamw.build_adamw(**_DEFAULTS)

    test_utils.assert_hparams_round_trip(
        self, optimizer,
        collections.OrderedDict(learning_rate=0.5, beta_1=0.5, beta_2=0.75,
                                epsilon=0.01, weight_decay=0.5),
        ['step', 'accumulator', 'preconditioner'])

  def test_next_keeps_float64_weights(self):
    optimizer = adamw.build_adamw(0.5, weight_decay=0.1)

    weights = test_utils.run_one_float64_step(optimizer, 1.0, 2.0)

    # Step 1: acc = 0.1 * g, s = 0.001 * g**2.
    expected = 1.0 - 0.5 * (np.sqrt(0.001) / 0.1 * 0.2 /
                            (np.sqrt(0.004) + 1e-7) + 0.1 * 1.0)
    self.assertEqual(weights[0].dtype, tf.float64)
    self.assertAlmostEqual(float(weights[0]), expected, places=5)


if __name__ == '__main__':
  absltest.main()
