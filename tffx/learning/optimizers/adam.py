"""Adam (`build_adam`, like `tff.learning.optimizers.build_adam`).

Adam (Kingma and Ba, 2014) keeps moving averages of the gradients (`acc`)
and of their squares (`s`), and corrects the bias of both towards their
zero initial values through the step size. At step t = 1, 2, ...:

    acc <- beta_1 * acc + (1 - beta_1) * g
    s   <- beta_2 * s   + (1 - beta_2) * g**2
    lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    w   <- w - lr_t * acc / (sqrt(s) + epsilon)

This is the form of TFF and Keras, where `epsilon` is added to the
uncorrected `sqrt(s)` (the paper adds it to the corrected one).

State, an `OrderedDict`: `learning_rate`, `beta_1`, `beta_2`, `epsilon`
(float32 scalars, the hyperparameters), `step` (int32, the number of steps
taken), `accumulator` and `preconditioner` (zeros shaped like the weights).
Hyperparameters are read in every `next`, so a change through
`set_hparams` applies from the following step on; the moments and the
step count are kept. `initial_state` and `bias_corrected_next` also serve
Yogi, which differs only in its preconditioner.
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


class _Adam(optimizer.HparamsOptimizer):
  """Adam; see the module docstring."""

  def __init__(self, learning_rate, beta_1, beta_2, epsilon):
    super().__init__(
        'Adam', zip(_HPARAMS_KEYS, (learning_rate, beta_1, beta_2, epsilon)))

  def initialize(self, specs):
    return initial_state(self.hparams_state(), specs, 0.0)

  def next(self, state, weights, gradients):
    return bias_corrected_next(state, weights, gradients, average_square)


def average_square(s, g, beta_2):
  """Adam's preconditioner rule: a moving average of the squared gradients."""
  return optimizer.moving_average(beta_2, s, tf.square(g))


def initial_state(hparams_state, specs, initial_preconditioner_value):
  """Returns the state of Adam or a variant: hparams, step, moments.

  Args:
    hparams_state: The hyperparameters as float32 scalars, by key.
    specs: A structure of `tf.TensorSpec`s, one per weight.
    initial_preconditioner_value: The starting value of every entry of the
      preconditioner (the accumulator starts at zero).
  """
  state = collections.OrderedDict(hparams_state)
  state[STEP_KEY] = tf.constant(0, tf.int32)
  state[ACCUMULATOR_KEY] = optimizer.filled_like(specs, 0.0)
  state[PRECONDITIONER_KEY] = optimizer.filled_like(
      specs, initial_preconditioner_value)
  return state


def bias_corrected_next(state,
                        weights,
                        gradients,
                        preconditioner_rule,
                        weight_decay=None):
  """Returns `(new_state, new_weights)` after a step of Adam or a variant.

  The accumulator is a moving average of the gradients; the step is the
  bias-corrected one in the module docstring. Only the preconditioner's
  update differs between Adam and its variants (e.g. Yogi).

  Args:
    state: A state built by `initial_state`.
    weights: A structure of tensors.
    gradients: A structure of tensors matching `weights`.
    preconditioner_rule: `(s, g, beta_2) -> s'`, the new preconditioner of
      one weight from the old one and the weight's gradient.
    weight_decay: None, or (AdamW) a scalar `lambda`: the step also
      subtracts `lr * lambda * w` (decoupled weight decay, not bias
      corrected).

  Raises:
    ValueError: if the gradients, accumulator or preconditioner are not
      nested like the weights.
  """
  gradients = optimizer.prepare_step(state, weights, gradients,
                                     (ACCUMULATOR_KEY, PRECONDITIONER_KEY))
  lr, beta_1, beta_2, epsilon = (state[k] for k in _HPARAMS_KEYS)
  step = state[STEP_KEY] + 1

  def update(w, g, a, s):
    a = optimizer.moving_average(beta_1, a, g)
    s = preconditioner_rule(s, g, beta_2)
    lr_w, b_1, b_2, eps = (
        tf.cast(h, w.dtype) for h in (lr, beta_1, beta_2, epsilon))
    t = tf.cast(step, w.dtype)
    corrected_lr = lr_w * tf.sqrt(1 - b_2**t) / (1 - b_1**t)
    new_w = w - corrected_lr * a / (tf.sqrt(s) + eps)
    if weight_decay is not None:
      new_w -= lr_w * tf.cast(weight_decay, w.dtype) * w
    return new_w, a, s

  new_weights, accumulator, preconditioner = optimizer.map_step(
      update, weights, gradients, state[ACCUMULATOR_KEY],
      state[PRECONDITIONER_KEY])
  # Every other entry (the hyperparameters) is kept, in its place.
  new_state = collections.OrderedDict(state)
  new_state[STEP_KEY] = step
  new_state[ACCUMULATOR_KEY] = accumulator
  new_state[PRECONDITIONER_KEY] = preconditioner
  return new_state, new_weights


def build_adam(learning_rate: float,
               beta_1: float = 0.9,
               beta_2: float = 0.999,
               epsilon: float = 1e-7) -> optimizer.Optimizer:
  """Returns an Adam optimizer (update rule in the module docstring).

  Args:
    learning_rate: A non-negative float.
    beta_1: The decay of the moving average of the gradients, in [0, 1).
    beta_2: The decay of the moving average of the squared gradients, in
      [0, 1).
    epsilon: A small non-negative float added to the denominator for
      numerical stability.

  Raises:
    ValueError: if `learning_rate` or `epsilon` is negative, or a beta is
      outside [0, 1).
  """
  optimizer.check_non_negative(learning_rate, 'learning_rate')
  optimizer.check_unit_interval(beta_1, 'beta_1')
  optimizer.check_unit_interval(beta_2, 'beta_2')
  optimizer.check_non_negative(epsilon, 'epsilon')
  return _Adam(learning_rate, beta_1, beta_2, epsilon)
