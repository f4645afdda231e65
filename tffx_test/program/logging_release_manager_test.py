import collections

from absl.testing import absltest
import numpy as np

from tffx.program import logging_release_manager


class LoggingReleaseManagerTest(absltest.TestCase):

  def test_release_logs_key_and_flattened_metrics(self):
    metrics = collections.OrderedDict(
        client_work=collections.OrderedDict(
            train=collections.OrderedDict(loss=np.float32(0.5), accuracy=0.75)))

    with self.assertLogs(logger='absl', level='INFO') as logs:
      logging_release_manager.LoggingReleaseManager().release(metrics, 3)

    self.assertEqual(logs.records[0].getMessage(),
                     'Released key 3: client_work/train/loss=0.5, '
                     'client_work/train/accuracy=0.75')

  def test_release_logs_empty_value(self):

    with self.assertLogs(logger='absl', level='INFO') as logs:
      logging_release_manager.LoggingReleaseManager().release({}, 'final')

    self.assertEqual(logs.records[0].getMessage(),
                     'Released key final: (no metrics)')


if __name__ == '__main__':
  absltest.main()
