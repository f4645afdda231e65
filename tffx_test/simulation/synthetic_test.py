import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.simulation import synthetic

_VARIANTS = tuple(
    (name, *params) for name, params in synthetic.VARIANTS.items())


def _label_distance(clients):
  """Mean total variation distance between each client's label distribution
  and the pooled one: 0 when every client has the pooled label frequencies,
  near 1 when clients have disjoint labels.
  """
  labels = [c['y'] for c in clients.values()]
  pooled = np.bincount(np.concatenate(labels), minlength=10)
  pooled = pooled / pooled.sum()
  return np.mean([
      0.5 * np.abs(np.bincount(y, minlength=10) / len(y) - pooled).sum()
      for y in labels
  ])


def _pooled(clients, name):
  return np.concatenate([c[name] for c in clients.values()])


class GenerateClientArraysTest(parameterized.TestCase):

  @parameterized.named_parameters(*_VARIANTS)
  def test_same_seed_gives_same_data(self, alpha, beta, iid):

    first = synthetic.generate_client_arrays(alpha, beta, iid, 10, seed=5)
    again = synthetic.generate_client_arrays(alpha, beta, iid, 10, seed=5)

    self.assertEqual(list(first), list(again))
    for client_id in first:
      for name in ('x', 'y'):
        np.testing.assert_array_equal(first[client_id][name],
                                      again[client_id][name])

  @parameterized.named_parameters(*_VARIANTS)
  def test_different_seeds_give_different_data(self, alpha, beta, iid):

    first = synthetic.generate_client_arrays(alpha, beta, iid, 10, seed=5)
    other = synthetic.generate_client_arrays(alpha, beta, iid, 10, seed=6)

    self.assertFalse(np.array_equal(_pooled(first, 'x')[:50],
                                    _pooled(other, 'x')[:50]))
    self.assertNotEqual([len(c['y']) for c in first.values()],
                        [len(c['y']) for c in other.values()])

  def test_client_data_does_not_depend_on_num_clients(self):

    few = synthetic.generate_client_arrays(1.0, 1.0, num_clients=3, seed=2)
    many = synthetic.generate_client_arrays(1.0, 1.0, num_clients=12, seed=2)

    for k in range(3):
      np.testing.assert_array_equal(few[f'client_{k}']['x'],
                                    many[f'client_{k:02d}']['x'])

  def test_arrays_have_paper_shapes_and_dtypes(self):

    clients = synthetic.generate_client_arrays(0.5, 0.5, num_clients=4)

    self.assertEqual(list(clients),
                     ['client_0', 'client_1', 'client_2', 'client_3'])
    for arrays in clients.values():
      self.assertEqual(arrays['x'].dtype, np.float32)
      self.assertEqual(arrays['y'].dtype, np.int32)
      self.assertEqual(arrays['x'].shape, (len(arrays['y']), 60))

  def test_iid_feature_variance_per_dimension_is_j_to_the_minus_1_2(self):
    clients = synthetic.generate_client_arrays(0, 0, iid=True, num_clients=60,
                                               seed=1)
    x = _pooled(clients, 'x').astype(np.float64)

    variances = x.var(axis=0)

    expected = np.arange(1, 61)**-1.2
    self.assertGreater(len(x), 10_000)
    # The relative error of a variance estimate is about sqrt(2 / n) ~ 1.2%.
    np.testing.assert_allclose(variances, expected, rtol=0.06)
    np.testing.assert_allclose(x.mean(axis=0), 0.0,
                               atol=4 * np.sqrt(expected / len(x)).max())
    np.testing.assert_allclose(synthetic.feature_variances(), expected)

  def test_client_sizes_are_heavy_tailed(self):
    clients = synthetic.generate_client_arrays(0, 0, iid=True,
                                               num_clients=300, seed=0)
    sizes = np.array([len(c['y']) for c in clients.values()], np.float64)

    skewness = np.mean((sizes - sizes.mean())**3) / sizes.std()**3

    self.assertGreaterEqual(sizes.min(), 50)
    self.assertGreater(sizes.mean(), 2 * np.median(sizes))
    self.assertGreater(sizes.max(), 50 * np.median(sizes))
    self.assertGreater(skewness, 5)

  def test_client_sizes_are_the_same_in_every_variant(self):

    sizes = {
        name: [len(c['y']) for c in synthetic.generate_client_arrays(
            alpha, beta, iid, 8, seed=3).values()]
        for name, alpha, beta, iid in _VARIANTS
    }

    self.assertLen({tuple(s) for s in sizes.values()}, 1)

  @parameterized.named_parameters(*_VARIANTS)
  def test_labels_cover_ten_classes(self, alpha, beta, iid):
    clients = synthetic.generate_client_arrays(alpha, beta, iid, 30, seed=0)

    labels = _pooled(clients, 'y')

    self.assertEqual(sorted(np.unique(labels)), list(range(10)))

  def test_labels_differ_more_across_clients_for_1_1_than_iid(self):
    iid = synthetic.generate_client_arrays(0, 0, iid=True, seed=0)
    heterogeneous = synthetic.generate_client_arrays(1, 1, seed=0)

    iid_distance = _label_distance(iid)
    heterogeneous_distance = _label_distance(heterogeneous)

    self.assertLess(iid_distance, 0.2)
    self.assertGreater(heterogeneous_distance, 0.5)
    self.assertGreater(heterogeneous_distance, 3 * iid_distance)

  def test_feature_means_differ_across_clients_with_beta(self):

    def spread(clients):
      # Client k's features average v_k ~ N(B_k, 1), B_k ~ N(0, beta^2):
      # across clients their mean spreads as beta (plus 1/sqrt(60)).
      return np.std([c['x'].mean() for c in clients.values()])

    iid = spread(synthetic.generate_client_arrays(0, 0, iid=True, seed=4))
    beta_1 = spread(synthetic.generate_client_arrays(0, 1, seed=4))

    self.assertLess(iid, 0.1)
    self.assertBetween(beta_1, 0.5, 1.6)

  @parameterized.named_parameters(
      ('negative_alpha', dict(alpha=-1.0, beta=0.0), 'non-negative alpha'),
      ('iid_with_beta', dict(alpha=0.0, beta=0.5, iid=True),
       'alpha=0 and beta=0 for the IID variant'),
      ('no_clients', dict(alpha=0.0, beta=0.0, num_clients=0),
       'positive integer num_clients'),
      ('negative_seed', dict(alpha=0.0, beta=0.0, seed=-1),
       'non-negative integer seed'),
  )
  def test_generate_raises_value_error(self, kwargs, message):

    with self.assertRaisesRegex(ValueError, message):
      synthetic.generate_client_arrays(**kwargs)


class LoadDataTest(parameterized.TestCase):

  def test_train_and_test_split_each_client(self):
    clients = synthetic.generate_client_arrays(1, 1, num_clients=5, seed=7)

    train, test = synthetic.load_data(1, 1, num_clients=5, seed=7)

    self.assertEqual(train.client_ids, list(clients))
    self.assertEqual(test.client_ids, list(clients))
    for client_id, arrays in clients.items():
      n_train = train.num_examples(client_id)
      n_test = test.num_examples(client_id)
      self.assertEqual(n_train + n_test, len(arrays['y']))
      self.assertBetween(n_test, 1, 0.1 * len(arrays['y']) + 1)
      test_y = [int(e['y']) for e in test.create_tf_dataset_for_client(
          client_id)]
      np.testing.assert_array_equal(test_y, arrays['y'][n_train:])

  def test_elements_are_ordered_dicts_of_x_and_y(self):

    train, _ = synthetic.load_data(0, 0, iid=True, num_clients=2)

    self.assertEqual(
        train.element_type_structure,
        collections.OrderedDict(
            x=tf.TensorSpec([60], tf.float32), y=tf.TensorSpec([], tf.int32)))

  def test_load_variant_matches_load_data(self):

    by_name, _ = synthetic.load_variant('synthetic_0.5_0.5', num_clients=3,
                                        seed=1)
    direct, _ = synthetic.load_data(0.5, 0.5, num_clients=3, seed=1)

    for client_id in direct.client_ids:
      self.assertEqual(by_name.num_examples(client_id),
                       direct.num_examples(client_id))

  def test_load_variant_arrays_are_the_client_data_examples(self):

    train, test = synthetic.load_variant('synthetic_1_1', num_clients=3,
                                         seed=2)
    train_arrays, test_arrays = synthetic.load_variant_arrays(
        'synthetic_1_1', num_clients=3, seed=2)

    for data, arrays in ((train, train_arrays), (test, test_arrays)):
      self.assertEqual(sorted(arrays), data.client_ids)
      for client_id in data.client_ids:
        dataset = data.create_tf_dataset_for_client(client_id)
        examples = dataset.batch(1000).get_single_element()
        np.testing.assert_array_equal(arrays[client_id]['x'],
                                      examples['x'].numpy())
        np.testing.assert_array_equal(arrays[client_id]['y'],
                                      examples['y'].numpy())

  def test_load_variant_arrays_raises_unknown_name(self):

    with self.assertRaisesRegex(ValueError, "found 'synthetic_2_2'"):
      synthetic.load_variant_arrays('synthetic_2_2')

  def test_variants_are_the_papers(self):

    self.assertEqual(
        dict(synthetic.VARIANTS), {
            'synthetic_0_0': (0.0, 0.0, False),
            'synthetic_0.5_0.5': (0.5, 0.5, False),
            'synthetic_1_1': (1.0, 1.0, False),
            'synthetic_iid': (0.0, 0.0, True),
        })

  def test_load_variant_raises_unknown_name(self):

    with self.assertRaisesRegex(ValueError, "found 'synthetic_2_2'"):
      synthetic.load_variant('synthetic_2_2')

  @parameterized.parameters(0.0, 1.0, -0.1)
  def test_load_data_raises_test_fraction_out_of_range(self, fraction):

    with self.assertRaisesRegex(ValueError, r'test_fraction in \(0, 1\)'):
      synthetic.load_data(0, 0, test_fraction=fraction)


if __name__ == '__main__':
  absltest.main()
