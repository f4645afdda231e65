import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import tensorflow_computation
from tffx.learning.optimizers import adam
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.learning.optimizers import scheduling
from tffx.learning.optimizers import sgdm
from tffx.types import computation_types as ct
from tffx.types import type_conversions


def _halving(round_num):
  return 1.0 / tf.pow(2.0, tf.cast(round_num, tf.float32))


class _NoLearningRate(optimizer_base.Optimizer):

  def initialize(self, specs):
    return collections.OrderedDict(step=tf.constant(0))

  def next(self, state, weights, gradients):
    return state, weights

  def get_hparams(self, state):
    return collections.OrderedDict()

  def set_hparams(self, state, hparams):
    return state


class ScheduleLearningRateTest(absltest.TestCase):

  def test_next_uses_schedule_of_step_index_over_four_steps(self):
    optimizer = scheduling.schedule_learning_rate(sgdm.build_sgdm(9.0),
                                                  _halving)
    state = optimizer.initialize([tf.TensorSpec([2], tf.float32)])
    weights = [np.array([1.0, -1.0], np.float32)]
    gradients = [np.array([1.0, 2.0], np.float32)]

    for _ in range(4):
      state, weights = optimizer.next(state, weights, gradients)

    # Learning rates 1, 1/2, 1/4, 1/8 (numpy textbook SGD).
    expected = np.array([1.0, -1.0]) - sum(0.5**i for i in range(4)) * np.array(
        [1.0, 2.0])
    np.testing.assert_allclose(weights[0], expected, rtol=1e-6)
    self.assertEqual(list(state), ['round_num', 'optimizer'])
    self.assertEqual(int(state['round_num']), 4)
    self.assertAlmostEqual(float(state['optimizer']['learning_rate']), 1 / 16)

  def test_next_schedules_adam_like_numpy(self):
    optimizer = scheduling.schedule_learning_rate(adam.build_adam(1.0),
                                                  _halving)
    state = optimizer.initialize([tf.TensorSpec([], tf.float32)])
    weights = [np.float32(1.0)]
    gradients_per_step = [2.0, -1.0, 0.5]
    w, acc, s = 1.0, 0.0, 0.0

    for t, g in enumerate(gradients_per_step, start=1):
      state, weights = optimizer.next(state, weights, [np.float32(g)])
      acc = 0.9 * acc + 0.1 * g
      s = 0.999 * s + 0.001 * g**2
      lr = 0.5**(t - 1) * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
      w -= lr * acc / (np.sqrt(s) + 1e-7)

    self.assertAlmostEqual(float(weights[0]), w, places=5)

  def test_get_hparams_leaves_out_learning_rate(self):
    optimizer = scheduling.schedule_learning_rate(
        sgdm.build_sgdm(0.1, momentum=0.9), _halving)
    state = optimizer.initialize([tf.TensorSpec([], tf.float32)])

    hparams = optimizer.get_hparams(state)
    changed = optimizer.set_hparams(state, {'momentum': 0.5})

    self.assertEqual(list(hparams), ['momentum'])
    self.assertAlmostEqual(float(changed['optimizer']['momentum']), 0.5)
    with self.assertRaises(KeyError):
      optimizer.set_hparams(state, {'learning_rate': 0.5})

  def test_initialize_raises_key_error_without_learning_rate(self):
    optimizer = scheduling.schedule_learning_rate(_NoLearningRate(), _halving)

    with self.assertRaisesRegex(KeyError, 'learning_rate'):
      optimizer.initialize([tf.TensorSpec([], tf.float32)])

  def test_schedule_learning_rate_raises_type_error(self):

    with self.assertRaises(TypeError):
      scheduling.schedule_learning_rate(lambda: None, _halving)
    with self.assertRaises(TypeError):
      scheduling.schedule_learning_rate(sgdm.build_sgdm(0.1), 0.5)

  def test_next_runs_as_tf_computation(self):
    optimizer = scheduling.schedule_learning_rate(sgdm.build_sgdm(1.0),
                                                  _halving)
    weights_type = ct.to_type([ct.TensorType(np.float32, [2])])
    with reference.create_reference_execution_context():
      init_tf = tensorflow_computation.tf_computation(
          lambda: optimizer.initialize(
              type_conversions.to_tf_spec(weights_type)))
      next_tf = tensorflow_computation.tf_computation(
          optimizer.next, init_tf.type_signature.result, weights_type,
          weights_type)
      state = init_tf()
      weights = [np.zeros([2], np.float32)]
      for _ in range(3):
        state, weights = next_tf(state, weights, [np.ones([2], np.float32)])

    np.testing.assert_allclose(weights[0], [-1.75, -1.75], rtol=1e-6)


if __name__ == '__main__':
  absltest.main()
