import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import tensorflow_computation
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.learning.optimizers import sgdm
from tffx.types import computation_types as ct
from tffx.types import type_conversions
from tffx_test.learning.optimizers import optimizer_test_utils as test_utils

_SPECS = [tf.TensorSpec([2], tf.float32), tf.TensorSpec([], tf.float32)]
_WEIGHTS = [np.array([1.0, -1.0], np.float32), np.float32(0.5)]
_GRADIENTS = [
    [np.array([0.5, 0.25], np.float32), np.float32(1.0)],
    [np.array([-1.0, 2.0], np.float32), np.float32(0.0)],
]


def _sgdm_step(t, h, w, g, a):
  """Textbook SGD (with momentum unless it is None) on one float64 weight."""
  del t  # SGD does not count steps.
  if h['momentum'] is None:
    return w - h['learning_rate'] * g, a
  a = h['momentum'] * a + g
  return w - h['learning_rate'] * a, a


def _numpy_sgdm(weights, gradients_per_step, learning_rate, momentum):
  """Textbook SGD over flat lists; returns the weights."""
  hparams = dict(learning_rate=learning_rate, momentum=momentum)
  weights, _ = test_utils.numpy_reference(
      _sgdm_step, weights, gradients_per_step,
      [hparams] * len(gradients_per_step), [np.zeros_like])
  return weights


class SgdmTest(parameterized.TestCase):

  def test_build_sgdm_returns_optimizer(self):

    self.assertIsInstance(sgdm.build_sgdm(), optimizer_base.Optimizer)

  @parameterized.named_parameters(
      ('negative_learning_rate', -0.1, None),
      ('momentum_of_one', 0.1, 1.0),
      ('negative_momentum', 0.1, -0.5),
  )
  def test_build_sgdm_raises_value_error(self, learning_rate, momentum):

    with self.assertRaises(ValueError):
      sgdm.build_sgdm(learning_rate, momentum)

  @parameterized.named_parameters(
      ('plain', None, ['learning_rate']),
      ('momentum', 0.9, ['learning_rate', 'momentum', 'accumulator']),
      ('zero_momentum', 0.0, ['learning_rate']),
  )
  def test_initialize_state_keys(self, momentum, keys):
    optimizer = sgdm.build_sgdm(0.1, momentum)

    state = optimizer.initialize(_SPECS)

    self.assertIsInstance(state, collections.OrderedDict)
    self.assertEqual(list(state), keys)
    self.assertEqual(state['learning_rate'].dtype, tf.float32)
    if momentum:
      np.testing.assert_array_equal(state['accumulator'][0], [0.0, 0.0])
      self.assertEqual(state['accumulator'][1].shape, ())

  @parameterized.named_parameters(
      ('plain', None),
      ('momentum', 0.9),
  )
  def test_next_matches_numpy_over_two_steps(self, momentum):
    optimizer = sgdm.build_sgdm(0.1, momentum)
    state = optimizer.initialize(_SPECS)
    weights = _WEIGHTS

    for gradients in _GRADIENTS:
      state, weights = optimizer.next(state, weights, gradients)

    expected = _numpy_sgdm(_WEIGHTS, _GRADIENTS, 0.1, momentum)
    for actual, wanted in zip(weights, expected):
      np.testing.assert_allclose(actual, wanted, rtol=1e-6)

  def test_next_keeps_float64_weights(self):
    optimizer = sgdm.build_sgdm(0.5, 0.5)
    specs = [tf.TensorSpec([], tf.float64)]
    state = optimizer.initialize(specs)

    _, weights = optimizer.next(state, [tf.constant(1.0, tf.float64)],
                                [tf.constant(2.0, tf.float64)])

    self.assertEqual(weights[0].dtype, tf.float64)
    self.assertAlmostEqual(float(weights[0]), 0.0)

  def test_next_raises_value_error_for_mismatched_gradients(self):
    optimizer = sgdm.build_sgdm(0.1)
    state = optimizer.initialize(_SPECS)

    with self.assertRaises(ValueError):
      optimizer.next(state, _WEIGHTS, [1.0])

  @parameterized.named_parameters(
      ('plain', None, {'learning_rate': 0.1}),
      ('momentum', 0.9, {'learning_rate': 0.1, 'momentum': 0.9}),
  )
  def test_get_hparams(self, momentum, expected):
    optimizer = sgdm.build_sgdm(0.1, momentum)

    hparams = optimizer.get_hparams(optimizer.initialize(_SPECS))

    self.assertEqual(list(hparams), list(expected))
    for key, value in expected.items():
      self.assertAlmostEqual(float(hparams[key]), value, places=6)

  def test_set_hparams_changes_following_steps(self):
    optimizer = sgdm.build_sgdm(0.1, 0.9)
    state = optimizer.initialize(_SPECS)

    state = optimizer.set_hparams(state, {'learning_rate': 1.0,
                                          'momentum': 0.0})
    _, weights = optimizer.next(state, _WEIGHTS, _GRADIENTS[0])

    expected = _numpy_sgdm(_WEIGHTS, _GRADIENTS[:1], 1.0, 0.0)
    np.testing.assert_allclose(weights[0], expected[0], rtol=1e-6)
    self.assertEqual(state['momentum'].dtype, tf.float32)

  def test_set_hparams_raises_key_error_for_momentum_without_momentum(self):
    optimizer = sgdm.build_sgdm(0.1)

    with self.assertRaisesRegex(KeyError, r'momentum'):
      optimizer.set_hparams(optimizer.initialize(_SPECS), {'momentum': 0.5})


class SgdmTracingTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_next_runs_as_tf_computation(self):
    optimizer = sgdm.build_sgdm(0.1, 0.9)
    weights_type = ct.to_type([ct.TensorType(np.float32, [2]), np.float32])
    init_tf = tensorflow_computation.tf_computation(
        lambda: optimizer.initialize(type_conversions.to_tf_spec(weights_type)))
    next_tf = tensorflow_computation.tf_computation(
        optimizer.next, init_tf.type_signature.result, weights_type,
        weights_type)
    state = init_tf()
    weights = _WEIGHTS

    for gradients in _GRADIENTS:
      state, weights = next_tf(state, weights, gradients)

    self.assertEqual(str(init_tf.type_signature.result),
                     '<learning_rate=float32,momentum=float32,'
                     'accumulator=<float32[2],float32>>')
    expected = _numpy_sgdm(_WEIGHTS, _GRADIENTS, 0.1, 0.9)
    for actual, wanted in zip(weights, expected):
      np.testing.assert_allclose(actual, wanted, rtol=1e-6)


if __name__ == '__main__':
  absltest.main()
