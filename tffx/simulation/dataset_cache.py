"""Finds TFF's published dataset files in a local cache; never downloads.

`load_splits` gives the `ClientData` of each split of a data set from what
it finds (the dataset modules `emnist`, `shakespeare`, ... call it).

TFF's loaders download their files on first use and read them from a cache
afterwards. tffx reads the same files from the same places, and when a file
is missing raises one `DatasetFileNotFoundError` that names the file, where
TFF gets it, and the path to place it at:

    SQLite databases (emnist, shakespeare, stackoverflow, cifar100):
      TFF downloads <name>.sqlite.lzma and decompresses it to
      <cache_dir or ~/.tff>/<name>.sqlite.
      Here: <name>.sqlite is read; a <name>.sqlite.lzma placed in the same
      directory is decompressed there first.
    Keras archives (stackoverflow word and tag counts):
      TFF calls tf.keras.utils.get_file(<archive>.tar.bz2, extract=True),
      which extracts into <cache_dir or ~/.keras>/datasets/.
      Here: the extracted file is read; the archive placed in that
      directory is extracted there first.
    HDF5 files of older TFF releases (e.g. fed_emnist_digitsonly_train.h5
      from fed_emnist_digitsonly.tar.bz2), in that Keras directory: `locate`
      falls back to them when the SQLite database is missing.
"""

import lzma
import os
import shutil
import tarfile
from typing import Callable, NamedTuple, Optional, Sequence, Tuple
import urllib.parse

from tffx.simulation import errors
from tffx.simulation import hdf5_client_data
from tffx.simulation import sql_client_data

BUCKET = 'https://storage.googleapis.com/tff-datasets-public/'
TFF_CACHE_DIR = os.path.join('~', '.tff')
KERAS_CACHE_DIR = os.path.join('~', '.keras')
_NO_DOWNLOAD = 'tffx does not download datasets.'


def _basename(origin: str) -> str:
  return urllib.parse.urlparse(origin).path.rsplit('/', maxsplit=1)[-1]


def get_compressed_file(origin: str, cache_dir: Optional[str] = None) -> str:
  """Returns the local path of the decompressed `.lzma` file of `origin`.

  Args:
    origin: The URL TFF downloads the file from, ending in `.lzma`.
    cache_dir: The cache directory; `~/.tff` (TFF's default) when None.

  Raises:
    DatasetFileNotFoundError: if neither the decompressed file nor the
      `.lzma` file is in `cache_dir`.
    ClientDataFileError: if the `.lzma` file cannot be decompressed.
  """
  cache_dir = os.path.expanduser(cache_dir or TFF_CACHE_DIR)
  compressed = os.path.join(cache_dir, _basename(origin))
  path = compressed[:-len('.lzma')]
  if os.path.isfile(path):
    return path
  if os.path.isfile(compressed):
    partial = path + '.partial'
    try:
      with lzma.open(compressed) as source, open(partial, 'wb') as target:
        shutil.copyfileobj(source, target)
    except lzma.LZMAError as e:
      raise errors.ClientDataFileError(
          f'Expected {compressed} to be LZMA-compressed, as TFF publishes it '
          f'at {origin}, but it cannot be decompressed: {e}') from e
    os.replace(partial, path)
    return path
  raise errors.DatasetFileNotFoundError(
      f'Expected the dataset file {path}, not found. {_NO_DOWNLOAD} Download '
      f'{origin} and place it at {compressed} (or its decompressed contents '
      f'at {path}); pass `cache_dir` to read another directory.')


def get_extracted_file(archive_name: str, origin: str, member: str,
                       cache_dir: Optional[str] = None) -> str:
  """Returns the local path of `member` of a `tf.keras.utils.get_file` archive.

  Args:
    archive_name: The archive's file name, e.g. `'x.tar.bz2'`.
    origin: The URL TFF downloads the archive from.
    member: The file TFF reads from the extracted archive.
    cache_dir: Keras' cache directory; `~/.keras` when None. Files are in
      its `datasets` subdirectory, as Keras puts them.

  Raises:
    DatasetFileNotFoundError: if neither `member` nor the archive is there.
    ClientDataFileError: if the archive cannot be read or lacks `member`.
  """
  directory = os.path.join(
      os.path.expanduser(cache_dir or KERAS_CACHE_DIR), 'datasets')
  path = os.path.join(directory, member)
  if os.path.isfile(path):
    return path
  archive = os.path.join(directory, archive_name)
  if os.path.isfile(archive):
    try:
      partial = path + '.partial'
      with tarfile.open(archive) as tar, open(partial, 'wb') as target:
        source = tar.extractfile(member)
        if source is None:
          raise KeyError(f'{member!r} is not a regular file')
        shutil.copyfileobj(source, target)
      os.replace(partial, path)
    except (tarfile.TarError, KeyError) as e:
      raise errors.ClientDataFileError(
          f'Expected {archive} to be the tar archive TFF publishes at '
          f'{origin}, holding {member!r}; it cannot be extracted: {e}') from e
    return path
  raise errors.DatasetFileNotFoundError(
      f'Expected the dataset file {path}, not found. {_NO_DOWNLOAD} Download '
      f'{origin} and place it at {archive} (or its extracted {member!r} at '
      f'{path}); pass `cache_dir` to read another directory.')


class LegacyArchive(NamedTuple):
  """The HDF5 files an older TFF release read, and the archive holding them."""
  archive_name: str
  members: Tuple[str, ...]

  @property
  def origin(self) -> str:
    return BUCKET + self.archive_name


class Located(NamedTuple):
  """Where a data set was found: an SQLite database, or else HDF5 files."""
  database: Optional[str]
  hdf5_files: Tuple[str, ...]


def locate(origin: str, legacy: LegacyArchive,
           cache_dir: Optional[str] = None) -> Located:
  """Finds TFF 0.87's database of `origin`, else an older release's HDF5 files.

  Raises:
    DatasetFileNotFoundError: if neither is in the cache; the message names
      both, with where to place them.
    ClientDataFileError: if a file placed there cannot be read.
  """
  try:
    return Located(get_compressed_file(origin, cache_dir), ())
  except errors.DatasetFileNotFoundError as missing:
    try:
      files = tuple(
          get_extracted_file(legacy.archive_name, legacy.origin, member,
                             cache_dir) for member in legacy.members)
    except errors.DatasetFileNotFoundError:
      directory = os.path.join(
          os.path.expanduser(cache_dir or KERAS_CACHE_DIR), 'datasets')
      raise errors.DatasetFileNotFoundError(
          f'{missing} The HDF5 files of older TFF releases are read too: '
          f'{", ".join(legacy.members)} in {directory} (or the archive '
          f'{legacy.origin} placed there).') from None
    return Located(None, files)


def load_splits(origin: str, legacy: LegacyArchive,
                split_names: Sequence[str], parse_fn: Callable,
                cache_dir: Optional[str] = None) -> tuple:
  """The `ClientData` of each split of a TFF data set, from the cache.

  From the SQLite database (examples parsed with `parse_fn`), or else from
  the legacy HDF5 files, one per split, in the order of `split_names`.

  Raises:
    DatasetFileNotFoundError: if neither is in the cache.
  """
  found = locate(origin, legacy, cache_dir)
  if found.database is None:
    return tuple(hdf5_client_data.HDF5ClientData(f) for f in found.hdf5_files)
  return sql_client_data.load_splits(found.database, split_names, parse_fn)
