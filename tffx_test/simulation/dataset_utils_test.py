import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.simulation import dataset_utils
from tffx.simulation import tensor_slices_client_data


class DatasetUtilsTest(absltest.TestCase):

  def test_build_dataset_mixture_draws_from_both_in_proportion(self):
    a = tf.data.Dataset.from_tensors(0).repeat()
    b = tf.data.Dataset.from_tensors(1).repeat()

    mixture = dataset_utils.build_dataset_mixture(a, b, 0.25, seed=7)

    values = np.array(list(mixture.take(4000).as_numpy_iterator()))
    self.assertAlmostEqual((values == 0).mean(), 0.25, delta=0.03)

  def test_build_dataset_mixture_raises_for_bad_probability(self):
    a = tf.data.Dataset.range(3)

    with self.assertRaises(ValueError):
      dataset_utils.build_dataset_mixture(a, a, 1.5)

  def test_build_single_label_dataset_keeps_only_that_label(self):
    dataset = tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(label=[0, 1, 1, 2], x=[10, 11, 12, 13]))

    filtered = dataset_utils.build_single_label_dataset(dataset, 'label', 1)

    self.assertEqual([int(e['x']) for e in filtered], [11, 12])

  def test_build_single_label_dataset_raises_for_missing_key(self):
    dataset = tf.data.Dataset.from_tensor_slices({'x': [1, 2]})

    with self.assertRaisesRegex(ValueError, 'label_key'):
      dataset_utils.build_single_label_dataset(dataset, 'label', 1)

  def test_build_synthethic_iid_datasets_windows_all_examples(self):
    cd = tensor_slices_client_data.TestClientData({
        'a': collections.OrderedDict(x=[1, 2, 3]),
        'b': collections.OrderedDict(x=[4, 5]),
    })

    iid = dataset_utils.build_synthethic_iid_datasets(cd, 5)

    windows = [
        sorted(int(v) for v in window['x'])
        for window in iid.take(3)
    ]
    # Each window of 5 is one pass over the 5 examples, reshuffled.
    self.assertEqual(windows, [[1, 2, 3, 4, 5]] * 3)

  def test_build_synthethic_iid_datasets_raises_for_bad_size(self):
    cd = tensor_slices_client_data.TestClientData({'a': [1.0]})

    with self.assertRaises(ValueError):
      dataset_utils.build_synthethic_iid_datasets(cd, 0)


if __name__ == '__main__':
  absltest.main()
