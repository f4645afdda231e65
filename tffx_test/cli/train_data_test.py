import os

from absl.testing import absltest
from absl.testing import parameterized
import h5py
import numpy as np
import tensorflow as tf

from tffx.cli import errors
from tffx.cli import train_data
from tffx.simulation import synthetic
from tffx_test.cli import hdf5_files


def _batches(dataset):
  return [(x.numpy(), y.numpy()) for x, y in dataset]


class LoadSyntheticTest(parameterized.TestCase):

  @parameterized.parameters(*train_data.SYNTHETIC_DATASETS)
  def test_load_dataset_gives_synthetic_variant(self, name):

    data = train_data.load_dataset(name)

    self.assertLen(data.train.client_ids, 30)
    self.assertEqual(data.train.client_ids, data.test.client_ids)
    self.assertEqual((data.num_features, data.num_classes, data.eval_split),
                     (60, 10, 'test'))
    x, y = next(iter(data.train.create_tf_dataset_for_client('client_00')))
    self.assertEqual((x.shape, x.dtype, y.shape, y.dtype),
                     ((60,), tf.float32, (), tf.int32))

  def test_load_dataset_synthetic_examples_are_the_generated_ones(self):
    train, test = synthetic.load_variant('synthetic_1_1', seed=3)

    data = train_data.load_dataset('synthetic_1_1', data_seed=3)

    for generated, loaded in ((train, data.train), (test, data.test)):
      for client_id in ('client_00', 'client_29'):
        expected = list(generated.create_tf_dataset_for_client(client_id))
        examples = list(loaded.create_tf_dataset_for_client(client_id))
        self.assertLen(examples, len(expected))
        for (x, y), element in zip(examples, expected):
          np.testing.assert_array_equal(x.numpy(), element['x'].numpy())
          self.assertEqual(int(y), int(element['y']))

  def test_load_dataset_depends_on_data_seed(self):

    first = train_data.load_dataset('synthetic_iid', data_seed=1)
    other = train_data.load_dataset('synthetic_iid', data_seed=2)

    x1, _ = next(iter(first.train.create_tf_dataset_for_client('client_00')))
    x2, _ = next(iter(other.train.create_tf_dataset_for_client('client_00')))
    self.assertFalse(np.array_equal(x1.numpy(), x2.numpy()))

  @parameterized.named_parameters(
      ('unknown_name', 'mnist', '--dataset=mnist: expected one of'),
      ('empty_path', 'hdf5:', "--dataset=hdf5:: expected a file path"),
  )
  def test_load_dataset_raises_config_error(self, spec, message):

    with self.assertRaisesRegex(errors.TrainConfigError, message):
      train_data.load_dataset(spec)


class LoadHdf5Test(parameterized.TestCase):

  def test_load_dataset_flattens_pixels_and_reads_labels(self):
    path = hdf5_files.write_emnist_like(
        os.path.join(self.create_tempdir().full_path, 'train.h5'))

    data = train_data.load_dataset(f'hdf5:{path}')

    self.assertEqual(data.train.client_ids, ['f0000_00', 'f0001_00',
                                             'f0002_00'])
    self.assertEqual((data.num_features, data.num_classes, data.eval_split),
                     (784, 3, 'train'))
    examples = list(data.train.create_tf_dataset_for_client('f0000_00'))
    with h5py.File(path, 'r') as f:
      pixels = f['examples/f0000_00/pixels'][()]
    self.assertLen(examples, 4)
    np.testing.assert_array_equal(examples[1][0].numpy(),
                                  pixels[1].reshape(-1))
    self.assertEqual(examples[1][1].numpy(), 1)

  def test_load_dataset_uses_test_file_and_its_labels(self):
    directory = self.create_tempdir().full_path
    train = hdf5_files.write_emnist_like(os.path.join(directory, 'train.h5'))
    test = hdf5_files.write_emnist_like(
        os.path.join(directory, 'test.h5'), num_clients=1, examples=(2,),
        labels=[[0, 6]])

    data = train_data.load_dataset(f'hdf5:{train}', test_path=test)

    self.assertEqual(data.test.client_ids, ['f0000_00'])
    self.assertEqual((data.num_classes, data.eval_split), (7, 'test'))

  def test_load_dataset_takes_num_classes_when_given(self):
    path = hdf5_files.write_emnist_like(
        os.path.join(self.create_tempdir().full_path, 'train.h5'))

    data = train_data.load_dataset(f'hdf5:{path}', num_classes=62)

    self.assertEqual(data.num_classes, 62)

  def test_load_dataset_raises_for_missing_file(self):
    path = os.path.join(self.create_tempdir().full_path, 'nope.h5')

    with self.assertRaises(errors.TrainConfigError) as raised:
      train_data.load_dataset(f'hdf5:{path}')

    self.assertEqual(str(raised.exception),
                     f'--dataset=hdf5:{path}: file not found')

  def test_load_dataset_raises_for_file_that_is_not_hdf5(self):
    path = self.create_tempfile('text.h5', content='not hdf5').full_path

    with self.assertRaisesRegex(errors.TrainConfigError,
                                f'--dataset=hdf5:{path}: .*cannot read'):
      train_data.load_dataset(f'hdf5:{path}')

  @parameterized.named_parameters(
      ('missing_feature', ['image'], 'label',
       "expected a feature 'image' in the file, found \\['label', 'pixels'\\]"),
      ('missing_label', ['pixels'], 'character',
       "expected a feature 'character'"),
      ('float_label', ['label'], 'pixels',
       "expected the label 'pixels' to be one integer per example, found "
       "float32"),
  )
  def test_load_dataset_raises_for_columns_that_do_not_fit(
      self, features, label, message):
    path = hdf5_files.write_emnist_like(
        os.path.join(self.create_tempdir().full_path, 'train.h5'))

    with self.assertRaisesRegex(errors.TrainConfigError, message):
      train_data.load_dataset(f'hdf5:{path}', features=features, label=label)


  @parameterized.named_parameters(
      ('negative', dict(labels=[[0, -1, 2, 1], [0, 1], [2, 0, 1]]), 0,
       'expected labels 0 or more, found -1'),
      ('beyond_num_classes', {}, 2,
       'expected labels below --num_classes=2, found 2'),
      ('no_examples', dict(examples=(0, 0, 0)), 0,
       'expected examples, found 3 clients with none'),
  )
  def test_load_dataset_raises_for_labels_that_do_not_fit(
      self, file_kwargs, num_classes, message):
    path = hdf5_files.write_emnist_like(
        os.path.join(self.create_tempdir().full_path, 'train.h5'),
        **file_kwargs)

    with self.assertRaisesRegex(errors.TrainConfigError,
                                f'--dataset=hdf5:{path}: {message}'):
      train_data.load_dataset(f'hdf5:{path}', num_classes=num_classes)

  def test_load_dataset_skips_clients_without_examples_with_a_warning(self):
    path = hdf5_files.write_emnist_like(
        os.path.join(self.create_tempdir().full_path, 'train.h5'),
        examples=(4, 0, 3))

    data = train_data.load_dataset(f'hdf5:{path}')

    self.assertEqual(data.train.client_ids, ['f0000_00', 'f0002_00'])
    self.assertLen(list(data.train.create_tf_dataset_for_client('f0002_00')),
                   3)
    self.assertEqual(data.warnings, (
        f'1 of 3 clients in {path} have no examples; they are skipped',))


class ClientDatasetsTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.data = train_data.load_dataset('synthetic_iid').train
    self.client_ids = self.data.client_ids[:2]

  def test_client_datasets_without_seed_keep_order_and_batch(self):
    original = list(self.data.create_tf_dataset_for_client(self.client_ids[0]))

    datasets = train_data.client_datasets(self.data, self.client_ids,
                                          batch_size=16)

    self.assertLen(datasets, 2)
    batches = _batches(datasets[0])
    self.assertEqual(batches[0][0].shape, (16, 60))
    self.assertEqual(sum(len(y) for _, y in batches), len(original))
    np.testing.assert_array_equal(batches[0][0][0], original[0][0].numpy())

  def test_client_datasets_repeat_for_epochs(self):

    one, = train_data.client_datasets(self.data, self.client_ids[:1], 8)
    three, = train_data.client_datasets(self.data, self.client_ids[:1], 8,
                                        epochs=3)

    count = lambda ds: sum(len(y) for _, y in _batches(ds))
    self.assertEqual(count(three), 3 * count(one))

  def test_client_datasets_shuffle_is_a_function_of_seed_and_round(self):

    first = train_data.client_datasets(self.data, self.client_ids, 8, epochs=2,
                                       seed=5, round_num=3)
    again = train_data.client_datasets(self.data, self.client_ids, 8, epochs=2,
                                       seed=5, round_num=3)
    next_round = train_data.client_datasets(self.data, self.client_ids, 8,
                                            seed=5, round_num=4)

    for a, b in zip(first, again):
      for (xa, ya), (xb, yb) in zip(_batches(a), _batches(b)):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    self.assertFalse(
        np.array_equal(_batches(first[0])[0][0], _batches(next_round[0])[0][0]))

  def test_shuffle_seed_differs_by_client_and_round(self):

    seeds = {train_data.shuffle_seed(1, r, c) for r in range(3)
             for c in range(3)}

    self.assertLen(seeds, 9)
    self.assertEqual(train_data.shuffle_seed(1, 2, 2),
                     train_data.shuffle_seed(1, 2, 2))


if __name__ == '__main__':
  absltest.main()
