"""Replaces a file atomically: temporary file, fsync, rename, fsync directory.

    write_atomically(path, lambda f: f.write(data))

The new contents go to a hidden temporary file next to `path`
(`.<name>.tmp-<random>`), are flushed to disk, and the temporary file is
renamed over `path` (atomic on POSIX file systems); the directory is then
synced so the rename itself survives a power loss. Readers see either the
old file or the new one, never a part. A crash can leave a temporary file
behind; `remove_temporary_files` deletes those of one file name prefix.
This module knows nothing about what the files contain.
"""

import os
import uuid
from typing import IO, Callable

TEMP_MARKER = '.tmp-'


def temporary_path(path: str) -> str:
  """A fresh hidden temporary path in the directory of `path`."""
  directory, name = os.path.split(path)
  return os.path.join(directory, f'.{name}{TEMP_MARKER}{uuid.uuid4().hex}')


def is_temporary_name(name: str) -> bool:
  """Whether a file name (no directory) is one of `temporary_path`'s."""
  return name.startswith('.') and TEMP_MARKER in name


def fsync_directory(directory: str) -> None:
  fd = os.open(directory, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def write_atomically(path: str, write: Callable[[IO], None],
                     mode: str = 'wb', **open_kwargs) -> None:
  """Replaces `path` with what `write(file)` writes, atomically.

  Args:
    path: The file to create or replace; its directory must exist.
    write: Writes the contents to the open temporary file.
    mode: `open` mode of the temporary file, 'wb' or 'w'.
    **open_kwargs: More `open` arguments (`newline`, `encoding`).

  Raises:
    Whatever `write` or the file system raises; the temporary file is then
    removed and `path` is unchanged.
  """
  temp_path = temporary_path(path)
  try:
    with open(temp_path, mode, **open_kwargs) as f:
      write(f)
      f.flush()
      os.fsync(f.fileno())
    os.replace(temp_path, path)
  except BaseException:
    if os.path.exists(temp_path):
      os.remove(temp_path)
    raise
  fsync_directory(os.path.dirname(os.path.abspath(path)))


def remove_temporary_files(directory: str, name_prefix: str) -> None:
  """Removes the temporary files of files named `name_prefix...` in `directory`.

  Only for a directory that one process writes: a temporary file found
  there belongs to a write that a crash interrupted.
  """
  for name in os.listdir(directory):
    if is_temporary_name(name) and name[1:].startswith(name_prefix):
      os.remove(os.path.join(directory, name))
