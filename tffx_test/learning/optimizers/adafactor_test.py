
from absl.testing import absltest
from absl.testing import parameterized
import numpy as np


from tffx.backends import reference
from tffx.computations import tensorflow_computation
from tffx.learning.optimizers import adafactor
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.types import computation_types as ct
from tffx.types import type_conversions
from tffx_test.learning.optimizers import optimizer_test_utils as test_utils

_DEFAULTS = dict(learning_rate=0.5, beta_2_decay=-0.8, epsilon_1=1e-30,
                 epsilon_2=1e-3, clip_threshold=1.0, relative_step=True)


def _rms(x):
  return np.sqrt(np.mean(np.square(x)))


def _adafactor_step(t, h, w, g, r, c, v):
  """Textbook Adafactor (Shazeer and Stern, Algorithms 4 and 5) in float64."""
  lr = min(h['learning_rate'], 1 / np.sqrt(t)) if h['relative_step'] else (
      h['learning_rate'])
  rho = min(lr, np.sqrt(t))
  alpha = max(h['epsilon_2'], _rms(w)) * rho
  g2 = g**2 + h['epsilon_1']
  beta = 1 - t**h['beta_2_decay']
  if w.ndim < 2:
    v = beta * v + (1 - beta) * g2
  else:
    r = beta * r + (1 - beta) * g2.mean(axis=-1)
    c = beta * c + (1 - beta) * g2.mean(axis=-2)
    v = np.outer(r / r.mean(), c)
  u = g / np.sqrt(v)
  u = u / max(1.0, _rms(u) / h['clip_threshold'])
  return w - alpha * u, r, c, v


def _zeros_r(w):
  return np.zeros(w.shape[:-1] if w.ndim >= 2 else [0])


def _zeros_c(w):
  return np.zeros(w.shape[-1:] if w.ndim >= 2 else [0])


class AdafactorTest(parameterized.TestCase):

  def test_build_adafactor_returns_optimizer(self):

    self.assertIsInstance(
        adafactor.build_adafactor(0.1), optimizer_base.Optimizer)

  @parameterized.named_parameters(
      ('negative_learning_rate', dict(learning_rate=-0.1), 'learning_rate'),
      ('positive_decay', dict(beta_2_decay=0.5), 'beta_2_decay'),
      ('negative_epsilon_2', dict(epsilon_2=-1.0), 'epsilon_2'),
      ('zero_clip', dict(clip_threshold=0.0), 'clip_threshold'),
  )
  def test_build_adafactor_raises_value_error(self, changes, message):
    kwargs = dict(_DEFAULTS, **changes)
    learning_rate = kwargs.pop('learning_rate')

    with self.assertRaisesRegex(ValueError, message):
      adafactor.build_adafactor(learning_rate, **kwargs)

  def test_initialize_factors_moments_of_matrices_only(self):
    optimizer = adafactor.build_adafactor(0.1)

    state = optimizer.initialize(test_utils.SPECS)

    self.assertEqual(list(state), ['steps', 'moments', 'hparams'])
    self.assertEqual(list(state['hparams']), list(_DEFAULTS))
    bias, kernel = state['moments']  # tf.nest order: sorted keys.
    self.assertEqual([kernel['r'].shape, kernel['c'].shape, kernel['v'].shape],
                     [[2], [2], [2, 2]])
    self.assertEqual([bias['r'].shape, bias['c'].shape, bias['v'].shape],
                     [[0], [0], [2]])

  @parameterized.named_parameters(
      ('relative_step', dict()),
      ('fixed_step', dict(relative_step=False, learning_rate=0.05)),
      ('tight_clip', dict(clip_threshold=0.1)),
  )
  def test_next_matches_numpy_over_five_steps(self, changes):
    hparams = dict(_DEFAULTS, **changes)
    kwargs = dict(hparams)
    optimizer = adafactor.build_adafactor(kwargs.pop('learning_rate'),
                                          **kwargs)
    state = optimizer.initialize(test_utils.SPECS)
    weights = test_utils.WEIGHTS

    for gradients in test_utils.GRADIENTS:
      state, weights = optimizer.next(state, weights, gradients)

    expected, _, _, v = test_utils.numpy_reference(
        _adafactor_step, test_utils.WEIGHTS, test_utils.GRADIENTS,
        [hparams] * len(test_utils.GRADIENTS),
        [_zeros_r, _zeros_c, np.zeros_like])
    test_utils.assert_all_close(self, weights, expected)
    test_utils.assert_all_close(self, [m['v'] for m in state['moments']], v)
    self.assertEqual(int(state['steps']), len(test_utils.GRADIENTS))

  def test_set_hparams_changes_following_steps(self):
    optimizer = adafactor.build_adafactor(0.5)
    state = optimizer.initialize(test_utils.SPECS)

    state = optimizer.set_hparams(state, {'relative_step': False,
                                          'learning_rate': 0.01})
    _, weights = optimizer.next(state, test_utils.WEIGHTS,
                                test_utils.GRADIENTS[0])

    hparams = dict(_DEFAULTS, relative_step=False, learning_rate=0.01)
    expected, *_ = test_utils.numpy_reference(
        _adafactor_step, test_utils.WEIGHTS, test_utils.GRADIENTS[:1],
        [hparams], [_zeros_r, _zeros_c, np.zeros_like])
    test_utils.assert_all_close(self, weights, expected)
    self.assertEqual(list(optimizer.get_hparams(state)), list(_DEFAULTS))

  def test_next_runs_as_tf_computation(self):
    optimizer = adafactor.build_adafactor(0.5)
    weights_type = type_conversions.infer_type(test_utils.WEIGHTS)
    with reference.create_reference_execution_context():
      init_tf = tensorflow_computation.tf_computation(
          lambda: optimizer.initialize(
              type_conversions.to_tf_spec(weights_type)))
      next_tf = tensorflow_computation.tf_computation(
          optimizer.next, init_tf.type_signature.result, weights_type,
          weights_type)
      state = init_tf()
      weights = test_utils.WEIGHTS
      for gradients in test_utils.GRADIENTS[:2]:
        state, weights = next_tf(state, weights, gradients)

    expected, *_ = test_utils.numpy_reference(
        _adafactor_step, test_utils.WEIGHTS, test_utils.GRADIENTS[:2],
        [_DEFAULTS] * 2, [_zeros_r, _zeros_c, np.zeros_like])
    test_utils.assert_all_close(self, weights, expected)
    self.assertIsInstance(init_tf.type_signature.result, ct.StructType)



if __name__ == '__main__':
  absltest.main()
