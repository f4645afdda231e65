import collections
import datetime
from typing import NamedTuple

from absl.testing import absltest
from absl.testing import parameterized

from tffx.program import errors
from tffx.program import forwarding_release_managers as forwarding
from tffx.program import memory_release_manager


class _Pair(NamedTuple):
  loss: float
  accuracy: float


def _metrics():
  return collections.OrderedDict(
      loss=1.0, accuracy=0.5, extra=collections.OrderedDict(a=[1, 2], b=3))


class FilteringReleaseManagerTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('all', lambda _: True, _metrics()),
      ('one', lambda path: path == ('loss',),
       collections.OrderedDict(loss=1.0)),
      ('list_element', lambda path: path == ('extra', 'a', 1),
       collections.OrderedDict(extra=collections.OrderedDict(a=[2]))),
  )
  def test_releases_kept_leaves(self, filter_fn, expected):
    memory = memory_release_manager.MemoryReleaseManager()

    forwarding.FilteringReleaseManager(memory, filter_fn).release(
        _metrics(), 1)

    self.assertEqual(memory.values(), {1: expected})

  def test_releases_nothing_when_everything_is_filtered(self):
    memory = memory_release_manager.MemoryReleaseManager()

    forwarding.FilteringReleaseManager(memory, lambda _: False).release(
        _metrics(), 1)

    self.assertEmpty(memory.values())

  def test_single_value_has_empty_path(self):
    memory = memory_release_manager.MemoryReleaseManager()
    paths = []

    forwarding.FilteringReleaseManager(
        memory, lambda path: paths.append(path) or True).release(5, 'k')

    self.assertEqual(paths, [()])
    self.assertEqual(memory.values(), {'k': 5})

  def test_raises_not_filterable_for_part_of_named_tuple(self):
    manager = forwarding.FilteringReleaseManager(
        memory_release_manager.MemoryReleaseManager(),
        lambda path: path == ('loss',))

    with self.assertRaises(errors.NotFilterableError):
      manager.release(_Pair(1.0, 0.5), 1)

  def test_keeps_whole_named_tuple(self):
    memory = memory_release_manager.MemoryReleaseManager()

    forwarding.FilteringReleaseManager(memory, lambda _: True).release(
        [_Pair(1.0, 0.5)], 1)

    self.assertEqual(memory.values()[1], [_Pair(1.0, 0.5)])


class PeriodicReleaseManagerTest(absltest.TestCase):

  def test_int_periodicity_releases_every_nth_call(self):
    memory = memory_release_manager.MemoryReleaseManager()
    manager = forwarding.PeriodicReleaseManager(memory, 3)

    for key in range(1, 11):
      manager.release(key * 10, key)

    self.assertEqual(list(memory.values()), [3, 6, 9])

  def test_timedelta_periodicity_releases_after_the_period(self):
    memory = memory_release_manager.MemoryReleaseManager()
    manager = forwarding.PeriodicReleaseManager(
        memory, datetime.timedelta(hours=1))

    manager.release('early', 1)
    manager._timestamp -= datetime.timedelta(hours=2)  # Two hours pass.
    manager.release('late', 2)
    manager.release('again early', 3)

    self.assertEqual(memory.values(), {2: 'late'})

  def test_raises_value_error_for_non_positive_periodicity(self):
    memory = memory_release_manager.MemoryReleaseManager()
    for periodicity in (0, datetime.timedelta(milliseconds=10)):
      with self.subTest(periodicity=periodicity):
        with self.assertRaises(ValueError):
          forwarding.PeriodicReleaseManager(memory, periodicity)


class DelayedReleaseManagerTest(absltest.TestCase):

  def test_releases_from_the_delayth_call(self):
    memory = memory_release_manager.MemoryReleaseManager()
    manager = forwarding.DelayedReleaseManager(memory, 3)

    for key in range(1, 6):
      manager.release(key, key)

    self.assertEqual(list(memory.values()), [3, 4, 5])

  def test_raises_value_error_for_zero_delay(self):
    with self.assertRaises(ValueError):
      forwarding.DelayedReleaseManager(
          memory_release_manager.MemoryReleaseManager(), 0)

  def test_raises_type_error_for_non_manager(self):
    with self.assertRaises(TypeError):
      forwarding.DelayedReleaseManager(print, 1)


if __name__ == '__main__':
  absltest.main()
