"""`add_debug_measurements`: norms of client and server updates, for
debugging learning processes (`tff.learning.add_debug_measurements`).

Wraps an aggregation factory (weighted or not) with
`tffx.aggregators.add_measurements`, twice, leaving the aggregation itself
unchanged:

    clients:  average_client_norm    (weighted) mean of the clients' L2 norms
              std_dev_client_norm    their (weighted) standard deviation,
                                     from the unbiased variance
    server:   server_update_max      the largest entry of the result
              server_update_norm     the result's L2 norm
              server_update_min      the smallest entry of the result

An "entry" is any element of any tensor of the structure. An unweighted
factory weighs every client 1. Norms, entries and statistics are float32.
The client statistics use `federated_mean` and `federated_sum` (not secure
aggregation), as TFF's do.
"""

import collections
from typing import TypeVar

import tensorflow as tf

from tffx.aggregators import factory
from tffx.aggregators import measurements
from tffx.aggregators import tensor_math
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.types import placements

_Factory = TypeVar('_Factory', factory.UnweightedAggregationFactory,
                   factory.WeightedAggregationFactory)


@tensorflow_computation.tf_computation
def _square(value):
  return value * value


@tensorflow_computation.tf_computation
def _unbiased_std_dev(mean, mean_of_squares, weight_sum, squared_weight_sum):
  """The std dev of values of mean `mean` under weights `w_i`.

  With `a = sum w_i` and `b = sum w_i**2`, the biased variance is corrected
  by `a**2 / (a**2 - b)` (Bessel's `n / (n - 1)` for equal weights); no
  correction (0) for a single client.
  """
  mean, mean_of_squares = tf.cast(mean, tf.float32), tf.cast(
      mean_of_squares, tf.float32)
  weight_sum = tf.cast(weight_sum, tf.float32)
  squared_weight_sum = tf.cast(squared_weight_sum, tf.float32)
  correction = tf.math.divide_no_nan(weight_sum**2,
                                     weight_sum**2 - squared_weight_sum)
  variance = tf.maximum(mean_of_squares - mean**2, 0.0)
  return tf.sqrt(correction * variance)


def _norm_fn(value_type):

  @tensorflow_computation.tf_computation(value_type)
  def norm(value):
    return tensor_math.global_norm(tensor_math.flatten(value), 2.0)

  return norm


def _server_statistics_fn(result_type):

  @tensorflow_computation.tf_computation(result_type)
  def statistics(result):
    leaves = [tf.cast(tf.reshape(leaf, [-1]), tf.float32)
              for leaf in tensor_math.flatten(result)]
    entries = tf.concat(leaves + [tf.zeros([0], tf.float32)], axis=0)
    return collections.OrderedDict(
        server_update_max=tf.reduce_max(entries),
        server_update_norm=tensor_math.global_norm(leaves, 2.0),
        server_update_min=tf.reduce_min(entries))

  return statistics


def _client_statistics(value, weight):
  """The mean and std dev of the clients' norms, at SERVER."""
  norms = intrinsics.federated_map(_norm_fn(value.type_signature.member),
                                   value)
  weight = intrinsics.federated_map(
      tensorflow_computation.tf_computation(
          lambda w: tf.cast(w, tf.float32), weight.type_signature.member),
      weight)
  mean = intrinsics.federated_mean(norms, weight)
  mean_of_squares = intrinsics.federated_mean(
      intrinsics.federated_map(_square, norms), weight)
  weight_sum = intrinsics.federated_sum(weight)
  squared_weight_sum = intrinsics.federated_sum(
      intrinsics.federated_map(_square, weight))
  std_dev = intrinsics.federated_map(
      _unbiased_std_dev,
      (mean, mean_of_squares, weight_sum, squared_weight_sum))
  return collections.OrderedDict(average_client_norm=mean,
                                 std_dev_client_norm=std_dev)


def _weighted_client_measurements(value, weight):
  return _client_statistics(value, weight)


def _unweighted_client_measurements(value):
  return _client_statistics(value,
                            intrinsics.federated_value(1.0, placements.CLIENTS))


def _server_measurements(result):
  statistics = intrinsics.federated_map(
      _server_statistics_fn(result.type_signature.member), result)
  return collections.OrderedDict(
      (name, statistics[name]) for name in
      ('server_update_max', 'server_update_norm', 'server_update_min'))


def add_debug_measurements(aggregation_factory: _Factory) -> _Factory:
  """Returns `aggregation_factory` with debugging measurements added.

  See the module docstring for the five measurements. Weighted factories
  weigh the client statistics by the aggregation's weights.

  Args:
    aggregation_factory: A weighted or unweighted aggregation factory whose
      measurements are named (or empty).

  Returns:
    A factory of the same kind.

  Raises:
    TypeError: if `aggregation_factory` is not an aggregation factory.
  """
  weighted = isinstance(aggregation_factory,
                        factory.WeightedAggregationFactory)
  client_fn = (_weighted_client_measurements if weighted else
               _unweighted_client_measurements)
  with_clients = measurements.add_measurements(aggregation_factory, client_fn)
  return measurements.add_measurements(with_clients, _server_measurements,
                                       client_placed_input=False)
