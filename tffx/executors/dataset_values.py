"""Datasets as values: every call sees a dataset argument from its start.

A `tf.data.Dataset` that reshuffles (`shuffle(n, seed=s)`, whose default is
`reshuffle_each_iteration=True`) keeps its shuffle state in the Python
object: each pass over it gives the next order. A dataset passed to a
computation is a value, as if serialized when the call is made, so it must
yield its first-pass order on every call, however often the Python object
was read before:

    live dataset --serialize graph--> GraphDef --seeded shuffles--> fresh dataset

The shuffles are rebuilt from their seeds (the stateless `ShuffleDataset`
op that reads `seed, seed2`), which gives exactly the order of a new
dataset's first pass. Unseeded shuffles stay random, as in TensorFlow.
Datasets without a shuffle are passed as they are (nothing to reset, and
no cost for large in-memory datasets). This module does not convert
elements (see `value_conversions`).
"""

import functools

import tensorflow as tf

# Stateful shuffle ops -> (stateless op, index of the seed-generator input).
_SEEDED_SHUFFLES = {
    'ShuffleDatasetV3': ('ShuffleDataset', 4),
    'ShuffleAndRepeatDatasetV2': ('ShuffleAndRepeatDataset', 5),
}


@functools.cache
def _shuffle_dataset_class() -> type:
  # The class is private to tf.data; find it from a dataset that has it. The
  # seed keeps this working under tf.config.experimental.enable_op_determinism.
  return type(tf.data.Dataset.range(1).shuffle(1, seed=0))


def _reshuffles(dataset: tf.data.Dataset) -> bool:
  """Whether `dataset` or one of its inputs is a shuffle."""
  pending = [dataset]
  while pending:
    d = pending.pop()
    if isinstance(d, _shuffle_dataset_class()):
      return True
    pending.extend(d._inputs())  # pylint: disable=protected-access
  return False


def as_value(dataset: tf.data.Dataset) -> tf.data.Dataset:
  """Returns a new dataset whose first pass is `dataset`'s first pass.

  `dataset` itself is returned when it has no shuffle.
  """
  if not _reshuffles(dataset):
    return dataset
  serialized = dataset._as_serialized_graph(  # pylint: disable=protected-access
      external_state_policy=tf.data.experimental.ExternalStatePolicy.IGNORE)
  graph = tf.compat.v1.GraphDef.FromString(serialized.numpy())
  for node in graph.node:
    if node.op in _SEEDED_SHUFFLES:
      node.op, seed_generator_input = _SEEDED_SHUFFLES[node.op]
      del node.input[seed_generator_input]
  variant = tf.raw_ops.DatasetFromGraph(graph_def=graph.SerializeToString())
  return tf.data.experimental.from_variant(variant, dataset.element_spec)
