"""`GroupingReleaseManager`: releases each value to several release managers.

    GroupingReleaseManager([CSVFileReleaseManager(...),
                            TensorBoardReleaseManager(...),
                            LoggingReleaseManager()]).release(metrics, round)

The managers release in the given order; an error in one stops the
release (the later ones do not get the value). As TensorFlow Federated's
`tff.program.GroupingReleaseManager`, but synchronous.
"""

from typing import Any, Sequence

from tffx.program import release_manager


class GroupingReleaseManager(release_manager.ReleaseManager):
  """Releases to each of a list of release managers, in order."""

  def __init__(self,
               release_managers: Sequence[release_manager.ReleaseManager]):
    """Builds the group.

    Raises:
      TypeError: if an element is not a `ReleaseManager`.
      ValueError: if `release_managers` is empty.
    """
    release_managers = list(release_managers)
    if not release_managers:
      raise ValueError('Expected at least one release manager, found none.')
    for manager in release_managers:
      if not isinstance(manager, release_manager.ReleaseManager):
        raise TypeError(f'Expected ReleaseManagers, found '
                        f'{type(manager).__name__}.')
    self._release_managers = tuple(release_managers)

  @property
  def release_managers(self):
    return self._release_managers

  def release(self, value: Any, key: Any) -> None:
    """Releases `value` under `key` to every manager, in order."""
    for manager in self._release_managers:
      manager.release(value, key)
