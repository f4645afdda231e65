"""`FileProgramStateManager`: program state in `.npz` files, written atomically.

    root_dir/
      program_state_3.npz        one file per version (prefix + version)
      program_state_4.npz
      .program_state_5.npz.tmp-<random>   a save in progress (or one that a
                                          crash cut short): never loaded

A save writes the whole state to a hidden temporary file in `root_dir`,
flushes it to disk (`fsync`), renames it to its final name (atomic on
POSIX file systems) and syncs the directory (see `atomic_files`). A crash
at any point leaves either no file for the version or a complete one;
leftover temporary files are removed by the next save. A final file that
still cannot be read (a disk that lost data, a copy cut short) is skipped
by `load_latest` and replaced by a new `save` of its version.

The file is a numpy `.npz` archive read with `allow_pickle=False`: one
array per leaf (`leaf_<i>`) and a JSON manifest naming each leaf's path in
the state and its Python kind, so `int`, `float`, `bool`, `str`, `bytes`,
`None`, numpy scalars and arrays (and tensors, as arrays) come back as they
went in. Nothing is pickled: object arrays are refused.

As TensorFlow Federated's `tff.program.FileProgramStateManager` (same
arguments and retention, except that the newest version is never removed),
but synchronous and with its own file format. One process at a time may
write a `root_dir`.
"""

import json
import os
import re
import zipfile
from typing import Any, List, Optional, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from tffx.program import atomic_files
from tffx.program import errors
from tffx.program import program_state_manager
from tffx.program import value_paths
from tffx.program import value_reference

_FORMAT = 'tffx.program_state.v1'
_MANIFEST = 'manifest'
_SUFFIX = '.npz'

# Python kinds of leaves, restored on load from the saved 0-d or n-d array.
_RESTORE = {
    'ndarray': lambda a: a,
    'numpy_scalar': lambda a: a[()],
    'bool': lambda a: bool(a),
    'int': lambda a: int(a),
    'float': lambda a: float(a),
    'str': lambda a: str(a),
    'bytes': lambda a: bytes(a[()]),
}


def _leaf_to_array(path: str, leaf: Any) -> Tuple[str, Optional[np.ndarray]]:
  """Returns `(kind, array)` for one leaf of the state."""
  if leaf is None:
    return 'none', None
  if isinstance(leaf, (tf.Tensor, tf.Variable)):
    kind, array = 'ndarray', np.asarray(leaf.numpy())
  elif isinstance(leaf, np.ndarray):
    kind, array = 'ndarray', leaf
  elif isinstance(leaf, np.generic):
    kind, array = 'numpy_scalar', np.asarray(leaf)
  elif isinstance(leaf, (bool, int, float, str, bytes)):
    # The first match, so that True is a bool and an IntEnum an int.
    python_type = next(t for t in (bool, int, float, str, bytes)
                       if isinstance(leaf, t))
    kind, array = python_type.__name__, np.asarray(python_type(leaf))
  else:
    raise TypeError(
        f'Expected program state leaves to be arrays, tensors, numbers, '
        f'strings or None, found {type(leaf).__name__} at '
        f'{path or "the top level"!r}.')
  if array.dtype.hasobject:
    raise TypeError(
        f'Expected an array of numbers or strings at '
        f'{path or "the top level"!r}, found dtype {array.dtype}, which cannot be saved without pickle '
        f'(e.g. ragged lists or an integer wider than 64 bits).')
  return kind, array


class FileProgramStateManager(program_state_manager.ProgramStateManager):
  """Saves program state to files in a directory (see the module docstring)."""

  def __init__(self,
               root_dir: str,
               prefix: str = 'program_state_',
               keep_total: int = 5,
               keep_first: bool = True):
    """Builds the manager; the directory is created on the first save.

    Args:
      root_dir: Directory of the state files.
      prefix: File names are `<prefix><version>.npz`.
      keep_total: Number of versions kept after a save (the oldest are
        removed); all are kept when 0 or less. The newest is always kept.
      keep_first: Whether the first version is kept regardless (it counts
        toward `keep_total`).

    Raises:
      ValueError: if `root_dir` or `prefix` is empty, or `prefix` contains a
        path separator.
    """
    root_dir = os.fspath(root_dir)
    if not root_dir:
      raise ValueError('Expected a non-empty root_dir, found an empty one.')
    if not prefix or os.sep in prefix or prefix.startswith('.'):
      raise ValueError(f'Expected a non-empty file name prefix not starting '
                       f'with "." and without {os.sep!r}, found {prefix!r}.')
    self._root_dir = root_dir
    self._prefix = prefix
    self._keep_total = keep_total
    self._keep_first = keep_first
    self._name_re = re.compile(
        re.escape(prefix) + r'(0|[1-9][0-9]*)' + re.escape(_SUFFIX) + r'\Z')

  @property
  def root_dir(self) -> str:
    return self._root_dir

  def _path(self, version: int) -> str:
    return os.path.join(self._root_dir, f'{self._prefix}{version}{_SUFFIX}')

  def get_versions(self) -> Optional[List[int]]:
    """The saved versions in increasing order, or None if there are none.

    Temporary files of unfinished saves are not versions.

    Raises:
      NotADirectoryError: if `root_dir` (or a parent) exists but is a file.
    """
    try:
      names = os.listdir(self._root_dir)
    except FileNotFoundError:
      return None
    except NotADirectoryError:
      raise NotADirectoryError(
          f'Expected root_dir {self._root_dir!r} to be a directory for program '
          f'state, found a file at that path (or above it).') from None
    versions = sorted(
        int(m.group(1)) for m in map(self._name_re.match, names) if m)
    return versions or None

  def _read(self, version: int):
    """Returns `{path: leaf}` as saved, or raises a not-found/corrupt error."""
    path = self._path(version)
    if not os.path.isfile(path):
      raise errors.ProgramStateNotFoundError(
          f'Expected program state version {version} at {path}, found no '
          f'such file. Saved versions: {self.get_versions()}.')
    try:
      with np.load(path, allow_pickle=False) as archive:
        manifest = json.loads(str(archive[_MANIFEST]))
        if manifest.get('format') != _FORMAT:
          raise ValueError(f'unknown format {manifest.get("format")!r}')
        leaves = {}
        for i, entry in enumerate(manifest['leaves']):
          kind = entry['kind']
          leaves[entry['path']] = None if kind == 'none' else _RESTORE[kind](
              archive[f'leaf_{i}'])
    except (OSError, ValueError, KeyError, TypeError, EOFError,
            zipfile.BadZipFile) as e:
      raise errors.ProgramStateCorruptError(
          f'Expected a complete program state file at {path}, but it cannot '
          f'be read ({type(e).__name__}: {e}). Tip: it may have been cut '
          f'short; load_latest skips it and a new save replaces it.') from e
    return leaves

  def load(self, version: int, structure: Any) -> Any:
    """Returns the state saved as `version`, in the containers of `structure`.

    Args:
      version: A saved version.
      structure: A value with the nesting (containers and names) of the saved
        state, e.g. the initial state; its leaves are ignored.

    Raises:
      ProgramStateNotFoundError: if `version` was not saved.
      ProgramStateCorruptError: if its file cannot be read.
      ProgramStateStructureError: if the saved leaves are not those of
        `structure` (compared by path, e.g. `model/trainable/0`).
    """
    version = program_state_manager.check_version(version)
    leaves = self._read(version)
    expected = [p for p, _ in value_paths.flatten_with_paths(structure)]
    missing = [p for p in expected if p not in leaves]
    unexpected = sorted(set(leaves) - set(expected))
    if missing or unexpected:
      raise errors.ProgramStateStructureError(
          f'Expected program state version {version} to have the leaves of '
          f'the structure it is loaded into, found {len(missing)} missing '
          f'{missing[:5]} and {len(unexpected)} unexpected {unexpected[:5]}. '
          f'Tip: load into a structure like the one that was saved.')
    return value_paths.pack_by_paths(structure, leaves)

  def save(self, program_state: Any, version: int) -> None:
    """Saves `program_state` as `version`, atomically, then applies retention.

    Args:
      program_state: A nest (see `value_paths`) of arrays, tensors, numbers,
        strings, None and value references (materialized first).
      version: A non-negative integer, e.g. the round number.

    Raises:
      ProgramStateExistsError: if a readable state is saved as `version`.
      TypeError: if a leaf cannot be saved (an object array, another type).
      ValueError: if `version` is negative or two leaves share a path.
    """
    version = program_state_manager.check_version(version)
    program_state = value_reference.materialize_value(program_state)
    if os.path.exists(self._path(version)):
      try:
        self._read(version)
      except errors.ProgramStateCorruptError as e:
        logging.warning('Replacing unreadable program state: %s', e)
      else:
        raise errors.ProgramStateExistsError(
            f'Expected no program state saved as version {version}, found '
            f'{self._path(version)}. Tip: versions are written once; save '
            f'under a new version, e.g. the next round number.')
    arrays, entries = {}, []
    for i, (path, leaf) in enumerate(
        value_paths.flatten_with_paths(program_state)):
      kind, array = _leaf_to_array(path, leaf)
      entries.append({'path': path, 'kind': kind})
      if array is not None:
        arrays[f'leaf_{i}'] = array
    manifest = json.dumps({
        'format': _FORMAT, 'version': version, 'leaves': entries})
    arrays[_MANIFEST] = np.asarray(manifest)
    os.makedirs(self._root_dir, exist_ok=True)
    atomic_files.remove_temporary_files(self._root_dir, self._prefix)
    atomic_files.write_atomically(self._path(version),
                                  lambda f: np.savez(f, **arrays))
    self._remove_old_versions()

  def remove_all(self) -> None:
    """Removes every saved version (and unfinished saves) of this prefix."""
    for version in self.get_versions() or []:
      os.remove(self._path(version))
    if os.path.isdir(self._root_dir):
      atomic_files.remove_temporary_files(self._root_dir, self._prefix)

  def _remove_old_versions(self) -> None:
    versions = self.get_versions() or []
    if self._keep_total <= 0 or len(versions) <= self._keep_total:
      return
    # The newest version is never removed, even if keep_first and
    # keep_total=1 would leave room for the first one only.
    removable = versions[1 if self._keep_first else 0:-1]
    for version in removable[:len(versions) - self._keep_total]:
      os.remove(self._path(version))
