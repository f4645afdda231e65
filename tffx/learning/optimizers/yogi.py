"""Yogi (`build_yogi`, like `tff.learning.optimizers.build_yogi`).

Yogi (Zaheer et al., 2018) is Adam with an additive second-moment update:
the preconditioner `s` moves towards `g**2` by a step of
`(1 - beta_2) * g**2`, in the direction of the sign of `g**2 - s`, so it
can only grow as fast as the squared gradients allow and shrinks slowly.
At step t = 1, 2, ...:

    acc <- beta_1 * acc + (1 - beta_1) * g
    s   <- s + (1 - beta_2) * sign(g**2 - s) * g**2
    lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    w   <- w - lr_t * acc / (sqrt(s) + epsilon)

`s` starts at `initial_preconditioner_value` and `acc` at zero. Yogi's
default `epsilon` (1e-3) is much larger than Adam's; its learning rate is
typically about 10 times Adam's.

State, an `OrderedDict`: `learning_rate`, `beta_1`, `beta_2`, `epsilon`
(float32 scalars, the hyperparameters), `step` (int32), `accumulator` and
`preconditioner` (shaped like the weights). A change of hyperparameters
through `set_hparams` applies from the following step on; the moments and
the step count are kept.
"""

import collections

import tensorflow as tf

from tffx.learning.optimizers import optimizer

LEARNING_RATE_KEY = optimizer.LEARNING_RATE_KEY
BETA_1_KEY = 'beta_1'
BETA_2_KEY = 'beta_2'
EPSILON_KEY = 'epsilon'
STEP_KEY = 'step'
ACCUMULATOR_KEY = 'accumulator'
PRECONDITIONER_KEY = 'preconditioner'
_HPARAMS_KEYS = (LEARNING_RATE_KEY, BETA_1_KEY, BETA_2_KEY, EPSILON_KEY)


class _Yogi(optimizer.Optimizer):
  """Yogi; see the module docstring."""

  def __init__(self, learning_rate, beta_1, beta_2, epsilon,
               initial_preconditioner_value):
    self._hparams = collections.OrderedDict(
        zip(_HPARAMS_KEYS, (learning_rate, beta_1, beta_2, epsilon)))
    self._initial_preconditioner_value = initial_preconditioner_value

  def initialize(self, specs):
    state = collections.OrderedDict(
        (k, tf.constant(v, tf.float32)) for k, v in self._hparams.items())
    state[STEP_KEY] = tf.constant(0, tf.int32)
    state[ACCUMULATOR_KEY] = optimizer.filled_like(specs, 0.0)
    state[PRECONDITIONER_KEY] = optimizer.filled_like(
        specs, self._initial_preconditioner_value)
    return state

  def next(self, state, weights, gradients):
    optimizer.check_structures_match(weights, gradients, 'the gradients')
    for key in (ACCUMULATOR_KEY, PRECONDITIONER_KEY):
      optimizer.check_structures_match(weights, state[key],
                                       f'the {key} in the state')
    lr, beta_1, beta_2, epsilon = (state[k] for k in _HPARAMS_KEYS)
    step = state[STEP_KEY] + 1

    def average(a, g):
      b_1 = tf.cast(beta_1, a.dtype)
      return b_1 * a + (1 - b_1) * g

    def additive(s, g):
      g2 = tf.square(g)
      return s + (1 - tf.cast(beta_2, s.dtype)) * tf.sign(g2 - s) * g2

    accumulator = tf.nest.map_structure(
        average, state[ACCUMULATOR_KEY], gradients, check_types=False)
    preconditioner = tf.nest.map_structure(
        additive, state[PRECONDITIONER_KEY], gradients, check_types=False)

    def update(w, a, s):
      lr_w, b_1, b_2, eps = (
          tf.cast(h, w.dtype) for h in (lr, beta_1, beta_2, epsilon))
      t = tf.cast(step, w.dtype)
      corrected_lr = lr_w * tf.sqrt(1 - b_2**t) / (1 - b_1**t)
      return w - corrected_lr * a / (tf.sqrt(s) + eps)

    new_weights = tf.nest.map_structure(
        update, weights, accumulator, preconditioner, check_types=False)
    new_state = collections.OrderedDict((k, state[k]) for k in _HPARAMS_KEYS)
    new_state[STEP_KEY] = step
    new_state[ACCUMULATOR_KEY] = accumulator
    new_state[PRECONDITIONER_KEY] = preconditioner
    return new_state, new_weights

  def get_hparams(self, state):
    return collections.OrderedDict((k, state[k]) for k in _HPARAMS_KEYS)

  def set_hparams(self, state, hparams):
    return optimizer.replace_hparams(state, hparams, _HPARAMS_KEYS, 'Yogi')


def build_yogi(learning_rate: float,
               beta_1: float = 0.9,
               beta_2: float = 0.999,
               epsilon: float = 1e-3,
               initial_preconditioner_value: float = 1e-6
               ) -> optimizer.Optimizer:
  """Returns a Yogi optimizer (update rule in the module docstring).

  Args:
    learning_rate: A non-negative float.
    beta_1: The decay of the moving average of the gradients, in [0, 1).
    beta_2: The rate at which the preconditioner follows the squared
      gradients, in [0, 1).
    epsilon: A non-negative float added to the denominator; it trades off
      adaptivity against noise.
    initial_preconditioner_value: A positive float, the starting value of
      every entry of the preconditioner.

  Raises:
    ValueError: if `learning_rate` or `epsilon` is negative, a beta is
      outside [0, 1), or `initial_preconditioner_value` is not positive.
  """
  optimizer.check_non_negative(learning_rate, 'learning_rate')
  optimizer.check_unit_interval(beta_1, 'beta_1')
  optimizer.check_unit_interval(beta_2, 'beta_2')
  optimizer.check_non_negative(epsilon, 'epsilon')
  optimizer.check_positive(initial_preconditioner_value,
                           'initial_preconditioner_value')
  return _Yogi(learning_rate, beta_1, beta_2, epsilon,
               initial_preconditioner_value)
