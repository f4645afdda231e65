import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.executors import dataset_sources
from tffx.remote import controller_values
from tffx.remote import worker_session
from tffx.simulation import synthetic
from tffx.types import computation_types as ct


def _elements(dataset):
  return [tf.nest.map_structure(lambda t: t.numpy().tolist(), e)
          for e in dataset]


class DatasetSourcesTest(absltest.TestCase):

  def test_synthetic_dataset_reopens_from_its_source_alike(self):
    train, _ = synthetic.load_data(0.5, 0.5, num_clients=3, seed=4)
    dataset = dataset_sources.batch(
        train.create_tf_dataset_for_client('client_1'), 7)

    source = dataset_sources.source_of(dataset)
    reopened = dataset_sources.open_dataset(source)

    self.assertEqual((source.kind, source.client_id, source.batch_size),
                     ('synthetic', 'client_1', 7))
    self.assertEqual(_elements(reopened), _elements(dataset))

  def test_other_transformations_drop_the_source(self):
    train, _ = synthetic.load_data(0.0, 0.0, num_clients=1, seed=0)
    dataset = train.create_tf_dataset_for_client('client_0')

    self.assertIsNotNone(dataset_sources.source_of(dataset))
    self.assertIsNone(dataset_sources.source_of(dataset.take(3)))
    self.assertIsNone(dataset_sources.source_of(
        dataset_sources.batch(dataset, 2).batch(2)))

  def test_unknown_kind_is_refused(self):
    with self.assertRaisesRegex(ValueError, "found 'nowhere'"):
      dataset_sources.open_dataset(
          dataset_sources.DatasetSource.of('nowhere', {}, 'a'))

  def test_clients_value_sends_ids_not_examples(self):
    train, _ = synthetic.load_data(1.0, 1.0, num_clients=4, seed=2)
    datasets = [dataset_sources.batch(train.create_tf_dataset_for_client(c),
                                      10) for c in train.client_ids]
    batch = collections.OrderedDict(
        x=ct.TensorType(np.float32, [None, 60]),
        y=ct.TensorType(np.int32, [None]))
    value = controller_values.ClientsValue(
        ct.type_at_clients(ct.SequenceType(batch)), 4,
        members=tuple(datasets))

    argument = value.argument(worker_session.Shard(0, None, 1, 3))

    self.assertEqual(argument.WhichOneof('kind'), 'dataset_sources')
    self.assertEqual(list(argument.dataset_sources.client_id),
                     ['client_1', 'client_2'])
    self.assertLess(argument.ByteSize(), 1000)


if __name__ == '__main__':
  absltest.main()
