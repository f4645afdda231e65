import collections
import glob
import os

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.program import tensorboard_release_manager

TensorBoardReleaseManager = (
    tensorboard_release_manager.TensorBoardReleaseManager)


def _read_events(summary_dir):
  """Returns [(step, tag, plugin name, value)] from the event files."""
  events = []
  for path in sorted(glob.glob(os.path.join(summary_dir, 'events.out.*'))):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        events.append((event.step, value.tag,
                       value.metadata.plugin_data.plugin_name,
                       tf.make_ndarray(value.tensor)))
  return events


def _metrics(loss, accuracy):
  return collections.OrderedDict(
      client_work=collections.OrderedDict(
          train=collections.OrderedDict(loss=loss, accuracy=accuracy)))


class TensorBoardReleaseManagerTest(parameterized.TestCase):

  def test_release_writes_scalars_readable_with_summary_iterator(self):
    summary_dir = self.create_tempdir().full_path
    manager = TensorBoardReleaseManager(summary_dir)

    manager.release(_metrics(2.0, 0.25), 0)
    manager.release(_metrics(np.float32(1.5), tf.constant(0.5)), 1)

    events = [(step, tag, plugin, float(value))
              for step, tag, plugin, value in _read_events(summary_dir)]
    self.assertEqual(events, [
        (0, 'client_work/train/loss', 'scalars', 2.0),
        (0, 'client_work/train/accuracy', 'scalars', 0.25),
        (1, 'client_work/train/loss', 'scalars', 1.5),
        (1, 'client_work/train/accuracy', 'scalars', 0.5),
    ])

  def test_release_writes_integer_and_bool_scalars_as_floats(self):
    summary_dir = self.create_tempdir().full_path

    TensorBoardReleaseManager(summary_dir).release(
        {'num_examples': np.int64(120), 'converged': True}, 3)

    self.assertEqual([(tag, float(value)) for _, tag, _, value in
                      _read_events(summary_dir)],
                     [('num_examples', 120.0), ('converged', 1.0)])

  def test_release_writes_array_as_histogram_buckets(self):
    summary_dir = self.create_tempdir().full_path
    values = np.array([0.0, 1.0, 1.0, 3.0])

    TensorBoardReleaseManager(summary_dir).release({'norms': values}, 2)

    [(step, tag, plugin, buckets)] = _read_events(summary_dir)
    self.assertEqual((step, tag, plugin), (2, 'norms', 'histograms'))
    # TensorBoard's histogram tensor: rows (left edge, right edge, count).
    self.assertEqual(buckets.shape[1], 3)
    self.assertEqual((buckets[0, 0], buckets[-1, 1]), (0.0, 3.0))
    self.assertEqual(buckets[:, 2].sum(), 4)
    np.testing.assert_array_equal(buckets[1:, 0], buckets[:-1, 1])

  def test_summaries_are_those_of_tf_summary(self):
    # The manager writes what tf.summary.scalar and tf.summary.histogram
    # write by hand: same tags, plugins, metadata and tensors.
    by_hand_dir = self.create_tempdir().full_path
    with tf.summary.create_file_writer(by_hand_dir).as_default():
      tf.summary.scalar('loss', 0.5, step=4)
      tf.summary.histogram('norms', [1.0, 2.0, 4.0], step=4)
      tf.summary.flush()
    summary_dir = self.create_tempdir().full_path

    TensorBoardReleaseManager(summary_dir).release(
        collections.OrderedDict(loss=0.5, norms=np.array([1.0, 2.0, 4.0])), 4)

    released, by_hand = _read_events(summary_dir), _read_events(by_hand_dir)
    self.assertEqual([e[:3] for e in released], [e[:3] for e in by_hand])
    for (_, _, _, got), (_, _, _, want) in zip(released, by_hand):
      np.testing.assert_allclose(got, want)

  def test_release_skips_strings_none_and_empty_arrays(self):
    summary_dir = self.create_tempdir().full_path

    TensorBoardReleaseManager(summary_dir).release(
        collections.OrderedDict(name='fedavg', none=None, empty=np.zeros([0]),
                                loss=1.0), 0)

    self.assertEqual([tag for _, tag, _, _ in _read_events(summary_dir)],
                     ['loss'])

  def test_release_after_close_writes_a_new_event_file(self):
    summary_dir = self.create_tempdir().full_path
    manager = TensorBoardReleaseManager(summary_dir)
    manager.release({'loss': 1.0}, 0)

    manager.close()
    manager.release({'loss': 0.5}, 1)

    self.assertEqual([(step, float(v)) for step, _, _, v in
                      _read_events(summary_dir)], [(0, 1.0), (1, 0.5)])

  @parameterized.named_parameters(
      ('string_key', 'round', TypeError),
      ('negative_key', -2, ValueError),
  )
  def test_release_raises_invalid_key(self, key, error):
    manager = TensorBoardReleaseManager(self.create_tempdir().full_path)

    with self.assertRaises(error):
      manager.release({'loss': 1.0}, key)

  def test_init_raises_value_error_empty_dir(self):

    with self.assertRaisesRegex(ValueError, 'summary_dir'):
      TensorBoardReleaseManager('')


if __name__ == '__main__':
  absltest.main()
