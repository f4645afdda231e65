"""Errors raised by `tffx.program`: program state and release managers.

Each subclasses `ValueError`: the state or file on disk does not hold what
the caller asked for. The first two have TensorFlow Federated's names
(`tff.program.ProgramStateExistsError`, `...NotFoundError`). Invalid
arguments (a negative version, a key that is not an integer) raise the
built-in `ValueError` and `TypeError` directly.
"""


class ProgramStateExistsError(ValueError):
  """Program state was already saved for this version."""


class ProgramStateNotFoundError(ValueError):
  """No program state was saved for this version."""


class ProgramStateCorruptError(ValueError):
  """Saved program state cannot be read (for example a truncated file).

  `load_latest` skips such versions and falls back to the newest readable
  one; `load` of such a version raises this error.
  """


class ProgramStateStructureError(ValueError):
  """Saved program state does not fit the structure it is loaded into."""


class CSVFileFormatError(ValueError):
  """An existing CSV file of released values lacks the key column."""


class CSVKeyFieldnameNotFoundError(CSVFileFormatError):
  """An existing CSV file has no column named `key_fieldname` (TFF's name)."""


class ReleasedValueNotFoundError(ValueError):
  """No value was released under this key (as TFF's error of that name)."""


class NotFilterableError(ValueError):
  """A value `FilteringReleaseManager` cannot filter (part of a NamedTuple)."""
