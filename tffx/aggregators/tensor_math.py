"""TensorFlow math over the nested values that aggregation factories handle.

Inside a `tffx.tf_computation`, a struct value arrives as its Python
container (or a `tffx.structure.Struct`). The factories work on its leaves:

    leaves = flatten(value)                      # [t0, t1, ...]
    norm = global_norm(leaves, 2.0)              # float32 scalar
    clipped = pack(value_type, scale(leaves, factor))  # value_type's containers

These functions only build TensorFlow ops while a graph is traced; they know
nothing of placements (the factories place values with intrinsics).
"""

import math
from typing import Any, List, Sequence

import tensorflow as tf

from tffx.types import computation_types
from tffx.types import python_containers
from tffx.types import structure

# Norms and counts have these dtypes whatever the dtype of the values, as in
# TFF: an estimation process of a norm takes a float32 at CLIENTS.
NORM_DTYPE = tf.float32
COUNT_DTYPE = tf.int32


def flatten(value: Any) -> List[tf.Tensor]:
  """The leaves of a tensor, Python container or `Struct`, depth first."""
  return structure.flatten(structure.from_container(value, recursive=True))


def pack(type_spec: computation_types.Type, leaves: Sequence[Any]) -> Any:
  """Inverse of `flatten`: `leaves` in the structure and containers of
  `type_spec` (a tensor type, or structs of them)."""
  position = iter(leaves)

  def build(t):
    if not isinstance(t, computation_types.StructType):
      return next(position)
    pairs = [(n, build(e)) for n, e in t.items()]
    if t.python_container is None:
      return structure.Struct(pairs)
    return python_containers.build(t.python_container, pairs)

  return build(type_spec)


def global_norm(leaves: Sequence[tf.Tensor], order: float) -> tf.Tensor:
  """The `order`-norm of all leaves taken as one vector, as a float32 scalar.

  The sum runs in float64, so that squares of large float32 values do not
  overflow; an empty structure has norm 0. `order` is `math.inf` (largest
  absolute value) or a number >= 1.
  """
  flat = [tf.abs(tf.cast(tf.reshape(leaf, [-1]), tf.float64))
          for leaf in leaves]
  flat = tf.concat(flat + [tf.zeros([0], tf.float64)], axis=0)
  if order == math.inf:
    norm = tf.reduce_max(tf.concat([flat, tf.zeros([1], tf.float64)], 0))
  elif order == 1.0:
    norm = tf.reduce_sum(flat)
  elif order == 2.0:
    norm = tf.sqrt(tf.reduce_sum(tf.square(flat)))
  else:
    norm = tf.pow(tf.reduce_sum(tf.pow(flat, order)), 1.0 / order)
  return tf.cast(norm, NORM_DTYPE)


def scale(leaves: Sequence[tf.Tensor], factor: tf.Tensor) -> List[tf.Tensor]:
  """Each leaf times the scalar `factor`, cast to the leaf's dtype."""
  return [leaf * tf.cast(factor, leaf.dtype) for leaf in leaves]


def gaussian_noise(leaves: Sequence[tf.Tensor], stddev: tf.Tensor,
                   seed: tf.Tensor) -> tf.Tensor:
  """Leaves plus independent N(0, stddev^2) noise; and the next seed.

  The noise comes from stateless random ops, so the same `seed` (an int64
  vector of 2) gives the same noise on every executor. The seed is split
  into one seed per leaf and the seed to use next time.

  Returns:
    A pair `(noised_leaves, next_seed)`.
  """
  seeds = tf.random.experimental.stateless_split(seed, num=len(leaves) + 1)
  noised = []
  for i, leaf in enumerate(leaves):
    noise = tf.random.stateless_normal(
        tf.shape(leaf), seed=seeds[i + 1], dtype=tf.float64)
    noised.append(leaf + tf.cast(noise * tf.cast(stddev, tf.float64),
                                 leaf.dtype))
  return noised, seeds[0]


def initial_seed(seed, stream: int = 0) -> tf.Tensor:
  """A seed for `gaussian_noise`: from `seed` (an int), or random if None.

  Args:
    seed: An int, or None to draw a seed when the graph runs.
    stream: Tells apart the noise of several users of the same `seed`.
  """
  if seed is None:
    return tf.random.uniform([2], minval=0, maxval=tf.int64.max, dtype=tf.int64)
  return tf.constant([seed, stream], tf.int64)
