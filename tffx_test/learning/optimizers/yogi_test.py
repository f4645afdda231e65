import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.learning.models import model_weights
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.learning.optimizers import yogi
from tffx.learning.templates import finalizers
from tffx.types import computation_types as ct

_SPECS = collections.OrderedDict(
    kernel=tf.TensorSpec([2, 2], tf.float32),
    bias=[tf.TensorSpec([2], tf.float32)])
_WEIGHTS = collections.OrderedDict(
    kernel=np.array([[1.0, -2.0], [0.5, 3.0]], np.float32),
    bias=[np.array([0.25, -1.0], np.float32)])


def _random_gradients(scales):
  """One structure like `_WEIGHTS` per scale, normal with that deviation."""
  random = np.random.RandomState(0)
  return [
      tf.nest.map_structure(
          lambda w: (scale * random.normal(size=w.shape)).astype(np.float32),
          _WEIGHTS) for scale in scales
  ]


# The small fourth step makes g**2 < s, so the preconditioner also shrinks.
_GRADIENTS = _random_gradients([1.0, 0.5, 2.0, 0.1, 1.0])
_DEFAULTS = dict(learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-3)


def _numpy_yogi(weights, gradients_per_step, hparams_per_step,
                initial_preconditioner_value=1e-6):
  """Textbook Yogi in float64 over flat lists; returns (weights, acc, s)."""
  weights = [np.asarray(w, np.float64) for w in tf.nest.flatten(weights)]
  acc = [np.zeros_like(w) for w in weights]
  s = [np.full_like(w, initial_preconditioner_value) for w in weights]
  for t, (gradients, h) in enumerate(
      zip(gradients_per_step, hparams_per_step), start=1):
    g = [np.asarray(x, np.float64) for x in tf.nest.flatten(gradients)]
    acc = [h['beta_1'] * a + (1 - h['beta_1']) * gi for a, gi in zip(acc, g)]
    s = [si + (1 - h['beta_2']) * np.sign(gi**2 - si) * gi**2
         for si, gi in zip(s, g)]
    lr_t = (h['learning_rate'] * np.sqrt(1 - h['beta_2']**t) /
            (1 - h['beta_1']**t))
    weights = [w - lr_t * a / (np.sqrt(si) + h['epsilon'])
               for w, a, si in zip(weights, acc, s)]
  return weights, acc, s


def _assert_all_close(test, actual, expected):
  actual = tf.nest.flatten(actual)
  test.assertLen(actual, len(expected))
  for a, e in zip(actual, expected):
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


class YogiTest(parameterized.TestCase):

  def test_build_yogi_returns_optimizer(self):

    self.assertIsInstance(yogi.build_yogi(0.1), optimizer_base.Optimizer)

  @parameterized.named_parameters(
      ('negative_learning_rate', dict(learning_rate=-0.1),
       'non-negative learning_rate'),
      ('nan_learning_rate', dict(learning_rate=float('nan')),
       'non-negative learning_rate'),
      ('beta_1_of_one', dict(beta_1=1.0), r'beta_1 in \[0, 1\)'),
      ('negative_beta_1', dict(beta_1=-0.1), r'beta_1 in \[0, 1\)'),
      ('beta_2_above_one', dict(beta_2=1.5), r'beta_2 in \[0, 1\)'),
      ('negative_epsilon', dict(epsilon=-1e-3), 'non-negative epsilon'),
      ('zero_initial_preconditioner_value',
       dict(initial_preconditioner_value=0.0),
       'positive initial_preconditioner_value'),
  )
  def test_build_yogi_raises_value_error(self, changes, message):
    kwargs = dict(_DEFAULTS, **changes)

    with self.assertRaisesRegex(ValueError, message):
      yogi.build_yogi(**kwargs)

  def test_initialize_state_structure(self):
    optimizer = yogi.build_yogi(
        0.1, beta_1=0.5, beta_2=0.75, epsilon=1e-2,
        initial_preconditioner_value=0.25)

    state = optimizer.initialize(_SPECS)

    self.assertIsInstance(state, collections.OrderedDict)
    self.assertEqual(list(state), [
        'learning_rate', 'beta_1', 'beta_2', 'epsilon', 'step', 'accumulator',
        'preconditioner'
    ])
    for key, value in dict(learning_rate=0.1, beta_1=0.5, beta_2=0.75,
                           epsilon=1e-2).items():
      self.assertEqual(state[key].dtype, tf.float32)
      self.assertAlmostEqual(float(state[key]), value, places=6)
    self.assertEqual(state['step'].dtype, tf.int32)
    self.assertEqual(int(state['step']), 0)
    for key, value in (('accumulator', 0.0), ('preconditioner', 0.25)):
      self.assertEqual(list(state[key]), ['kernel', 'bias'])
      np.testing.assert_array_equal(state[key]['kernel'],
                                    np.full([2, 2], value))
      np.testing.assert_array_equal(state[key]['bias'][0], np.full([2], value))

  @parameterized.named_parameters(
      ('learning_rate', dict(learning_rate=0.5)),
      ('betas', dict(beta_1=0.5, beta_2=0.9)),
      ('epsilon', dict(epsilon=0.1)),
  )
  def test_next_matches_numpy_over_five_steps_with_hparams_changed(
      self, changes):
    optimizer = yogi.build_yogi(**_DEFAULTS)
    state = optimizer.initialize(_SPECS)
    weights = _WEIGHTS
    hparams_per_step = [_DEFAULTS] * 2 + [dict(_DEFAULTS, **changes)] * 3

    for step, gradients in enumerate(_GRADIENTS):
      if step == 2:
        state = optimizer.set_hparams(state, changes)
      state, weights = optimizer.next(state, weights, gradients)

    expected, acc, s = _numpy_yogi(_WEIGHTS, _GRADIENTS, hparams_per_step)
    self.assertIsInstance(weights, collections.OrderedDict)
    self.assertEqual(list(weights), ['kernel', 'bias'])
    _assert_all_close(self, weights, expected)
    _assert_all_close(self, state['accumulator'], acc)
    _assert_all_close(self, state['preconditioner'], s)
    self.assertEqual(int(state['step']), 5)

  def test_next_shrinks_preconditioner_additively_for_small_gradients(self):
    optimizer = yogi.build_yogi(0.1, beta_2=0.5,
                                initial_preconditioner_value=4.0)
    state = optimizer.initialize([tf.TensorSpec([], tf.float32)])

    state, _ = optimizer.next(state, [np.float32(1.0)], [np.float32(1.0)])

    # s <- s + (1 - beta_2) * sign(g**2 - s) * g**2 = 4 - 0.5 * 1; Adam's
    # multiplicative rule would give 0.5 * 4 + 0.5 * 1 = 2.5 instead.
    self.assertAlmostEqual(float(state['preconditioner'][0]), 3.5, places=6)

  def test_next_keeps_float64_weights(self):
    optimizer = yogi.build_yogi(0.1)
    state = optimizer.initialize([tf.TensorSpec([], tf.float64)])

    _, weights = optimizer.next(state, [tf.constant(1.0, tf.float64)],
                                [tf.constant(0.5, tf.float64)])

    expected, _, _ = _numpy_yogi([1.0], [[0.5]], [_DEFAULTS])
    self.assertEqual(weights[0].dtype, tf.float64)
    # Only the hyperparameters are float32 (rounded by ~1e-8).
    np.testing.assert_allclose(weights[0], expected[0], rtol=1e-7)

  def test_next_raises_value_error_for_mismatched_gradients(self):
    optimizer = yogi.build_yogi(0.1)
    state = optimizer.initialize(_SPECS)

    with self.assertRaisesRegex(ValueError, 'the gradients to have the'):
      optimizer.next(state, _WEIGHTS, [np.zeros([2, 2], np.float32)])

  def test_next_raises_value_error_for_state_of_other_weights(self):
    optimizer = yogi.build_yogi(0.1)
    state = optimizer.initialize([tf.TensorSpec([2], tf.float32)])

    with self.assertRaisesRegex(ValueError, 'the accumulator in the state'):
      optimizer.next(state, _WEIGHTS, _GRADIENTS[0])

  def test_get_hparams_set_hparams_round_trip(self):
    optimizer = yogi.build_yogi(0.1)
    state = optimizer.initialize(_SPECS)
    changed = collections.OrderedDict(
        learning_rate=0.5, beta_1=0.25, beta_2=0.75, epsilon=0.01)

    same = optimizer.set_hparams(state, optimizer.get_hparams(state))
    updated = optimizer.set_hparams(state, changed)
    hparams = optimizer.get_hparams(updated)

    self.assertEqual(list(same), list(state))
    for key in changed:
      self.assertEqual(float(same[key]), float(state[key]))
    self.assertEqual(list(hparams), list(changed))
    for key, value in changed.items():
      self.assertEqual(hparams[key].dtype, tf.float32)
      self.assertAlmostEqual(float(hparams[key]), value, places=6)
    self.assertIs(updated['preconditioner'], state['preconditioner'])
    self.assertIs(updated['step'], state['step'])

  def test_set_hparams_raises_key_error_for_initial_preconditioner_value(self):
    optimizer = yogi.build_yogi(0.1)

    with self.assertRaisesRegex(KeyError, 'initial_preconditioner_value'):
      optimizer.set_hparams(optimizer.initialize(_SPECS),
                            {'initial_preconditioner_value': 1.0})


class YogiFinalizerTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_apply_optimizer_finalizer_over_two_rounds_with_hparams_changed(
      self):
    weights_type = ct.to_type(
        model_weights.ModelWeights(
            [ct.TensorType(np.float32, [2]), np.float32], [np.int32]))
    process = finalizers.build_apply_optimizer_finalizer(
        yogi.build_yogi(0.1), weights_type)
    weights = model_weights.ModelWeights(
        [np.array([1.0, -2.0], np.float32), np.float32(0.5)], [np.int32(7)])
    updates = [[np.array([0.5, -1.0], np.float32), np.float32(2.0)],
               [np.array([1.0, 0.25], np.float32), np.float32(-1.0)]]

    first = process.next(process.initialize(), weights, updates[0])
    hparams = process.get_hparams(first.state)
    changed = process.set_hparams(
        first.state, collections.OrderedDict(hparams, learning_rate=0.5))
    second = process.next(changed, first.result, updates[1])

    expected, _, s = _numpy_yogi(
        weights.trainable, updates,
        [_DEFAULTS, dict(_DEFAULTS, learning_rate=0.5)])
    self.assertAlmostEqual(float(hparams['learning_rate']), 0.1, places=6)
    self.assertIsInstance(second.result, model_weights.ModelWeights)
    _assert_all_close(self, second.result.trainable, expected)
    _assert_all_close(self, second.state['preconditioner'], s)
    self.assertEqual(int(second.result.non_trainable[0]), 7)
    self.assertEqual(int(second.state['step']), 2)


if __name__ == '__main__':
  absltest.main()
