import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.remote import dataset_graphs
from tffx.remote import errors
from tffx.remote import graph_allowlist
from tffx.types import computation_types as ct
from tffx.types import errors as type_errors
from tffx.types import type_conversions

F32 = ct.TensorType(np.float32)
BATCH = ct.to_type(collections.OrderedDict(
    x=ct.TensorType(np.float32, [None, 2]), y=ct.TensorType(np.int32, [None])))


def _batches():
  x = np.arange(10, dtype=np.float32).reshape(5, 2)
  y = np.arange(5, dtype=np.int32)
  return tf.data.Dataset.from_tensor_slices(
      collections.OrderedDict(x=x, y=y)).batch(2)


def _graph_of(dataset):
  """Serializes any dataset, as a peer might, skipping the controller's
  checks."""
  return tf.raw_ops.DatasetToGraphV2(
      input_dataset=tf.data.experimental.to_variant(dataset)).numpy()


def _elements(dataset):
  return [tf.nest.map_structure(np.asarray, e)
          for e in dataset.as_numpy_iterator()]


class DatasetGraphsTest(parameterized.TestCase):

  def test_round_trip_gives_same_elements_and_type_layout(self):
    dataset = _batches()

    graph = dataset_graphs.to_graph(dataset, BATCH)
    rebuilt = dataset_graphs.from_graph(
        graph, BATCH, graph_allowlist.GraphAllowlist(), 'here')

    self.assertEqual(rebuilt.element_spec,
                     type_conversions.to_tf_spec(BATCH))
    for got, want in zip(_elements(rebuilt), _elements(dataset), strict=True):
      np.testing.assert_array_equal(got['x'], want['x'])
      np.testing.assert_array_equal(got['y'], want['y'])

  def test_dataset_in_another_container_is_laid_out_as_the_type(self):
    dataset = _batches().map(lambda e: (e['x'], e['y']))

    graph = dataset_graphs.to_graph(dataset, BATCH)
    rebuilt = dataset_graphs.from_graph(
        graph, BATCH, graph_allowlist.GraphAllowlist(), 'here')

    first = next(iter(rebuilt))
    np.testing.assert_array_equal(first['y'], [0, 1])

  @parameterized.named_parameters(
      ('python_function', lambda: tf.data.Dataset.range(3).map(
          lambda x: tf.reshape(tf.py_function(lambda v: v * 2, [x],
                                              tf.float32), []))),
      ('file_records', lambda: tf.data.TFRecordDataset('/nonexistent').map(
          lambda r: tf.strings.to_number(r))),
  )
  def test_to_graph_gives_none_for_pipelines_that_cannot_travel(self, make):
    self.assertIsNone(dataset_graphs.to_graph(make(), F32))

  def test_from_graph_refuses_file_dataset_naming_op(self):
    graph = _graph_of(tf.data.TFRecordDataset('/etc/passwd'))

    with self.assertRaisesRegex(errors.DisallowedOpError,
                                "'TFRecordDataset'.*files"):
      dataset_graphs.from_graph(graph, ct.TensorType(np.str_),
                                graph_allowlist.GraphAllowlist(), 'here')

  def test_from_graph_refuses_elements_of_another_type(self):
    graph = _graph_of(tf.data.Dataset.from_tensor_slices(np.int32([1, 2])))

    with self.assertRaisesRegex(type_errors.SerializationError,
                                r"yields \['int32\(\)'\].*float32"):
      dataset_graphs.from_graph(graph, F32, graph_allowlist.GraphAllowlist(),
                                'here')

  def test_from_graph_refuses_garbage(self):
    with self.assertRaisesRegex(type_errors.SerializationError,
                                'at here .*does not parse'):
      dataset_graphs.from_graph(b'\xff\xfe', F32,
                                graph_allowlist.GraphAllowlist(), 'here')


if __name__ == '__main__':
  absltest.main()
