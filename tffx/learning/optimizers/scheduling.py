"""`schedule_learning_rate`: an optimizer whose learning rate follows a schedule.

    optimizer = schedule_learning_rate(build_sgdm(1.0), lambda i: 0.1 / (i + 1))

The wrapped optimizer takes its `i`-th step (counting from 0) with the
learning rate `schedule_fn(i)`. State, as in TFF:

    OrderedDict(round_num=int32, optimizer=<the wrapped optimizer's state,
                learning_rate=schedule_fn(round_num)>)

`schedule_fn` is called on an int32 tensor inside a `tffx.tf_computation`,
so it must accept one (e.g. `tf.math` or a Keras `LearningRateSchedule`).
The hyperparameters are the wrapped optimizer's, without the learning rate,
which the schedule owns.
"""

import collections
from typing import Any, Callable

import tensorflow as tf

from tffx.learning.optimizers import optimizer as optimizer_base

LEARNING_RATE_KEY = optimizer_base.LEARNING_RATE_KEY
ROUND_NUM_KEY = 'round_num'
OPTIMIZER_KEY = 'optimizer'


def _with_learning_rate(optimizer_state, learning_rate):
  if LEARNING_RATE_KEY not in optimizer_state:
    raise KeyError(
        f'Expected the state of the optimizer to schedule to hold its '
        f'learning rate under {LEARNING_RATE_KEY!r} '
        f'(tffx.learning.optimizers.LEARNING_RATE_KEY), found the keys '
        f'{list(optimizer_state)}.')
  new_state = collections.OrderedDict(optimizer_state)
  old = optimizer_state[LEARNING_RATE_KEY]
  new_state[LEARNING_RATE_KEY] = tf.cast(learning_rate, old.dtype)
  return new_state


class _ScheduledLearningRate(optimizer_base.Optimizer):
  """The learning rate of a wrapped optimizer set by a schedule."""

  def __init__(self, optimizer: optimizer_base.Optimizer,
               schedule_fn: Callable[[Any], Any]):
    self._optimizer = optimizer
    self._schedule_fn = schedule_fn

  def initialize(self, specs):
    round_num = tf.constant(0, tf.int32)
    return collections.OrderedDict([
        (ROUND_NUM_KEY, round_num),
        (OPTIMIZER_KEY,
         _with_learning_rate(self._optimizer.initialize(specs),
                             self._schedule_fn(round_num))),
    ])

  def next(self, state, weights, gradients):
    optimizer_state, weights = self._optimizer.next(state[OPTIMIZER_KEY],
                                                    weights, gradients)
    round_num = state[ROUND_NUM_KEY] + 1
    return collections.OrderedDict([
        (ROUND_NUM_KEY, round_num),
        (OPTIMIZER_KEY,
         _with_learning_rate(optimizer_state, self._schedule_fn(round_num))),
    ]), weights

  def get_hparams(self, state):
    hparams = self._optimizer.get_hparams(state[OPTIMIZER_KEY])
    return collections.OrderedDict(
        (k, v) for k, v in hparams.items() if k != LEARNING_RATE_KEY)

  def set_hparams(self, state, hparams):
    if LEARNING_RATE_KEY in hparams:
      raise KeyError(
          f'Expected hyperparameters other than {LEARNING_RATE_KEY!r}, which '
          f'the schedule sets; found {list(hparams)}.')
    new_state = collections.OrderedDict(state)
    new_state[OPTIMIZER_KEY] = self._optimizer.set_hparams(
        state[OPTIMIZER_KEY], hparams)
    return new_state


def schedule_learning_rate(
    optimizer: optimizer_base.Optimizer,
    schedule_fn: Callable[[Any], Any]) -> optimizer_base.Optimizer:
  """Returns `optimizer` taking its `i`-th step with learning rate `schedule_fn(i)`.

  Args:
    optimizer: A `tffx.learning.optimizers.Optimizer` whose state holds a
      `learning_rate`.
    schedule_fn: `fn(round_num) -> learning rate`, called on an int32 tensor.

  Raises:
    TypeError: if `optimizer` is not an `Optimizer` or `schedule_fn` is not
      callable.
    KeyError: (from `initialize`) if the optimizer's state has no
      `learning_rate`.
  """
  if not isinstance(optimizer, optimizer_base.Optimizer):
    raise TypeError(
        f'Expected optimizer to be a tffx.learning.optimizers.Optimizer, '
        f'found {type(optimizer).__name__}.')
  if not callable(schedule_fn):
    raise TypeError(
        f'Expected schedule_fn to be a function of the round number, found '
        f'{type(schedule_fn).__name__}.')
  return _ScheduledLearningRate(optimizer, schedule_fn)
