"""Adagrad (`build_adagrad`, like `tff.learning.optimizers.build_adagrad`).

Adagrad (Duchi et al., 2011) divides each step by the root of the sum of
all squared gradients seen so far (the preconditioner `s`, which starts at
`initial_preconditioner_value`), so often-updated weights take ever smaller
steps:

    s <- s + g**2
    w <- w - lr * g / sqrt(s + epsilon)

As in TFF, `epsilon` is added inside the square root.

State, an `OrderedDict`: `learning_rate`, `epsilon` (float32 scalars, the
hyperparameters) and `preconditioner` (shaped like the weights). A change
of hyperparameters through `set_hparams` applies from the following step
on; the preconditioner is kept.
"""

import tensorflow as tf

from tffx.learning.optimizers import optimizer

LEARNING_RATE_KEY = optimizer.LEARNING_RATE_KEY
EPSILON_KEY = 'epsilon'
PRECONDITIONER_KEY = 'preconditioner'
_HPARAMS_KEYS = (LEARNING_RATE_KEY, EPSILON_KEY)


class _Adagrad(optimizer.HparamsOptimizer):
  """Adagrad; see the module docstring."""

  def __init__(self, learning_rate, initial_preconditioner_value, epsilon):
    super().__init__('Adagrad', zip(_HPARAMS_KEYS, (learning_rate, epsilon)))
    self._initial_preconditioner_value = initial_preconditioner_value

  def initialize(self, specs):
    state = self.hparams_state()
    state[PRECONDITIONER_KEY] = optimizer.filled_like(
        specs, self._initial_preconditioner_value)
    return state

  def next(self, state, weights, gradients):
    gradients = optimizer.prepare_step(state, weights, gradients,
                                       (PRECONDITIONER_KEY,))
    lr, epsilon = (state[k] for k in _HPARAMS_KEYS)

    def update(w, g, s):
      s = s + tf.square(g)
      eps = tf.cast(epsilon, w.dtype)
      return w - tf.cast(lr, w.dtype) * g / tf.sqrt(s + eps), s

    new_weights, preconditioner = optimizer.map_step(
        update, weights, gradients, state[PRECONDITIONER_KEY])
    new_state = self.get_hparams(state)
    new_state[PRECONDITIONER_KEY] = preconditioner
    return new_state, new_weights


def build_adagrad(learning_rate: float,
                  initial_preconditioner_value: float = 0.1,
                  epsilon: float = 1e-7) -> optimizer.Optimizer:
  """Returns an Adagrad optimizer (update rule in the module docstring).

  Args:
    learning_rate: A non-negative float.
    initial_preconditioner_value: A non-negative float, the starting value
      of every entry of the preconditioner.
    epsilon: A small non-negative float added under the square root for
      numerical stability.

  Raises:
    ValueError: if an argument is negative.
  """
  optimizer.check_non_negative(learning_rate, 'learning_rate')
  optimizer.check_non_negative(initial_preconditioner_value,
                               'initial_preconditioner_value')
  optimizer.check_non_negative(epsilon, 'epsilon')
  return _Adagrad(learning_rate, initial_preconditioner_value, epsilon)
