"""`SavedModelFileReleaseManager`: each released value as a TensorFlow SavedModel.

    manager = SavedModelFileReleaseManager(root_dir, prefix='release_')
    manager.release(model_weights, key=10)   -> root_dir/release_10/
    manager.get_value(10, structure)         -> the value, in `structure`'s
                                                containers, as numpy values
                                                (strings as bytes)

The SavedModel holds a `tf.Module` whose function of no arguments returns
the value's leaves (flattened as in `value_paths`), so TensorFlow code can
load it without tffx (`tf.saved_model.load(path)()`). A release writes a
temporary directory and renames it into place; releasing a key again
replaces its value. As TensorFlow Federated's
`tff.program.SavedModelFileReleaseManager`, but synchronous.
"""

import os
import shutil
from typing import Any, List

import tensorflow as tf

from tffx.program import atomic_files
from tffx.program import errors
from tffx.program import release_manager
from tffx.program import value_paths
from tffx.program import value_reference


class _ValueModule(tf.Module):
  """A module whose call returns the saved leaves."""

  def __init__(self, leaves: List[tf.Tensor]):
    super().__init__()
    self._leaves = [tf.Variable(leaf, trainable=False) for leaf in leaves]

  @tf.function(input_signature=[])
  def __call__(self):
    return [tf.identity(leaf) for leaf in self._leaves]


class SavedModelFileReleaseManager(release_manager.ReleaseManager):
  """Releases each value as a SavedModel directory named `<prefix><key>`."""

  def __init__(self, root_dir: str, prefix: str = 'release_'):
    """Builds the manager; `root_dir` is created if it does not exist.

    Raises:
      ValueError: if `root_dir` is empty, or `prefix` contains a path
        separator or starts with '.'.
    """
    root_dir = os.fspath(root_dir)
    if not root_dir:
      raise ValueError('Expected `root_dir` to not be an empty string.')
    if os.sep in prefix or prefix.startswith('.'):
      raise ValueError(f'Expected a file name prefix not starting with "." '
                       f'and without {os.sep!r}, found {prefix!r}.')
    os.makedirs(root_dir, exist_ok=True)
    self._root_dir = root_dir
    self._prefix = prefix

  def _path(self, key: Any) -> str:
    name = f'{self._prefix}{key}'
    if os.sep in name or name in ('.', '..') or not name:
      raise ValueError(f'Expected a key that makes a file name, found '
                       f'{key!r}.')
    return os.path.join(self._root_dir, name)

  def release(self, value: Any, key: Any) -> None:
    """Saves `value` (references materialized) as the SavedModel of `key`.

    Raises:
      TypeError: if a leaf is not a tensor-like value (e.g. None).
      ValueError: if `key` does not make a file name.
    """
    path = self._path(key)
    leaves = []
    for leaf_path, leaf in value_paths.flatten_with_paths(
        value_reference.materialize_value(value)):
      try:
        leaves.append(tf.convert_to_tensor(leaf))
      except (TypeError, ValueError) as e:
        raise TypeError(f'Expected tensor-like leaves, found {leaf!r} at '
                        f'{leaf_path or "the top"}.') from e
    temporary = atomic_files.temporary_path(path)
    tf.saved_model.save(_ValueModule(leaves), temporary)
    if os.path.exists(path):
      shutil.rmtree(path)
    os.rename(temporary, path)
    atomic_files.fsync_directory(self._root_dir)

  def get_value(self, key: Any, structure: Any) -> Any:
    """Returns the value released as `key`, in the containers of `structure`.

    Args:
      key: A released key.
      structure: A nest like the released value (its leaves are ignored).

    Raises:
      ReleasedValueNotFoundError: if nothing was released as `key`.
      ValueError: if `structure` has another number of leaves.
    """
    path = self._path(key)
    if not os.path.isdir(path):
      raise errors.ReleasedValueNotFoundError(
          f'No released value found for key: {key}.')
    leaves = [t.numpy() for t in tf.saved_model.load(path)()]
    paths = [p for p, _ in value_paths.flatten_with_paths(structure)]
    if len(paths) != len(leaves):
      raise ValueError(f'Expected a structure of {len(leaves)} leaves for the '
                       f'value released as {key!r}, found {len(paths)}.')
    return value_paths.pack_by_paths(structure, dict(zip(paths, leaves)))
