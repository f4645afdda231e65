"""AdamW (`build_adamw`, like `tff.learning.optimizers.build_adamw`).

AdamW (Loshchilov and Hutter, 2017) is Adam with decoupled weight decay
`lambda`: the decay is applied to the weights directly, not added to the
gradient (so the moments never see it). At step t = 1, 2, ...:

    acc <- beta_1 * acc + (1 - beta_1) * g
    s   <- beta_2 * s   + (1 - beta_2) * g**2
    lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    w   <- w - lr_t * acc / (sqrt(s) + epsilon) - lr * lambda * w

With `weight_decay=0` this is Adam. State, an `OrderedDict` in TFF's order:
`learning_rate`, `beta_1`, `beta_2`, `epsilon` (float32), `step` (int32),
`accumulator`, `preconditioner` (zeros shaped like the weights) and
`weight_decay` (float32). The hyperparameters are `learning_rate`,
`beta_1`, `beta_2`, `epsilon` and `weight_decay`; a change through
`set_hparams` applies from the following step on.
"""

from tffx.learning.optimizers import adam
from tffx.learning.optimizers import optimizer

WEIGHT_DECAY_KEY = 'weight_decay'
_HPARAMS_KEYS = (adam.LEARNING_RATE_KEY, adam.BETA_1_KEY, adam.BETA_2_KEY,
                 adam.EPSILON_KEY, WEIGHT_DECAY_KEY)


class _AdamW(optimizer.HparamsOptimizer):
  """AdamW; see the module docstring."""

  def __init__(self, learning_rate, beta_1, beta_2, epsilon, weight_decay):
    super().__init__(
        'AdamW',
        zip(_HPARAMS_KEYS,
            (learning_rate, beta_1, beta_2, epsilon, weight_decay)))

  def initialize(self, specs):
    hparams = self.hparams_state()
    weight_decay = hparams.pop(WEIGHT_DECAY_KEY)
    state = adam.initial_state(hparams, specs, 0.0)
    state[WEIGHT_DECAY_KEY] = weight_decay
    return state

  def next(self, state, weights, gradients):
    return adam.bias_corrected_next(
        state, weights, gradients, adam.average_square,
        weight_decay=state[WEIGHT_DECAY_KEY])


def build_adamw(learning_rate: float,
                beta_1: float = 0.9,
                beta_2: float = 0.999,
                epsilon: float = 1e-7,
                weight_decay: float = 0.004) -> optimizer.Optimizer:
  """Returns an AdamW optimizer (update rule in the module docstring).

  Args:
    learning_rate: A non-negative float.
    beta_1: The decay of the moving average of the gradients, in [0, 1).
    beta_2: The decay of the moving average of the squared gradients, in
      [0, 1).
    epsilon: A small non-negative float added to the denominator.
    weight_decay: A non-negative float, the decoupled weight decay (the
      default is Keras's); 0 gives Adam.

  Raises:
    ValueError: if `learning_rate`, `epsilon` or `weight_decay` is negative,
      or a beta is outside [0, 1).
  """
  optimizer.check_non_negative(learning_rate, 'learning_rate')
  optimizer.check_unit_interval(beta_1, 'beta_1')
  optimizer.check_unit_interval(beta_2, 'beta_2')
  optimizer.check_non_negative(epsilon, 'epsilon')
  optimizer.check_non_negative(weight_decay, 'weight_decay')
  return _AdamW(learning_rate, beta_1, beta_2, epsilon, weight_decay)


