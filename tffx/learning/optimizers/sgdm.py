"""Stochastic gradient descent, with optional momentum (`build_sgdm`).

Without momentum:            w <- w - lr * g
With momentum m (in [0,1)):  a <- m * a + g ;  w <- w - lr * a

State: `OrderedDict(learning_rate=float32)`, plus `momentum=float32` and
`accumulator=<zeros like the weights>` when momentum is enabled. The
hyperparameters are `learning_rate` (and `momentum`).
"""

import tensorflow as tf

from tffx.learning.optimizers import optimizer

LEARNING_RATE_KEY = optimizer.LEARNING_RATE_KEY
MOMENTUM_KEY = 'momentum'
ACCUMULATOR_KEY = 'accumulator'


class _SGD(optimizer.HparamsOptimizer):
  """SGD with optional momentum; see the module docstring."""

  def __init__(self, learning_rate: float, momentum):
    hparams = [(LEARNING_RATE_KEY, learning_rate)]
    if momentum is not None:
      hparams.append((MOMENTUM_KEY, momentum))
    super().__init__('SGD', hparams)
    self._momentum = momentum

  def initialize(self, specs):
    state = self.hparams_state()
    if self._momentum is not None:
      state[ACCUMULATOR_KEY] = tf.nest.map_structure(
          lambda s: tf.zeros(s.shape, s.dtype), specs)
    return state

  def next(self, state, weights, gradients):
    optimizer.check_structures_match(weights, gradients, 'the gradients')
    learning_rate = state[LEARNING_RATE_KEY]
    new_state = self.get_hparams(state)
    if self._momentum is None:
      new_weights = tf.nest.map_structure(
          lambda w, g: w - tf.cast(learning_rate, w.dtype) * g, weights,
          gradients)
      return new_state, new_weights
    momentum = state[MOMENTUM_KEY]
    accumulator = tf.nest.map_structure(
        lambda a, g: tf.cast(momentum, a.dtype) * a + g,
        state[ACCUMULATOR_KEY], gradients)
    new_weights = tf.nest.map_structure(
        lambda w, a: w - tf.cast(learning_rate, w.dtype) * a, weights,
        accumulator)
    new_state[ACCUMULATOR_KEY] = accumulator
    return new_state, new_weights


def build_sgdm(learning_rate: float = 0.01,
               momentum=None) -> optimizer.Optimizer:
  """Returns an SGD optimizer, with momentum unless `momentum` is None.

  Args:
    learning_rate: A non-negative float.
    momentum: None (plain SGD, no accumulator in the state) or a float in
      [0, 1). With 0.0 the state keeps an accumulator, so momentum can be
      raised later with `set_hparams`.

  Raises:
    ValueError: if `learning_rate` is negative or `momentum` is outside
      [0, 1).
  """
  optimizer.check_non_negative(learning_rate, 'learning_rate')
  if momentum is not None and not 0 <= momentum < 1:
    raise ValueError(
        f'Expected momentum in [0, 1) or None, found {momentum}.')
  return _SGD(learning_rate, momentum)
