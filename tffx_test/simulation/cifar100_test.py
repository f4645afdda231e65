import os

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.simulation import cifar100
from tffx.simulation import errors
from tffx.simulation import sql_client_data


class Cifar100Test(absltest.TestCase):

  def test_load_data_reads_images_and_labels_from_cache(self):
    cache_dir = self.create_tempdir().full_path
    image = np.arange(32 * 32 * 3).reshape(32, 32, 3) % 256
    sql_client_data.write_database(
        os.path.join(cache_dir, 'cifar100.sqlite'), {
            'train': {'0': [{'coarse_label': 4, 'image': image, 'label': 51}]},
            'test': {'0': [{'coarse_label': 1, 'image': image, 'label': 7}]},
        })

    train, test = cifar100.load_data(cache_dir=cache_dir)

    [element] = list(train.create_tf_dataset_for_client('0'))
    self.assertEqual(train.element_type_structure['image'],
                     tf.TensorSpec((32, 32, 3), tf.uint8))
    np.testing.assert_array_equal(element['image'], image)
    self.assertEqual((int(element['coarse_label']), int(element['label'])),
                     (4, 51))
    self.assertEqual(test.client_ids, ['0'])

  def test_get_synthetic_has_load_data_structure(self):
    cache_dir = self.create_tempdir().full_path
    image = np.zeros((32, 32, 3), np.int64)
    sql_client_data.write_database(
        os.path.join(cache_dir, 'cifar100.sqlite'), {
            'train': {'0': [{'coarse_label': 1, 'image': image, 'label': 2}]},
            'test': {'0': [{'coarse_label': 1, 'image': image, 'label': 2}]},
        })
    train, _ = cifar100.load_data(cache_dir=cache_dir)

    synthetic = cifar100.get_synthetic()

    self.assertEqual(synthetic.element_type_structure,
                     train.element_type_structure)
    labels = [int(e['label']) for e in
              synthetic.create_tf_dataset_for_client('synthetic1')]
    self.assertLen(labels, 5)
    self.assertTrue(all(0 <= label < 100 for label in labels))

  def test_load_data_raises_not_found(self):

    with self.assertRaisesRegex(errors.DatasetFileNotFoundError,
                                'cifar100.sqlite'):
      cifar100.load_data(cache_dir=self.create_tempdir().full_path)


if __name__ == '__main__':
  absltest.main()
