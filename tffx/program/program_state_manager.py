"""`ProgramStateManager`: saves and loads versioned program state.

As TensorFlow Federated's `tff.program.ProgramStateManager`, but
synchronous (TFF's methods are coroutines). Program state is everything a
program needs to resume: model weights, optimizer state, the round number.
A version is a non-negative integer, normally the round number; a larger
version is newer.

    save(state, version)          ProgramStateExistsError if already saved
    load(version, structure)      ProgramStateNotFoundError if never saved
    load_latest(structure)        (state, version), or (None, 0) if none
    get_versions()                sorted versions, or None if none

Subclasses (see `file_program_state_manager.py`) define where the state
goes; this module only defines the interface and `load_latest`.
"""

import abc
from typing import Any, List, Optional, Tuple, TypeVar

from absl import logging

from tffx.program import errors

# What program state holds: values, value references, nests of them (TFF's
# type names).
ProgramStateValue = Any
ProgramStateStructure = TypeVar('ProgramStateStructure')


def check_version(version: Any) -> int:
  """Returns `version` as an int after checking it.

  Raises:
    TypeError: if `version` is not an integer.
    ValueError: if it is negative.
  """
  if isinstance(version, bool) or not hasattr(version, '__index__'):
    raise TypeError(f'Expected an integer version, found {version!r} of type '
                    f'{type(version).__name__}.')
  version = int(version)
  if version < 0:
    raise ValueError(f'Expected a non-negative version, found {version}.')
  return version


class ProgramStateManager(abc.ABC):
  """Saves and loads program state, keyed by version."""

  @abc.abstractmethod
  def get_versions(self) -> Optional[List[int]]:
    """The saved versions in increasing order, or None if there are none."""

  @abc.abstractmethod
  def load(self, version: int, structure: Any) -> Any:
    """Returns the state saved as `version`, in the containers of `structure`.

    Args:
      version: A saved version.
      structure: A value with the nesting (containers and names) of the saved
        state, e.g. the initial state; its leaves are ignored.

    Raises:
      ProgramStateNotFoundError: if `version` was not saved.
      ProgramStateCorruptError: if it was, but cannot be read.
      ProgramStateStructureError: if it does not fit `structure`.
    """

  @abc.abstractmethod
  def save(self, program_state: Any, version: int) -> None:
    """Saves `program_state` as `version`.

    Raises:
      ProgramStateExistsError: if `version` was already saved.
    """

  def load_latest(self, structure: Any) -> Tuple[Any, int]:
    """Returns `(state, version)` of the newest readable version.

    Versions that cannot be read (`ProgramStateCorruptError`, e.g. a file
    cut short by a crash) are skipped with a warning, so a run resumes from
    the newest complete state.

    Returns:
      `(state, version)`, or `(None, 0)` if nothing readable was saved.

    Raises:
      ProgramStateStructureError: if the newest readable state does not fit
        `structure`.
    """
    for version in reversed(self.get_versions() or []):
      try:
        return self.load(version, structure), version
      except (errors.ProgramStateCorruptError,
              errors.ProgramStateNotFoundError) as e:
        # NotFound: removed by retention between listing and loading.
        logging.warning('Skipping program state version %d: %s', version, e)
    return None, 0
