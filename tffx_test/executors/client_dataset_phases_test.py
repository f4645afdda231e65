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

  def test_no_phases_all_clients_empty_read_by_tf_data(self):
    datasets = [_dataset(0, 3, 0, 'mapped')] * 3

    outputs = client_dataset_phases.DatasetPhases(_ELEMENT, _SPECS)(datasets)

    self.assertEqual(_phase_elements(outputs), [])
    self.assertEqual(np.asarray(outputs[1]).shape, (0,))

  def test_shuffled_clients_read_in_their_own_order(self):
    # Read by tf.data: each client's batches come in its shuffled order.
    datasets = [
        tf.data.Dataset.from_tensor_slices(
            collections.OrderedDict(
                x=np.zeros([n, 2], np.float32),
                y=np.arange(100 * k, 100 * k + n, dtype=np.int32))).shuffle(
                    n, seed=k, reshuffle_each_iteration=False).batch(2)
        for k, n in enumerate([5, 3])
    ]
    expected = [[b['y'].numpy().tolist() for b in d] for d in datasets]

    phases = _phase_elements(
        client_dataset_phases.DatasetPhases(_ELEMENT, _SPECS)(datasets))

    read = [[], []]
    for members, ys in phases:
      for client, batch in zip(members, ys):
        read[client].append(batch)
    self.assertEqual(read, expected)

  def test_scalar_component_one_row_per_element(self):
    element = ct.to_type((ct.TensorType(np.int32, [None]),
                          ct.TensorType(np.float32)))
    specs = (tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.float32))
    datasets = [
        tf.data.Dataset.from_tensor_slices(
            np.arange(10 * k, 10 * k + n, dtype=np.int32)).batch(2).map(
                lambda y: (y, tf.cast(tf.reduce_sum(y), tf.float32)))
        for k, n in enumerate([3, 2])
    ]

    (rows, sums, clients, client_starts, leads,
     row_starts) = client_dataset_phases.DatasetPhases(element, specs)(
         datasets)

    np.testing.assert_array_equal(np.asarray(clients), [0, 1, 0])
    np.testing.assert_array_equal(np.asarray(client_starts), [0, 2, 3])
    np.testing.assert_array_equal(np.asarray(leads), [[2, 1], [1, 1]])
    np.testing.assert_array_equal(np.asarray(row_starts), [[0, 0], [4, 2],
                                                           [5, 3]])
    np.testing.assert_array_equal(np.asarray(rows), [0, 1, 10, 11, 2])
    np.testing.assert_array_equal(np.asarray(sums), [1.0, 21.0, 2.0])


if __name__ == '__main__':
  absltest.main()
