"""Scaffolding shared by the optimizer tests.

Each optimizer's test writes its textbook update rule in NumPy itself, for
one weight; this module runs such a rule over steps (`numpy_reference`),
runs an optimizer over the same steps (`run_steps_with_hparams_changed`,
`run_one_float64_step`) or inside a `FinalizerProcess`
(`run_finalizer_over_two_rounds`), and checks what every optimizer's
hyperparameters must satisfy (`assert_hparams_round_trip`). It holds no
update rule and tests nothing by itself.
"""

import collections

import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.learning.models import model_weights
from tffx.learning.templates import finalizers
from tffx.types import computation_types as ct

SPECS = collections.OrderedDict(
    kernel=tf.TensorSpec([2, 2], tf.float32),
    bias=[tf.TensorSpec([2], tf.float32)])
WEIGHTS = collections.OrderedDict(
    kernel=np.array([[1.0, -2.0], [0.5, 3.0]], np.float32),
    bias=[np.array([0.25, -1.0], np.float32)])


def _random_gradients(scales):
  """One structure like `WEIGHTS` per scale, normal with that deviation."""
  random = np.random.RandomState(0)
  return [
      tf.nest.map_structure(
          lambda w: (scale * random.normal(size=w.shape)).astype(np.float32),
          WEIGHTS) for scale in scales
  ]


# Five steps; the small fourth one makes g**2 smaller than the moving
# averages of the squared gradients.
GRADIENTS = _random_gradients([1.0, 0.5, 2.0, 0.1, 1.0])
# `run_steps_with_hparams_changed` changes the hyperparameters before this
# step (counted from 0).
CHANGE_STEP = 2

# Model weights and two rounds of updates for `run_finalizer_over_two_rounds`.
FINALIZER_WEIGHTS = model_weights.ModelWeights(
    [np.array([1.0, -2.0], np.float32), np.float32(0.5)], [np.int32(7)])
FINALIZER_UPDATES = [[np.array([0.5, -1.0], np.float32), np.float32(2.0)],
                     [np.array([1.0, 0.25], np.float32), np.float32(-1.0)]]


def numpy_reference(step_fn, weights, gradients_per_step, hparams_per_step,
                    initial_slots):
  """Runs a NumPy update rule over steps, in float64, weight by weight.

  Args:
    step_fn: The rule for one weight, `(t, h, w, g, *slots) -> (w, *slots)`,
      at step `t` = 1, 2, ... with the hyperparameters `h` (a dict).
    weights: A structure of arrays.
    gradients_per_step: One structure like `weights` per step.
    hparams_per_step: One dict of hyperparameters per step.
    initial_slots: One function per slot of the rule (e.g. the moments),
      mapping a weight to the slot's initial value (e.g. `np.zeros_like`).

  Returns:
    `(weights, *slots)`, each a flat list with one array per weight.
  """
  weights = [np.asarray(w, np.float64) for w in tf.nest.flatten(weights)]
  slots = [[init(w) for init in initial_slots] for w in weights]
  for t, (gradients, h) in enumerate(
      zip(gradients_per_step, hparams_per_step), start=1):
    g = [np.asarray(x, np.float64) for x in tf.nest.flatten(gradients)]
    for i, (w, g_i) in enumerate(zip(weights, g)):
      weights[i], *slots[i] = step_fn(t, h, w, g_i, *slots[i])
  return (weights, *([s[k] for s in slots] for k in range(len(initial_slots))))


def assert_all_close(test, actual, expected):
  """Asserts that the flattened `actual` is close to the list `expected`."""
  actual = tf.nest.flatten(actual)
  test.assertLen(actual, len(expected))
  for a, e in zip(actual, expected):
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def assert_float32_scalars(test, values, expected):
  """Asserts that `values[key]` is a float32 close to `expected[key]`."""
  for key, value in expected.items():
    test.assertEqual(values[key].dtype, tf.float32)
    test.assertAlmostEqual(float(values[key]), value, places=6)


def run_steps_with_hparams_changed(optimizer, defaults, changes):
  """Runs `optimizer` from `WEIGHTS` over `GRADIENTS`, changing hparams once.

  Args:
    optimizer: An optimizer built with the hyperparameters `defaults`.
    defaults: The hyperparameters of `optimizer`, a dict.
    changes: The hyperparameters set with `set_hparams` before step
      `CHANGE_STEP`.

  Returns:
    `(state, weights, hparams_per_step)`: the final state and weights and
    the hyperparameters of each step, for `numpy_reference`.
  """
  state = optimizer.initialize(SPECS)
  weights = WEIGHTS
  for step, gradients in enumerate(GRADIENTS):
    if step == CHANGE_STEP:
      state = optimizer.set_hparams(state, changes)
    state, weights = optimizer.next(state, weights, gradients)
  hparams_per_step = ([defaults] * CHANGE_STEP + [dict(defaults, **changes)] *
                      (len(GRADIENTS) - CHANGE_STEP))
  return state, weights, hparams_per_step


def run_one_float64_step(optimizer, weight, gradient):
  """Returns the weights after one step on a float64 scalar weight."""
  state = optimizer.initialize([tf.TensorSpec([], tf.float64)])
  _, weights = optimizer.next(state, [tf.constant(weight, tf.float64)],
                              [tf.constant(gradient, tf.float64)])
  return weights


def assert_hparams_round_trip(test, optimizer, changed, kept_keys):
  """Asserts that `set_hparams` and `get_hparams` round-trip `changed`.

  Setting the hyperparameters read from a state keeps it; setting `changed`
  makes `get_hparams` return them as float32 scalars, in their order; the
  entries named in `kept_keys` (accumulators, step counts) are kept as they
  are.
  """
  state = optimizer.initialize(SPECS)

  same = optimizer.set_hparams(state, optimizer.get_hparams(state))
  updated = optimizer.set_hparams(state, changed)
  hparams = optimizer.get_hparams(updated)

  test.assertEqual(list(same), list(state))
  for key in changed:
    test.assertEqual(float(same[key]), float(state[key]))
  test.assertEqual(list(hparams), list(changed))
  assert_float32_scalars(test, hparams, changed)
  for key in kept_keys:
    test.assertIs(updated[key], state[key])


def run_finalizer_over_two_rounds(optimizer, second_learning_rate):
  """Runs an apply-optimizer finalizer for two rounds on the reference backend.

  The weights are `FINALIZER_WEIGHTS` (trainable: a float32[2] and a
  float32; non-trainable: an int32), the updates `FINALIZER_UPDATES`. The
  learning rate is set to `second_learning_rate` through the process's
  `set_hparams` between the rounds.

  Returns:
    `(hparams, second)`: the hyperparameters read after the first round and
    the `MeasuredProcessOutput` of the second round.
  """
  weights_type = ct.to_type(
      model_weights.ModelWeights(
          [ct.TensorType(np.float32, [2]), np.float32], [np.int32]))
  with reference.create_reference_execution_context():
    process = finalizers.build_apply_optimizer_finalizer(optimizer,
                                                         weights_type)
    first = process.next(process.initialize(), FINALIZER_WEIGHTS,
                         FINALIZER_UPDATES[0])
    hparams = process.get_hparams(first.state)
    changed = process.set_hparams(
        first.state,
        collections.OrderedDict(hparams, learning_rate=second_learning_rate))
    second = process.next(changed, first.result, FINALIZER_UPDATES[1])
  return hparams, second
