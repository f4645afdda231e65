"""RMSprop (`build_rmsprop`, like `tff.learning.optimizers.build_rmsprop`).

RMSprop (Tieleman and Hinton, 2012) divides each step by the root of a
moving average of the squared gradients (the preconditioner `s`, which
starts at zero), with decay `d`:

    s <- d * s + (1 - d) * g**2
    w <- w - lr * g / (sqrt(s) + epsilon)

There is no bias correction and no momentum (as in TFF).

State, an `OrderedDict`: `learning_rate`, `decay`, `epsilon` (float32
scalars, the hyperparameters) and `preconditioner` (zeros shaped like the
weights). A change of hyperparameters through `set_hparams` applies from
the following step on; the preconditioner is kept.
"""

import tensorflow as tf

from tffx.learning.optimizers import optimizer

LEARNING_RATE_KEY = optimizer.LEARNING_RATE_KEY
DECAY_KEY = 'decay'
EPSILON_KEY = 'epsilon'
PRECONDITIONER_KEY = 'preconditioner'
_HPARAMS_KEYS = (LEARNING_RATE_KEY, DECAY_KEY, EPSILON_KEY)


class _RMSprop(optimizer.HparamsOptimizer):
  """RMSprop; see the module docstring."""

  def __init__(self, learning_rate, decay, epsilon):
    super().__init__('RMSprop',
                     zip(_HPARAMS_KEYS, (learning_rate, decay, epsilon)))

  def initialize(self, specs):
    state = self.hparams_state()
    state[PRECONDITIONER_KEY] = optimizer.filled_like(specs, 0.0)
    return state

  def next(self, state, weights, gradients):
    gradients = optimizer.prepare_step(state, weights, gradients,
                                       (PRECONDITIONER_KEY,))
    lr, decay, epsilon = (state[k] for k in _HPARAMS_KEYS)

    def update(w, g, s):
      s = optimizer.moving_average(decay, s, tf.square(g))
      eps = tf.cast(epsilon, w.dtype)
      return w - tf.cast(lr, w.dtype) * g / (tf.sqrt(s) + eps), s

    new_weights, preconditioner = optimizer.map_step(
        update, weights, gradients, state[PRECONDITIONER_KEY])
    new_state = self.get_hparams(state)
    new_state[PRECONDITIONER_KEY] = preconditioner
    return new_state, new_weights


def build_rmsprop(learning_rate: float,
                  decay: float = 0.9,
                  epsilon: float = 1e-7) -> optimizer.Optimizer:
  """Returns an RMSprop optimizer (update rule in the module docstring).

  Args:
    learning_rate: A non-negative float.
    decay: The decay of the moving average of the squared gradients, in
      [0, 1).
    epsilon: A small non-negative float added to the denominator for
      numerical stability.

  Raises:
    ValueError: if `learning_rate` or `epsilon` is negative, or `decay` is
      outside [0, 1).
  """
  optimizer.check_non_negative(learning_rate, 'learning_rate')
  optimizer.check_unit_interval(decay, 'decay')
  optimizer.check_non_negative(epsilon, 'epsilon')
  return _RMSprop(learning_rate, decay, epsilon)
