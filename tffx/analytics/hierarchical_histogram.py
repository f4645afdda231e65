"""`build_hierarchical_histogram_process`: a federated histogram as a tree.

    {float32*}@CLIENTS --clip records, count per bin (tf)--> {int32[L]}@CLIENTS
        --federated_sum or federated_secure_sum--> int32[L]@SERVER
        --add up arity siblings, layer by layer (tf)-->
        <float32[1], float32[arity], ..., float32[L]>@SERVER

`L` is `num_bins` padded to a power of `arity` (the padded bins count
nothing). Layer 0 is the root (the number of records); the last layer holds
the bins. `HierarchicalHistogramDecoder` answers queries on the result.
Only the `'no-noise'` mechanism is here: the differentially private ones of
TFF need TensorFlow Privacy's tree queries, which tffx does not use.
"""

import numpy as np
import tensorflow as tf

from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import iterative_process
from tffx.types import computation_types
from tffx.types import placements

CLIP_MECHANISMS = ('sub-sampling', 'distinct')
DP_MECHANISMS = ('no-noise',)


def num_layers(num_bins: int, arity: int) -> int:
  """Layers of the tree over `num_bins` bins (the root is one)."""
  depth = 0
  while arity**depth < num_bins:
    depth += 1
  return depth + 1


def _check_arguments(lower_bound, upper_bound, num_bins, arity,
                     clip_mechanism, max_records_per_user, dp_mechanism):
  if not lower_bound < upper_bound:
    raise ValueError(f'lower_bound must be smaller than upper_bound, got '
                     f'{lower_bound} and {upper_bound}.')
  if num_bins < 1:
    raise ValueError(f'num_bins must be at least 1, got {num_bins}.')
  if arity < 2:
    raise ValueError(f'arity must be at least 2, got {arity}.')
  if clip_mechanism not in CLIP_MECHANISMS:
    raise ValueError(f'clip_mechanism must be one of {list(CLIP_MECHANISMS)}, '
                     f'got {clip_mechanism!r}.')
  if max_records_per_user < 1:
    raise ValueError(f'max_records_per_user must be at least 1, got '
                     f'{max_records_per_user}.')
  if dp_mechanism not in DP_MECHANISMS:
    raise ValueError(
        f'dp_mechanism must be one of {list(DP_MECHANISMS)} in tffx, got '
        f'{dp_mechanism!r}. Tip: TFF\'s differentially private mechanisms '
        f'need TensorFlow Privacy, which tffx does not use; see '
        f'docs/tff_differences.md.')


def build_hierarchical_histogram_process(
    lower_bound: float,
    upper_bound: float,
    num_bins: int,
    arity: int = 2,
    clip_mechanism: str = 'sub-sampling',
    max_records_per_user: int = 10,
    dp_mechanism: str = 'no-noise',
    noise_multiplier: float = 0.0,
    expected_clients_per_round: int = 10,
    bits: int = 22,
    enable_secure_sum: bool = True,
) -> iterative_process.IterativeProcess:
  """Creates an `IterativeProcess` aggregating client data into a tree.

      initialize: ( -> <>@SERVER)
      next: (<<>@SERVER, {float32*}@CLIENTS> ->
             <<>@SERVER, <float32[1], float32[arity], ...>@SERVER>)

  Each client counts at most `max_records_per_user` of its records into
  `num_bins` equal bins of `[lower_bound, upper_bound]` (values outside go to
  the first or last bin, as `tf.histogram_fixed_width` does);
  `'sub-sampling'` keeps a uniform sample of that many records,
  `'distinct'` the same of its distinct values.

  Args:
    lower_bound: The lower bound of the data range.
    upper_bound: The upper bound of the data range.
    num_bins: The number of bins.
    arity: The branching factor of the tree.
    clip_mechanism: `'sub-sampling'` or `'distinct'`.
    max_records_per_user: The most records a client counts.
    dp_mechanism: `'no-noise'` (the only one in tffx).
    noise_multiplier: Unused with `'no-noise'` (as in TFF).
    expected_clients_per_round: Unused with `'no-noise'` (as in TFF).
    bits: Unused with `'no-noise'` (as in TFF).
    enable_secure_sum: Whether to sum with `federated_secure_sum`, each bin
      bounded by `max_records_per_user`.

  Raises:
    ValueError: if an argument is out of range or a mechanism is unknown.
  """
  del noise_multiplier, expected_clients_per_round, bits  # 'no-noise' only.
  _check_arguments(lower_bound, upper_bound, num_bins, arity, clip_mechanism,
                   max_records_per_user, dp_mechanism)
  depth = num_layers(num_bins, arity) - 1
  num_leaves = arity**depth
  client_data_type = computation_types.SequenceType(np.float32)

  @tensorflow_computation.tf_computation(client_data_type)
  def client_histogram(dataset):
    records = dataset.reduce(
        tf.zeros([0], tf.float32),
        lambda acc, x: tf.concat([acc, tf.reshape(x, [-1])], 0))
    if clip_mechanism == 'distinct':
      records, _ = tf.unique(records)
    records = tf.random.shuffle(records)[:max_records_per_user]
    counts = tf.histogram_fixed_width(
        records, [float(lower_bound), float(upper_bound)], nbins=num_bins)
    return tf.pad(counts, [[0, num_leaves - num_bins]])

  @tensorflow_computation.tf_computation(
      computation_types.TensorType(np.int32, [num_leaves]))
  def build_tree(leaves):
    layers = [tf.cast(leaves, tf.float32)]
    for _ in range(depth):
      layers.insert(0, tf.reduce_sum(tf.reshape(layers[0], [-1, arity]), 1))
    return tuple(layers)

  @federated_computation.federated_computation
  def initialize_fn():
    return intrinsics.federated_value((), placements.SERVER)

  @federated_computation.federated_computation(
      initialize_fn.type_signature.result,
      computation_types.type_at_clients(client_data_type))
  def next_fn(state, client_data):
    leaves = intrinsics.federated_map(client_histogram, client_data)
    if enable_secure_sum:
      summed = intrinsics.federated_secure_sum(leaves, max_records_per_user)
    else:
      summed = intrinsics.federated_sum(leaves)
    return state, intrinsics.federated_map(build_tree, summed)

  return iterative_process.IterativeProcess(initialize_fn, next_fn)

