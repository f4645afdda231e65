"""`CSVFileReleaseManager`: released metrics as rows of a CSV file.

    key,client_work/train/loss,client_work/train/accuracy
    0,2.31,0.11
    1,1.87,0.34

One row per release; the first column is the key (the round number), the
others are the flattened metric names (see `release_manager`). When a
release brings names the file does not have yet, the header grows and
earlier rows get empty cells. A resumed run first calls
`remove_values_greater_than(resumed_round)`, so rounds that ran after the
last checkpoint are not written twice.

Appending a row with the same columns appends to the file (flushed and
synced); everything else (a new header, removing rows, `CSVSaveMode.WRITE`)
rewrites the file through a temporary file and a rename, so a crash never
leaves a half-rewritten file. As TensorFlow Federated's
`tff.program.CSVFileReleaseManager`, but synchronous.
"""

import csv
import enum
import io
import os
from typing import Any, Dict, List, Tuple

from tffx.program import atomic_files
from tffx.program import errors
from tffx.program import release_manager


class CSVSaveMode(enum.Enum):
  """How a release writes the file.

  APPEND: append the row, rewriting only when the header grows.
  WRITE: rewrite the whole file on every release.
  """
  APPEND = 'append'
  WRITE = 'write'


class CSVFileReleaseManager(release_manager.ReleaseManager):
  """Releases metrics as CSV rows keyed by round (see the module docstring)."""

  def __init__(self,
               file_path: str,
               save_mode: CSVSaveMode = CSVSaveMode.APPEND,
               key_fieldname: str = 'key'):
    """Builds the manager, reading the header of an existing file.

    Args:
      file_path: The CSV file; created (with its directory) on the first
        release. An existing file is continued.
      save_mode: A `CSVSaveMode`.
      key_fieldname: Name of the key column.

    Raises:
      TypeError: if `save_mode` is not a `CSVSaveMode`.
      ValueError: if `file_path` or `key_fieldname` is empty.
      CSVKeyFieldnameNotFoundError: if an existing file has no
        `key_fieldname` column.
      CSVFileFormatError: if a key in it is not an integer.
    """
    file_path = os.fspath(file_path)
    if not file_path:
      raise ValueError('Expected a non-empty file_path, found an empty one.')
    if not isinstance(save_mode, CSVSaveMode):
      raise TypeError(f'Expected a CSVSaveMode, found {save_mode!r}.')
    if not key_fieldname:
      raise ValueError('Expected a non-empty key_fieldname, found an empty '
                       'one.')
    self._file_path = file_path
    self._save_mode = save_mode
    self._key_fieldname = key_fieldname
    self._fieldnames, _ = self._read()

  @property
  def file_path(self) -> str:
    return self._file_path

  def _read(self) -> Tuple[List[str], List[Dict[str, str]]]:
    """The header and rows of the file; `[key_fieldname], []` if none."""
    if not os.path.exists(self._file_path):
      return [self._key_fieldname], []
    with open(self._file_path, newline='', encoding='utf-8') as f:
      text = f.read()
    # Every row written ends with a newline: text after the last one is an
    # append that a crash cut short, and so is a row with missing cells.
    text = text[:text.rfind('\n') + 1]
    reader = csv.DictReader(io.StringIO(text, newline=''))
    fieldnames = list(reader.fieldnames or [])
    rows = [r for r in reader if None not in r.values()]
    if not fieldnames:
      return [self._key_fieldname], []
    if self._key_fieldname not in fieldnames:
      raise errors.CSVKeyFieldnameNotFoundError(
          f'Expected the CSV file {self._file_path} to have a '
          f'{self._key_fieldname!r} column, found the columns '
          f'{fieldnames[:10]}. Tip: pass its key column as key_fieldname, or '
          f'release to a new file.')
    for row in rows:
      self._row_key(row)
    return fieldnames, rows

  def _row_key(self, row: Dict[str, str]) -> int:
    try:
      return int(row[self._key_fieldname])
    except (TypeError, ValueError):
      raise errors.CSVFileFormatError(
          f'Expected integer keys in column {self._key_fieldname!r} of '
          f'{self._file_path}, found {row[self._key_fieldname]!r}.') from None

  def _ends_cleanly(self) -> bool:
    """Whether the file ends with a complete line (a crash can cut one)."""
    with open(self._file_path, 'rb') as f:
      f.seek(0, os.SEEK_END)
      if f.tell() == 0:
        return True
      f.seek(-1, os.SEEK_END)
      return f.read(1) == b'\n'

  def _write_all(self, fieldnames: List[str], rows: List[Dict[str, Any]]):

    def write(f):
      writer = csv.DictWriter(f, fieldnames=fieldnames, restval='')
      writer.writeheader()
      writer.writerows(rows)

    directory, name = os.path.split(os.path.abspath(self._file_path))
    os.makedirs(directory, exist_ok=True)
    atomic_files.remove_temporary_files(directory, name)
    atomic_files.write_atomically(self._file_path, write, mode='w',
                                  newline='', encoding='utf-8')
    self._fieldnames = fieldnames

  def release(self, value: Any, key: Any) -> None:
    """Writes one row: `key` and the flattened metrics of `value`.

    Raises:
      TypeError: if `key` is not an integer.
      ValueError: if `key` is negative, or a metric is named like the key
        column or like another metric.
    """
    key = release_manager.check_key(key)
    metrics = release_manager.flatten_metrics(value)
    if self._key_fieldname in metrics:
      raise ValueError(f'Expected no metric named {self._key_fieldname!r} '
                       f'(the key column), found one.')
    row = {self._key_fieldname: key}
    row.update((n, release_manager.format_metric(v))
               for n, v in metrics.items())
    new_names = [n for n in row if n not in self._fieldnames]
    # Appending after a line that a crash cut short would join the two, so
    # such a file is rewritten (without the partial row) instead.
    if (new_names or self._save_mode == CSVSaveMode.WRITE or
        not os.path.exists(self._file_path) or not self._ends_cleanly()):
      fieldnames, rows = self._read()
      self._write_all(fieldnames + [n for n in row if n not in fieldnames],
                      rows + [row])
      return
    with open(self._file_path, 'a', newline='', encoding='utf-8') as f:
      csv.DictWriter(f, fieldnames=self._fieldnames, restval='').writerow(row)
      f.flush()
      os.fsync(f.fileno())

  def remove_values_greater_than(self, key: Any) -> None:
    """Removes the rows whose key is greater than `key`.

    Call it with the round a run resumes from, so the rounds it runs again
    are not written twice.

    Raises:
      TypeError: if `key` is not an integer.
      ValueError: if it is negative.
    """
    key = release_manager.check_key(key)
    fieldnames, rows = self._read()
    kept = [r for r in rows if self._row_key(r) <= key]
    if len(kept) != len(rows) or (os.path.exists(self._file_path) and
                                  not self._ends_cleanly()):
      self._write_all(fieldnames, kept)

  def remove_all_values(self) -> None:
    """Removes every row (the header stays)."""
    fieldnames, _ = self._read()
    if os.path.exists(self._file_path):
      self._write_all(fieldnames, [])
