"""Adafactor (`build_adafactor`, like `tff.learning.optimizers.build_adafactor`).

Adafactor (Shazeer and Stern, 2018) keeps, for a weight of rank 2 or more,
only the row and column means of the second moment (`r`, `c`), whose outer
product rebuilds an estimate `v`; smaller weights keep the full `v`. The
step size is relative to the weight's scale and the update is clipped. At
step t = 1, 2, ..., with `G = g**2 + epsilon_1` and `rms(x) = sqrt(mean(x**2))`:

    lr_t    = min(lr, 1 / sqrt(t)) if relative_step else lr
    rho_t   = min(lr_t, sqrt(t))
    alpha_t = max(epsilon_2, rms(w)) * rho_t
    beta_t  = 1 - t ** beta_2_decay
    rank < 2:  v <- beta_t * v + (1 - beta_t) * G
    rank >= 2: r <- beta_t * r + (1 - beta_t) * mean(G, axis=-1)
               c <- beta_t * c + (1 - beta_t) * mean(G, axis=-2)
               v  = (r / mean(r, axis=-1))[..., None] * c[..., None, :]
    u = g / sqrt(v) ;  w <- w - alpha_t * u / max(1, rms(u) / clip_threshold)

This is the rule of TFF's Adafactor (including `rho_t`). State, an
`OrderedDict`: `steps` (int32), `moments` (one `OrderedDict(r, c, v)` per
weight, in `tf.nest.flatten` order; `r` and `c` are empty for weights of
rank < 2) and `hparams` (`learning_rate`, `beta_2_decay`, `epsilon_1`,
`epsilon_2`, `clip_threshold` as float32 and `relative_step` as bool).
"""

import collections

import tensorflow as tf

from tffx.learning.optimizers import optimizer

LEARNING_RATE_KEY = optimizer.LEARNING_RATE_KEY
BETA_2_DECAY_KEY = 'beta_2_decay'
EPSILON_1_KEY = 'epsilon_1'
EPSILON_2_KEY = 'epsilon_2'
CLIP_THRESHOLD_KEY = 'clip_threshold'
RELATIVE_STEP_KEY = 'relative_step'
STEPS_KEY = 'steps'
MOMENTS_KEY = 'moments'
HPARAMS_KEY = 'hparams'
_FLOAT_HPARAMS_KEYS = (LEARNING_RATE_KEY, BETA_2_DECAY_KEY, EPSILON_1_KEY,
                       EPSILON_2_KEY, CLIP_THRESHOLD_KEY)
_HPARAMS_KEYS = _FLOAT_HPARAMS_KEYS + (RELATIVE_STEP_KEY,)


def _initial_moment(spec: tf.TensorSpec) -> 'collections.OrderedDict':
  shape = spec.shape
  if shape.rank < 2:
    r_shape = c_shape = [0]
  else:
    r_shape, c_shape = shape[:-1], shape[:-2] + shape[-1:]
  return collections.OrderedDict(
      r=tf.zeros(r_shape, spec.dtype),
      c=tf.zeros(c_shape, spec.dtype),
      v=tf.zeros(shape, spec.dtype))


def _rms(x: tf.Tensor) -> tf.Tensor:
  return tf.sqrt(tf.reduce_mean(tf.square(x)))


class _Adafactor(optimizer.Optimizer):
  """Adafactor; see the module docstring."""

  def __init__(self, hparams):
    self._hparams = hparams

  def initialize(self, specs):
    hparams = collections.OrderedDict(
        (k, tf.constant(self._hparams[k], tf.float32))
        for k in _FLOAT_HPARAMS_KEYS)
    hparams[RELATIVE_STEP_KEY] = tf.constant(
        bool(self._hparams[RELATIVE_STEP_KEY]))
    return collections.OrderedDict([
        (STEPS_KEY, tf.constant(0, tf.int32)),
        (MOMENTS_KEY, tuple(_initial_moment(s) for s in tf.nest.flatten(specs))),
        (HPARAMS_KEY, hparams),
    ])

  def next(self, state, weights, gradients):
    gradients = optimizer.prepare_step(state, weights, gradients)
    flat_weights = tf.nest.flatten(weights)
    moments = state[MOMENTS_KEY]
    if len(moments) != len(flat_weights):
      raise ValueError(
          f'Expected one moment in the state per weight ({len(flat_weights)}),'
          f' found {len(moments)}.')
    hparams = state[HPARAMS_KEY]
    steps = state[STEPS_KEY] + 1
    t = tf.cast(steps, tf.float32)
    lr = tf.cast(hparams[LEARNING_RATE_KEY], tf.float32)
    lr = tf.where(hparams[RELATIVE_STEP_KEY], tf.minimum(lr, tf.math.rsqrt(t)),
                  lr)
    rho = tf.minimum(lr, tf.sqrt(t))

    def update(w, g, moment):
      dtype = w.dtype
      eps_1, eps_2, decay, clip = (
          tf.cast(hparams[k], dtype)
          for k in (EPSILON_1_KEY, EPSILON_2_KEY, BETA_2_DECAY_KEY,
                    CLIP_THRESHOLD_KEY))
      t_w = tf.cast(t, dtype)
      alpha = tf.maximum(eps_2, _rms(w)) * tf.cast(rho, dtype)
      g2 = tf.square(g) + eps_1
      beta = 1 - tf.pow(t_w, decay)
      r, c = moment['r'], moment['c']
      if w.shape.rank < 2:
        v = beta * moment['v'] + (1 - beta) * g2
      else:
        r = beta * r + (1 - beta) * tf.reduce_mean(g2, axis=-1)
        c = beta * c + (1 - beta) * tf.reduce_mean(g2, axis=-2)
        row = r / tf.reduce_mean(r, axis=-1, keepdims=True)
        v = tf.expand_dims(row, -1) * tf.expand_dims(c, -2)
      u = g * tf.math.rsqrt(v)
      u = u / tf.maximum(tf.constant(1, dtype), _rms(u) / clip)
      return w - alpha * u, collections.OrderedDict(r=r, c=c, v=v)

    new_weights, new_moments = [], []
    for w, g, moment in zip(flat_weights, tf.nest.flatten(gradients),
                            moments):
      if g is None:
        new_weights.append(w)
        new_moments.append(moment)
      else:
        w, moment = update(tf.convert_to_tensor(w), g, moment)
        new_weights.append(w)
        new_moments.append(moment)
    return collections.OrderedDict([
        (STEPS_KEY, steps),
        (MOMENTS_KEY, tuple(new_moments)),
        (HPARAMS_KEY, collections.OrderedDict(hparams)),
    ]), tf.nest.pack_sequence_as(weights, new_weights)

  def get_hparams(self, state):
    return collections.OrderedDict(state[HPARAMS_KEY])

  def set_hparams(self, state, hparams):
    new_state = collections.OrderedDict(state)
    new_state[HPARAMS_KEY] = optimizer.replace_hparams(
        state[HPARAMS_KEY], hparams, _HPARAMS_KEYS, 'Adafactor')
    return new_state


def build_adafactor(learning_rate: float,
                    *,
                    beta_2_decay: float = -0.8,
                    epsilon_1: float = 1e-30,
                    epsilon_2: float = 1e-3,
                    clip_threshold: float = 1.0,
                    relative_step: bool = True) -> optimizer.Optimizer:
  """Returns an Adafactor optimizer (update rule in the module docstring).

  Args:
    learning_rate: A non-negative float.
    beta_2_decay: The exponent of the second-moment decay schedule
      (`beta_t = 1 - t ** beta_2_decay`); negative.
    epsilon_1: A small non-negative float added to the squared gradients.
    epsilon_2: A small non-negative float, the least weight scale of a step.
    clip_threshold: A positive float, the largest root-mean-square of an
      update before clipping.
    relative_step: Whether the learning rate also decays as `1 / sqrt(t)`.

  Raises:
    ValueError: if `learning_rate`, `epsilon_1` or `epsilon_2` is negative,
      `beta_2_decay` is not negative, or `clip_threshold` is not positive.
  """
  optimizer.check_non_negative(learning_rate, 'learning_rate')
  if not beta_2_decay < 0:
    raise ValueError(
        f'Expected a negative beta_2_decay, found {beta_2_decay}. Tip: '
        f'beta_t = 1 - t ** beta_2_decay must grow towards 1.')
  optimizer.check_non_negative(epsilon_1, 'epsilon_1')
  optimizer.check_non_negative(epsilon_2, 'epsilon_2')
  optimizer.check_positive(clip_threshold, 'clip_threshold')
  return _Adafactor(
      collections.OrderedDict([
          (LEARNING_RATE_KEY, learning_rate),
          (BETA_2_DECAY_KEY, beta_2_decay),
          (EPSILON_1_KEY, epsilon_1),
          (EPSILON_2_KEY, epsilon_2),
          (CLIP_THRESHOLD_KEY, clip_threshold),
          (RELATIVE_STEP_KEY, relative_step),
      ]))
