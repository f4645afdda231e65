import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.simulation import tensor_slices_client_data
from tffx.simulation.baselines import task_data


def _client_data(num_clients=3, dtype=np.int64):
  return tensor_slices_client_data.TestClientData({
      f'c{i}': collections.OrderedDict(
          x=np.arange(i * 10, i * 10 + 4, dtype=dtype))
      for i in range(num_clients)
  })


def _batch_by_two(dataset):
  return dataset.batch(2)


class BaselineTaskDatasetsTest(absltest.TestCase):

  def test_attributes_are_constructor_arguments(self):
    train, test, validation = _client_data(), _client_data(2), _client_data(1)

    datasets = task_data.BaselineTaskDatasets(
        train, test, validation, train_preprocess_fn=_batch_by_two,
        eval_preprocess_fn=_batch_by_two)

    self.assertIs(datasets.train_data, train)
    self.assertIs(datasets.test_data, test)
    self.assertIs(datasets.validation_data, validation)
    self.assertIs(datasets.train_preprocess_fn, _batch_by_two)
    self.assertIs(datasets.eval_preprocess_fn, _batch_by_two)

  def test_element_type_structure_is_preprocessed_train_type(self):

    datasets = task_data.BaselineTaskDatasets(
        _client_data(), _client_data(), train_preprocess_fn=_batch_by_two,
        eval_preprocess_fn=_batch_by_two)

    self.assertEqual(
        datasets.element_type_structure,
        collections.OrderedDict(x=tf.TensorSpec([None], tf.int64)))

  def test_element_type_structure_without_preprocessing_is_raw_type(self):

    datasets = task_data.BaselineTaskDatasets(_client_data(), _client_data())

    self.assertEqual(datasets.element_type_structure,
                     collections.OrderedDict(x=tf.TensorSpec([], tf.int64)))

  def test_sample_train_clients_preprocesses_seeded_sample(self):
    datasets = task_data.BaselineTaskDatasets(
        _client_data(), _client_data(), train_preprocess_fn=_batch_by_two,
        eval_preprocess_fn=_batch_by_two)

    first = datasets.sample_train_clients(2, random_seed=5)
    again = datasets.sample_train_clients(2, random_seed=5)

    expected_ids = np.random.RandomState(5).choice(['c0', 'c1', 'c2'], 2,
                                                   replace=False)
    firsts = [[b['x'].numpy().tolist() for b in d] for d in first]
    self.assertEqual(firsts,
                     [[b['x'].numpy().tolist() for b in d] for d in again])
    self.assertEqual([f[0][0] // 10 for f in firsts],
                     [int(i[1:]) for i in expected_ids])
    self.assertEqual([len(f) for f in firsts], [2, 2])

  def test_sample_train_clients_with_replacement_may_exceed_clients(self):
    datasets = task_data.BaselineTaskDatasets(_client_data(2), _client_data())

    sampled = datasets.sample_train_clients(5, replace=True, random_seed=1)

    self.assertLen(sampled, 5)

  def test_sample_train_clients_without_replacement_raises_on_too_many(self):
    datasets = task_data.BaselineTaskDatasets(_client_data(2), _client_data())

    with self.assertRaises(ValueError):
      datasets.sample_train_clients(3, random_seed=1)

  def test_get_centralized_test_data_joins_clients_then_preprocesses(self):
    datasets = task_data.BaselineTaskDatasets(
        _client_data(), _client_data(2), train_preprocess_fn=_batch_by_two,
        eval_preprocess_fn=lambda ds: ds.batch(3))

    batches = [b['x'].numpy().tolist()
               for b in datasets.get_centralized_test_data()]

    # The clients come in a fresh random order, each client's examples in
    # theirs; the batches of 3 then cross the client boundary.
    client_0, client_1 = [0, 1, 2, 3], [10, 11, 12, 13]
    joined = sum(batches, [])
    self.assertIn(joined, [client_0 + client_1, client_1 + client_0])
    self.assertEqual([len(b) for b in batches], [3, 3, 2])

  def test_get_centralized_test_data_preprocesses_central_dataset(self):
    test = tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(x=np.arange(5, dtype=np.int64)))
    datasets = task_data.BaselineTaskDatasets(
        _client_data(), test, train_preprocess_fn=_batch_by_two,
        eval_preprocess_fn=_batch_by_two)

    batches = [b['x'].numpy().tolist()
               for b in datasets.get_centralized_test_data()]

    self.assertEqual(batches, [[0, 1], [2, 3], [4]])

  def test_summary_prints_table_and_preprocessing(self):
    central = tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(x=np.arange(5, dtype=np.int64)))
    datasets = task_data.BaselineTaskDatasets(
        _client_data(10), central, validation_data=central,
        train_preprocess_fn=_batch_by_two)
    lines = []

    datasets.summary(print_fn=lines.append)

    self.assertEqual(lines, [
        'Split      |Dataset Type |Number of Clients |',
        '=============================================',
        'Train      |Federated    |10                |',
        'Test       |Centralized  |N/A               |',
        'Validation |Centralized  |N/A               |',
        '_____________________________________________',
        'Train Preprocess Function: True',
        'Eval Preprocess Function: False',
    ])

  def test_record_hparams_lists_splits(self):
    datasets = task_data.BaselineTaskDatasets(
        _client_data(4), _client_data(2), eval_preprocess_fn=_batch_by_two)

    hparams = datasets.record_hparams()

    self.assertEqual(dict(hparams), {
        'train_data_type': 'Federated', 'num_train_clients': 4,
        'test_data_type': 'Federated', 'num_test_clients': 2,
        'validation_data_type': 'None', 'num_validation_clients': 'N/A',
        'train_preprocess_fn': False, 'eval_preprocess_fn': True,
    })

  def test_raises_type_error_when_train_data_is_not_client_data(self):
    with self.assertRaises(TypeError):
      task_data.BaselineTaskDatasets(tf.data.Dataset.range(3), _client_data())

  def test_raises_type_error_when_test_data_is_a_list(self):
    with self.assertRaises(TypeError):
      task_data.BaselineTaskDatasets(_client_data(), [1, 2])

  def test_raises_value_error_when_preprocess_fn_not_callable(self):
    with self.assertRaisesRegex(ValueError,
                                'The train_preprocess_fn must be None or '
                                'callable.'):
      task_data.BaselineTaskDatasets(_client_data(), _client_data(),
                                     train_preprocess_fn=3)
    with self.assertRaisesRegex(ValueError,
                                'The eval_preprocess_fn must be None or '
                                'callable.'):
      task_data.BaselineTaskDatasets(_client_data(), _client_data(),
                                     eval_preprocess_fn='batch')

  def test_accepts_test_data_shaped_unlike_train_data(self):

    datasets = task_data.BaselineTaskDatasets(
        _client_data(), _client_data(dtype=np.float32),
        train_preprocess_fn=_batch_by_two)

    self.assertEqual(datasets.get_centralized_test_data().element_spec,
                     collections.OrderedDict(x=tf.TensorSpec([], tf.float32)))

  def test_raises_value_error_when_validation_type_differs_from_test(self):
    with self.assertRaisesRegex(ValueError, 'The validation set must be None'):
      task_data.BaselineTaskDatasets(
          _client_data(), _client_data(),
          validation_data=_client_data(dtype=np.int32))


if __name__ == '__main__':
  absltest.main()
