from absl.testing import absltest
from absl.testing import parameterized

from tffx.program import grouping_release_manager
from tffx.program import release_manager


class _RecordingReleaseManager(release_manager.ReleaseManager):

  def __init__(self, name, log):
    self._name = name
    self._log = log

  def release(self, value, key):
    self._log.append((self._name, value, key))


class _FailingReleaseManager(release_manager.ReleaseManager):

  def release(self, value, key):
    raise OSError('disk full')


class GroupingReleaseManagerTest(parameterized.TestCase):

  def test_release_releases_to_each_manager_in_order(self):
    log = []
    group = grouping_release_manager.GroupingReleaseManager([
        _RecordingReleaseManager('csv', log),
        _RecordingReleaseManager('tensorboard', log),
    ])

    group.release({'loss': 1.0}, 4)

    self.assertEqual(log, [('csv', {'loss': 1.0}, 4),
                           ('tensorboard', {'loss': 1.0}, 4)])

  def test_release_stops_at_first_error(self):
    log = []
    group = grouping_release_manager.GroupingReleaseManager([
        _FailingReleaseManager(), _RecordingReleaseManager('log', log)])

    with self.assertRaisesRegex(OSError, 'disk full'):
      group.release({'loss': 1.0}, 0)

    self.assertEqual(log, [])

  @parameterized.named_parameters(
      ('empty', [], ValueError, 'at least one'),
      ('not_a_manager', [print], TypeError,
       'Expected ReleaseManagers, found builtin_function_or_method'),
  )
  def test_init_raises(self, managers, error, message):

    with self.assertRaisesRegex(error, message):
      grouping_release_manager.GroupingReleaseManager(managers)


if __name__ == '__main__':
  absltest.main()
