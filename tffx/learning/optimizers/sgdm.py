"""Stochastic gradient descent, with optional momentum (`build_sgdm`).

Without momentum:            w <- w - lr * g
With momentum m (in [0,1)):  a <- m * a + g ;  w <- w - lr * a

State: `OrderedDict(learning_rate=float32)`, plus `momentum=float32` and
`accumulator=<zeros like the weights>` when momentum is enabled. The
hyperparameters are `learning_rate` (and `momentum`).
"""

import collections

import tensorflow as tf

from tffx.learning.optimizers import optimizer

LEARNING_RATE_KEY = optimizer.LEARNING_RATE_KEY
MOMENTUM_KEY = 'momentum'
ACCUMULATOR_KEY = 'accumulator'


class _SGD(optimizer.Optimizer):
  """SGD with optional momentum; see the module docstring."""

  def __init__(self, learning_rate: float, momentum):
    self._learning_rate = learning_rate
    self._momentum = momentum
    self._hparams_keys = ((LEARNING_RATE_KEY,) if momentum is None else
                          (LEARNING_RATE_KEY, MOMENTUM_KEY))

  def initialize(self, specs):
    state = collections.OrderedDict(
        [(LEARNING_RATE_KEY, tf.constant(self._learning_rate, tf.float32))])
    if self._momentum is not None:
      state[MOMENTUM_KEY] = tf.constant(self._momentum, tf.float32)
      state[ACCUMULATOR_KEY] = tf.nest.map_structure(
          lambda s: tf.zeros(s.shape, s.dtype), specs)
    return state

  def next(self, state, weights, gradients):
    optimizer.check_structures_match(weights, gradients, 'the gradients')
    learning_rate = state[LEARNING_RATE_KEY]
    if self._momentum is None:
      new_weights = tf.nest.map_structure(
          lambda w, g: w - tf.cast(learning_rate, w.dtype) * g, weights,
          gradients)
      return collections.OrderedDict(
          [(LEARNING_RATE_KEY, learning_rate)]), new_weights
    momentum = state[MOMENTUM_KEY]
    accumulator = tf.nest.map_structure(
        lambda a, g: tf.cast(momentum, a.dtype) * a + g,
        state[ACCUMULATOR_KEY], gradients)
    new_weights = tf.nest.map_structure(
        lambda w, a: w - tf.cast(learning_rate, w.dtype) * a, weights,
        accumulator)
    new_state = collections.OrderedDict([(LEARNING_RATE_KEY, learning_rate),
                                         (MOMENTUM_KEY, momentum),
                                         (ACCUMULATOR_KEY, accumulator)])
    return new_state, new_weights

  def get_hparams(self, state):
    return collections.OrderedDict((k, state[k]) for k in self._hparams_keys)

  def set_hparams(self, state, hparams):
    return optimizer.replace_hparams(state, hparams, self._hparams_keys,
                                     'SGD')


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
  if not learning_rate >= 0:
    raise ValueError(
        f'Expected a non-negative learning_rate, found {learning_rate}.')
  if momentum is not None and not 0 <= momentum < 1:
    raise ValueError(
        f'Expected momentum in [0, 1) or None, found {momentum}.')
  return _SGD(learning_rate, momentum)
