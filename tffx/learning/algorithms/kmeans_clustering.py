"""Federated (mini-batch) k-means clustering: `build_fed_kmeans`.

The "model" is the centroids `C` (float32, `(num_clusters,) + data_shape`);
the server also keeps how many points each centroid has absorbed so far
(int32 counts `n`, starting at 1 so a centroid never collapses). One round:

    C --broadcast--> clients: assign each point to its nearest centroid
                     (squared Euclidean distance), return per centroid the
                     sum of its points s_i and their count m_i
    sum over clients (sum_aggregator) --> server:
        C_i <- (n_i * C_i + s_i) / (n_i + m_i)      n_i <- n_i + m_i

Composed with `compose_learning_process`: the finalizer's state is `n`, the
client work reports `<num_examples=int32>` summed over clients. Client
datasets are of unbatched points of shape `data_shape`.
"""

import collections
import time
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tffx.aggregators import factory
from tffx.aggregators import factory_utils
from tffx.aggregators import sum_factory
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.templates import client_works
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import learning_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements


def _closest_centroid(centroids: tf.Tensor, point: tf.Tensor) -> tf.Tensor:
  """The index (int32) of the centroid nearest to `point`."""
  squared = tf.square(centroids - point)
  distances = tf.reduce_sum(tf.reshape(squared, [tf.shape(centroids)[0], -1]),
                            axis=1)
  return tf.argmin(distances, output_type=tf.int32)


def _build_client_work(centroids_type, data_type, num_clusters: int):
  """Client work: per-centroid sums and counts of the nearest points."""

  @tensorflow_computation.tf_computation(centroids_type, data_type)
  def assign_points(centroids, points):

    def step(state, point):
      sums, counts, num_examples = state
      index = [[_closest_centroid(centroids, point)]]
      return (tf.tensor_scatter_nd_add(sums, index, point[tf.newaxis]),
              tf.tensor_scatter_nd_add(counts, index, [1]), num_examples + 1)

    sums, counts, num_examples = points.reduce(
        (tf.zeros_like(centroids), tf.zeros([num_clusters], tf.int32),
         tf.constant(0, tf.int32)), step)
    # The weight is ignored: the sums are aggregated without weights.
    return (client_works.ClientResult((sums, counts),
                                      tf.cast(num_examples, tf.float32)),
            collections.OrderedDict(num_examples=num_examples))

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_value((), placements.SERVER)

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_clients(centroids_type),
      computation_types.type_at_clients(data_type))
  def next_fn(state, centroids, client_data):
    outputs = intrinsics.federated_map(assign_points, (centroids, client_data))
    return measured_process.MeasuredProcessOutput(
        state, outputs[0], intrinsics.federated_sum(outputs[1]))

  return client_works.ClientWorkProcess(init_fn, next_fn)


def _build_finalizer(centroids_type, num_clusters: int):
  """Finalizer: the count-weighted update of the centroids (module docstring)."""

  @tensorflow_computation.tf_computation
  def initial_counts():
    return tf.ones([num_clusters], tf.int32)

  counts_type = initial_counts.type_signature.result

  @tensorflow_computation.tf_computation(counts_type, centroids_type,
                                         (centroids_type, counts_type))
  def update(counts, centroids, summed):
    new_sums, new_counts = summed
    total = counts + new_counts
    shape = tf.concat([[num_clusters], tf.ones([tf.rank(centroids) - 1],
                                               tf.int32)], axis=0)
    old_share = tf.reshape(
        tf.math.divide_no_nan(tf.cast(counts, tf.float32),
                              tf.cast(total, tf.float32)), shape)
    inverse_total = tf.reshape(
        tf.math.divide_no_nan(1.0, tf.cast(total, tf.float32)), shape)
    return total, old_share * centroids + inverse_total * new_sums

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_eval(initial_counts, placements.SERVER)

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_server(centroids_type),
      computation_types.type_at_server((centroids_type, counts_type)))
  def next_fn(counts, centroids, summed):
    updated = intrinsics.federated_map(
        update, intrinsics.federated_zip((counts, centroids, summed)))
    return measured_process.MeasuredProcessOutput(
        updated[0], updated[1], intrinsics.federated_value((),
                                                           placements.SERVER))

  return finalizers.FinalizerProcess(init_fn, next_fn)


def build_fed_kmeans(
    num_clusters: int,
    data_shape: Tuple[int, ...],
    random_seed: Optional[Tuple[int, int]] = None,
    distributor: Optional[distributors.DistributionProcess] = None,
    sum_aggregator: Optional[factory.UnweightedAggregationFactory] = None
) -> learning_process.LearningProcess:
  """Builds federated mini-batch k-means (see the module docstring).

  The initial centroids are standard normal, drawn with
  `tf.random.stateless_normal` from `random_seed` (from the clock when
  None). `get_model_weights` returns the centroids; `state.finalizer` holds
  the counts.

  Args:
    num_clusters: The number of centroids, a positive int.
    data_shape: The shape of one (unbatched) float32 point, a tuple of ints.
    random_seed: Optional pair of ints seeding the initial centroids.
    distributor: Optional `DistributionProcess` of the centroids; default a
      broadcast.
    sum_aggregator: Optional `UnweightedAggregationFactory` summing the
      clients' `(sums, counts)`; default `SumFactory()`.

  Returns:
    A `tffx.learning.templates.LearningProcess`.

  Raises:
    ValueError: if `num_clusters` is not a positive int, or `data_shape`
      not a tuple of non-negative ints.
    FactoryTypeError: if `sum_aggregator` is not an unweighted factory.
    TypeError: if `distributor` is not a `DistributionProcess`.
  """
  if (isinstance(num_clusters, bool) or
      not isinstance(num_clusters, (int, np.integer)) or num_clusters < 1):
    raise ValueError(
        f'Expected num_clusters to be a positive int, found {num_clusters!r}.')
  if not (isinstance(data_shape, tuple) and all(
      isinstance(d, (int, np.integer)) and d >= 0 for d in data_shape)):
    raise ValueError(
        f'Expected data_shape to be a tuple of non-negative ints, found '
        f'{data_shape!r}.')
  if not random_seed:
    random_seed = (int(time.time() * 1e5), 0)
  centroids_shape = (int(num_clusters),) + tuple(int(d) for d in data_shape)
  seed = tuple(int(s) for s in random_seed)

  @tensorflow_computation.tf_computation
  def initial_centroids():
    return tf.random.stateless_normal(centroids_shape, seed, dtype=tf.float32)

  centroids_type = computation_types.TensorType(np.float32, centroids_shape)
  data_type = computation_types.SequenceType(
      computation_types.TensorType(np.float32, data_shape))
  if distributor is None:
    distributor = distributors.build_broadcast_process(centroids_type)
  elif not isinstance(distributor, distributors.DistributionProcess):
    raise TypeError(
        f'build_fed_kmeans expects distributor to be a tffx.learning.'
        f'templates.DistributionProcess, found {type(distributor).__name__}.')
  if sum_aggregator is None:
    sum_aggregator = sum_factory.SumFactory()
  factory.check_factory(sum_aggregator, factory.UnweightedAggregationFactory,
                        'sum_aggregator', 'build_fed_kmeans')
  counts_type = computation_types.TensorType(np.int32, (int(num_clusters),))
  aggregator = factory_utils.as_weighted_aggregator(sum_aggregator).create(
      computation_types.to_type((centroids_type, counts_type)), np.float32)
  return composers.compose_learning_process(
      initial_centroids, distributor,
      _build_client_work(centroids_type, data_type, int(num_clusters)),
      aggregator, _build_finalizer(centroids_type, int(num_clusters)))
