import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.executors import client_dataset_phases
from tffx.types import computation_types as ct

_ELEMENT = ct.to_type(
    collections.OrderedDict(x=ct.TensorType(np.float32, [None, 2]),
                            y=ct.TensorType(np.int32, [None])))
_SPECS = (tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([None], tf.int32))


def _dataset(size: int, batch: int, first: int, pipeline: str):
  x = np.arange(first, first + 2 * size, dtype=np.float32).reshape([size, 2])
  y = np.arange(first, first + size, dtype=np.int32)
  dataset = tf.data.Dataset.from_tensor_slices(
      collections.OrderedDict(x=x, y=y)).batch(batch)
  if pipeline == 'mapped':  # Read by tf.data rather than the fast path.
    dataset = dataset.map(lambda e: e)
  return dataset


def _phase_elements(outputs):
  """Per phase: (clients, [y batch of each client])."""
  _, y_rows, clients, client_starts, leads, row_starts = [
      np.asarray(o) for o in outputs
  ]
  phases = []
  for p in range(len(client_starts) - 1):
    members = clients[client_starts[p]:client_starts[p + 1]].tolist()
    ys = y_rows[row_starts[p, 1]:row_starts[p + 1, 1]].reshape(
        [len(members), leads[p, 1]])
    phases.append((members, ys.tolist()))
  return phases


class DatasetPhasesTest(parameterized.TestCase):

  @parameterized.parameters('sliced', 'mapped')
  def test_phases_follow_steps_and_batch_sizes_uneven_clients(self, pipeline):
    # Client 0: batches of 3, 3, 1; client 1: 3; client 2: none;
    # client 3: 3, 3, 2.
    datasets = [_dataset(n, 3, 100 * k, pipeline)
                for k, n in enumerate([7, 3, 0, 8])]

    outputs = client_dataset_phases.DatasetPhases(_ELEMENT, _SPECS)(datasets)

    self.assertEqual(_phase_elements(outputs), [
        ([0, 1, 3], [[0, 1, 2], [100, 101, 102], [300, 301, 302]]),
        ([0, 3], [[3, 4, 5], [303, 304, 305]]),
        ([0], [[6]]),
        ([3], [[306, 307]]),
    ])

  @parameterized.parameters('sliced', 'mapped')
  def test_rows_hold_every_example_once(self, pipeline):
    sizes = [5, 1, 9, 4]
    datasets = [_dataset(n, 2, 100 * k, pipeline)
                for k, n in enumerate(sizes)]

    x_rows, y_rows, *_ = client_dataset_phases.DatasetPhases(
        _ELEMENT, _SPECS)(datasets)

    expected = sorted(100 * k + i for k, n in enumerate(sizes)
                      for i in range(n))
    self.assertEqual(sorted(np.asarray(y_rows).tolist()), expected)
    np.testing.assert_array_equal(
        np.asarray(x_rows)[:, 0] - np.asarray(y_rows),
        np.asarray(y_rows) % 100)

  def test_drop_remainder_drops_partial_batch(self):
    x = np.zeros([5, 2], np.float32)
    y = np.arange(5, dtype=np.int32)
    dataset = tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(x=x, y=y)).batch(2, drop_remainder=True)

    outputs = client_dataset_phases.DatasetPhases(_ELEMENT, _SPECS)(
        [dataset, dataset])

    self.assertEqual(_phase_elements(outputs), [
        ([0, 1], [[0, 1], [0, 1]]),
        ([0, 1], [[2, 3], [2, 3]]),
    ])

  def test_no_phases_all_clients_empty(self):
    datasets = [_dataset(0, 3, 0, 'sliced')] * 2

    outputs = client_dataset_phases.DatasetPhases(_ELEMENT, _SPECS)(datasets)

    self.assertEqual(_phase_elements(outputs), [])
    self.assertEqual(np.asarray(outputs[0]).shape, (0, 2))


if __name__ == '__main__':
  absltest.main()
