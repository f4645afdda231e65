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

import tensorflow as tf

from tffx.learning.optimizers import adam
from tffx.learning.optimizers import optimizer

# Yogi's state has the keys of Adam's.
LEARNING_RATE_KEY = adam.LEARNING_RATE_KEY
BETA_1_KEY = adam.BETA_1_KEY
BETA_2_KEY = adam.BETA_2_KEY
EPSILON_KEY = adam.EPSILON_KEY
STEP_KEY = adam.STEP_KEY
ACCUMULATOR_KEY = adam.ACCUMULATOR_KEY
PRECONDITIONER_KEY = adam.PRECONDITIONER_KEY
_HPARAMS_KEYS = (LEARNING_RATE_KEY, BETA_1_KEY, BETA_2_KEY, EPSILON_KEY)


class _Yogi(optimizer.HparamsOptimizer):
  """Yogi; see the module docstring."""

  def __init__(self, learning_rate, beta_1, beta_2, epsilon,
               initial_preconditioner_value):
    super().__init__(
        'Yogi', zip(_HPARAMS_KEYS, (learning_rate, beta_1, beta_2, epsilon)))
    self._initial_preconditioner_value = initial_preconditioner_value

  def initialize(self, specs):
    return adam.initial_state(self.hparams_state(), specs,
                              self._initial_preconditioner_value)

  def next(self, state, weights, gradients):

    def additive(s, g, beta_2):
      g2 = tf.square(g)
      return s + (1 - tf.cast(beta_2, s.dtype)) * tf.sign(g2 - s) * g2

    return adam.bias_corrected_next(state, weights, gradients, additive)


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
