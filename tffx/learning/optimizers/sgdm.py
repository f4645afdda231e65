"""Stochastic gradient descent, with optional momentum (`build_sgdm`).

Without momentum:            w <- w - lr * g
With momentum m (in [0,1)):  a <- m * a + g ;  w <- w - lr * a

State: `OrderedDict(learning_rate=float32)`, plus `momentum=float32` and
`accumulator=<zeros like the weights>` when momentum is enabled (not None
and not 0, as in TFF). A `None` gradient leaves its weight (and
accumulator) unchanged. The
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
    if momentum:
      hparams.append((MOMENTUM_KEY, momentum))
    super().__init__('SGD', hparams)
    self._with_momentum = bool(momentum)

  def initialize(self, specs):
    state = self.hparams_state()
    if self._with_momentum:
      state[ACCUMULATOR_KEY] = optimizer.filled_like(specs, 0.0)
    return state

  def next(self, state, weights, gradients):
    new_state = self.get_hparams(state)
    learning_rate = state[LEARNING_RATE_KEY]
    if not self._with_momentum:
      gradients = optimizer.prepare_step(state, weights, gradients)
      new_weights, = optimizer.map_step(
          lambda w, g: (w - tf.cast(learning_rate, w.dtype) * g,), weights,
          gradients)
      return new_state, new_weights
    gradients = optimizer.prepare_step(state, weights, gradients,
                                       (ACCUMULATOR_KEY,))
    momentum = state[MOMENTUM_KEY]

    def update(w, g, a):
      a = tf.cast(momentum, a.dtype) * a + g
      return w - tf.cast(learning_rate, w.dtype) * a, a

    new_weights, accumulator = optimizer.map_step(update, weights, gradients,
                                                  state[ACCUMULATOR_KEY])
    new_state[ACCUMULATOR_KEY] = accumulator
    return new_state, new_weights


def build_sgdm(learning_rate: float = 0.01,
               momentum=None) -> optimizer.Optimizer:
  """Returns an SGD optimizer, with momentum unless `momentum` is None.

  Args:
    learning_rate: A non-negative float.
    momentum: None or 0 (plain SGD: no momentum or accumulator in the state,
      as in TFF) or a float in (0, 1).

  Raises:
    ValueError: if `learning_rate` is negative or `momentum` is outside
      [0, 1).
  """
  optimizer.check_non_negative(learning_rate, 'learning_rate')
  if momentum is not None and not 0 <= momentum < 1:
    raise ValueError(
        f'Expected momentum in [0, 1) or None, found {momentum}.')
  return _SGD(learning_rate, momentum)
