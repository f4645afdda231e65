"""Release managers that decide what, and when, another manager releases.

    FilteringReleaseManager(manager, filter_fn)   only the leaves whose path
                                                  filter_fn accepts
    PeriodicReleaseManager(manager, periodicity)  every n-th release, or one
                                                  per time period
    DelayedReleaseManager(manager, delay)         from the delay-th release on

As TensorFlow Federated's managers of the same names, but synchronous. A
path is the tuple of keys (mapping keys, sequence indices, struct names or
indices) from the root of the value to a leaf; `()` is a value that is a
leaf.
"""

import datetime
from typing import Any, Callable, Tuple, Union

from tffx.program import errors
from tffx.program import release_manager
from tffx.types import python_containers
from tffx.types import structure

Path = Tuple[Union[str, int], ...]


def _check_manager(manager: Any) -> None:
  if not isinstance(manager, release_manager.ReleaseManager):
    raise TypeError(f'Expected a tffx.program.ReleaseManager, found '
                    f'{type(manager).__name__}.')


# Marks a subtree with nothing left after filtering.
_REMOVED = object()


def _filter(value: Any, path: Path, keep: Callable[[Path], bool]) -> Any:
  """Returns `value` without the leaves `keep` rejects, or `_REMOVED`."""
  if isinstance(value, structure.Struct):
    children = list(value.items())
  elif python_containers.is_container(value):
    children = python_containers.elements(value)
  else:
    return value if keep(path) else _REMOVED
  kept = []
  for index, (name, child) in enumerate(children):
    filtered = _filter(child, path + (index if name is None else name,), keep)
    if filtered is not _REMOVED:
      kept.append((name, filtered))
  if not kept:
    return _REMOVED
  has_fields = not isinstance(value, (structure.Struct, list, dict)) and (
      python_containers.field_names(type(value)) is not None)
  if has_fields and len(kept) != len(children):
    kept_names = {name for name, _ in kept}
    missing = [name for name, _ in children if name not in kept_names]
    raise errors.NotFilterableError(
        f'The fields of a `{type(value).__name__}` cannot be filtered. '
        f'Expected it to have fields {[name for name, _ in children]}, found '
        f'it was missing fields {missing}.')
  if isinstance(value, structure.Struct):
    return structure.Struct(kept)
  return python_containers.build(type(value), kept)


class FilteringReleaseManager(release_manager.ReleaseManager):
  """Releases only the leaves whose path `filter_fn` accepts.

  Containers left empty are dropped; nothing is released if no leaf is
  kept. The fields of a NamedTuple cannot be filtered out one by one.
  """

  def __init__(self, release_manager: release_manager.ReleaseManager,
               filter_fn: Callable[[Path], bool]):
    """Builds the manager.

    Raises:
      TypeError: if `release_manager` is not a `ReleaseManager`, or
        `filter_fn` not callable.
    """
    _check_manager(release_manager)
    if not callable(filter_fn):
      raise TypeError(f'Expected filter_fn to be callable, found '
                      f'{filter_fn!r}.')
    self._release_manager = release_manager
    self._filter_fn = filter_fn

  def release(self, value: Any, key: Any) -> None:
    """Releases the filtered `value` under `key`.

    Raises:
      NotFilterableError: if a NamedTuple would lose some of its fields.
    """
    filtered = _filter(value, (), self._filter_fn)
    if filtered is not _REMOVED:
      self._release_manager.release(filtered, key)


class PeriodicReleaseManager(release_manager.ReleaseManager):
  """Releases every `periodicity`-th value, or one per `periodicity` of time.

  With an int n, calls n, 2n, 3n, ... release; with a `datetime.timedelta`,
  a call releases if that much time passed since the previous release (or
  since the manager was built).
  """

  def __init__(self, release_manager: release_manager.ReleaseManager,
               periodicity: Union[int, datetime.timedelta]):
    """Builds the manager.

    Raises:
      TypeError: if `release_manager` is not a `ReleaseManager`, or
        `periodicity` neither an int nor a timedelta.
      ValueError: if `periodicity` is below 1 (one second for a timedelta).
    """
    _check_manager(release_manager)
    if isinstance(periodicity, bool) or not isinstance(
        periodicity, (int, datetime.timedelta)):
      raise TypeError(f'Expected `periodicity` to be an int or a '
                      f'datetime.timedelta, found {periodicity!r}.')
    if (isinstance(periodicity, int) and periodicity < 1 or
        isinstance(periodicity, datetime.timedelta) and
        periodicity.total_seconds() < 1.0):
      raise ValueError(f'Expected `periodicity` to be a positive integer or '
                       f'`datetime.timedelta`, found {periodicity}.')
    self._release_manager = release_manager
    self._periodicity = periodicity
    self._count = 0
    self._timestamp = datetime.datetime.now()

  def release(self, value: Any, key: Any) -> None:
    if isinstance(self._periodicity, int):
      self._count += 1
      if self._count % self._periodicity == 0:
        self._release_manager.release(value, key)
      return
    now = datetime.datetime.now()
    if now >= self._timestamp + self._periodicity:
      self._timestamp = now
      self._release_manager.release(value, key)


class DelayedReleaseManager(release_manager.ReleaseManager):
  """Releases from the `delay`-th call on (a delay of 1 releases every value)."""

  def __init__(self, release_manager: release_manager.ReleaseManager,
               delay: int):
    """Builds the manager.

    Raises:
      TypeError: if `release_manager` is not a `ReleaseManager`, or `delay`
        not an int.
      ValueError: if `delay` is below 1.
    """
    _check_manager(release_manager)
    if isinstance(delay, bool) or not isinstance(delay, int):
      raise TypeError(f'Expected `delay` to be an int, found {delay!r}.')
    if delay < 1:
      raise ValueError(f'The `delay` must be positive but found {delay}.')
    self._release_manager = release_manager
    self._delay = delay
    self._count = 0

  def release(self, value: Any, key: Any) -> None:
    self._count += 1
    if self._count >= self._delay:
      self._release_manager.release(value, key)
