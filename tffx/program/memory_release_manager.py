"""`MemoryReleaseManager`: keeps released values in memory, by key.

    manager.release(metrics, round_num)
    manager.values()        OrderedDict {key: value}, in release order
    manager.remove_all()

For tests and notebooks. Value references are materialized when released;
a key released again replaces its value (keeping its place). As
TensorFlow Federated's `tff.program.MemoryReleaseManager`, but synchronous.
"""

import collections
from typing import Any, Hashable

from tffx.program import release_manager
from tffx.program import value_reference


class MemoryReleaseManager(release_manager.ReleaseManager):
  """Stores each released value under its key."""

  def __init__(self):
    self._values = collections.OrderedDict()

  def release(self, value: Any, key: Hashable) -> None:
    """Stores the materialized `value` under `key`.

    Raises:
      TypeError: if `key` is not hashable.
    """
    if not isinstance(key, Hashable):
      raise TypeError(f'Expected a hashable key, found {type(key).__name__}.')
    self._values[key] = value_reference.materialize_value(value)

  def remove_all(self) -> None:
    """Forgets every released value."""
    self._values = collections.OrderedDict()

  def values(self) -> 'collections.OrderedDict[Hashable, Any]':
    """Returns `{key: value}` for the released values, in release order."""
    return collections.OrderedDict(self._values)
