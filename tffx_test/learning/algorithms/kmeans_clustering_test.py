from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx
from tffx.aggregators import errors as aggregator_errors
from tffx.aggregators import mean
from tffx.learning.algorithms import kmeans_clustering


def _datasets(arrays):
  return [tf.data.Dataset.from_tensor_slices(a.astype(np.float32))
          for a in arrays]


def _numpy_kmeans_round(centroids, counts, arrays):
  """One round of the federated mini-batch k-means update, in NumPy."""
  points = np.concatenate(arrays)
  nearest = ((points[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
  new_counts = np.bincount(nearest, minlength=len(centroids))
  sums = np.zeros_like(centroids)
  np.add.at(sums, nearest, points)
  total = counts + new_counts
  return (counts[:, None] * centroids + sums) / total[:, None], total


def _cost(centroids, points):
  return ((points[:, None, :] - centroids[None]) ** 2).sum(-1).min(1).sum()


class FedKMeansTest(absltest.TestCase):

  def test_two_rounds_match_numpy_on_two_clients(self):
    arrays = [np.array([[0., 0.], [1., 0.], [9., 9.]]),
              np.array([[10., 8.], [0., 1.], [4., 5.]])]
    process = kmeans_clustering.build_fed_kmeans(2, (2,), random_seed=(1, 2))
    centroids = np.array([[1., 1.], [5., 5.]])
    state = process.set_model_weights(process.initialize(),
                                      centroids.astype(np.float32))
    counts = np.ones(2)

    for _ in range(2):
      state, metrics = process.next(state, _datasets(arrays))
      centroids, counts = _numpy_kmeans_round(centroids, counts, arrays)

    np.testing.assert_allclose(process.get_model_weights(state), centroids,
                               rtol=1e-6)
    np.testing.assert_array_equal(state.finalizer, counts)
    self.assertEqual(metrics['client_work']['num_examples'], 6)

  def test_one_round_matches_numpy_for_points_of_rank_two(self):
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(5, 2, 2)), rng.normal(size=(4, 2, 2))]
    process = kmeans_clustering.build_fed_kmeans(3, (2, 2), random_seed=(7, 8))
    state = process.initialize()
    centroids = np.asarray(process.get_model_weights(state))

    state, _ = process.next(state, _datasets(arrays))

    expected, counts = _numpy_kmeans_round(
        centroids.reshape(3, 4), np.ones(3),
        [a.reshape(len(a), 4) for a in arrays])
    np.testing.assert_allclose(process.get_model_weights(state),
                               expected.reshape(3, 2, 2), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_array_equal(state.finalizer, counts)

  def test_cost_decreases_over_rounds_on_three_blobs(self):
    rng = np.random.default_rng(0)
    centers = np.array([[0., 0.], [6., 0.], [0., 6.]])
    arrays = [centers[rng.integers(3, size=30)] + rng.normal(size=(30, 2))
              for _ in range(4)]
    points = np.concatenate(arrays)
    process = kmeans_clustering.build_fed_kmeans(3, (2,), random_seed=(0, 1))
    state = process.initialize()
    costs = [_cost(np.asarray(process.get_model_weights(state)), points)]

    for _ in range(4):
      state, _ = process.next(state, _datasets(arrays))
      costs.append(_cost(np.asarray(process.get_model_weights(state)), points))

    self.assertEqual(costs, sorted(costs, reverse=True))
    self.assertLess(costs[-1], 0.5 * costs[0])

  def test_same_seed_gives_same_initial_centroids(self):
    first = kmeans_clustering.build_fed_kmeans(4, (3, 2), random_seed=(5, 6))
    second = kmeans_clustering.build_fed_kmeans(4, (3, 2), random_seed=(5, 6))

    np.testing.assert_array_equal(
        first.get_model_weights(first.initialize()),
        second.get_model_weights(second.initialize()))

  def test_type_signature(self):
    process = kmeans_clustering.build_fed_kmeans(3, (2,), random_seed=(0, 0))

    self.assertEqual(
        str(process.next.type_signature),
        '(<state=<global_model_weights=float32[3,2],distributor=<>,'
        'client_work=<>,aggregator=<>,finalizer=int32[3]>@SERVER,'
        'client_data={float32[2]*}@CLIENTS> -> <state=<global_model_weights='
        'float32[3,2],distributor=<>,client_work=<>,aggregator=<>,finalizer='
        'int32[3]>@SERVER,metrics=<distributor=<>,client_work=<num_examples='
        'int32>,aggregator=<>,finalizer=<>>@SERVER>)')

  def test_is_exported_as_tff_learning_algorithms_name(self):
    self.assertIs(tffx.learning.algorithms.build_fed_kmeans,
                  kmeans_clustering.build_fed_kmeans)

  def test_raises_value_error_for_non_positive_num_clusters(self):
    with self.assertRaises(ValueError):
      kmeans_clustering.build_fed_kmeans(0, (2,))

  def test_raises_factory_type_error_for_weighted_sum_aggregator(self):
    with self.assertRaises(aggregator_errors.FactoryTypeError):
      kmeans_clustering.build_fed_kmeans(2, (2,),
                                         sum_aggregator=mean.MeanFactory())


if __name__ == '__main__':
  absltest.main()
