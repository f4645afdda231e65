"""Errors raised by the federated datasets of `tffx.simulation`.

Each subclasses `ValueError` (the caller passed a client id or a file that
does not hold what the dataset expects), except
`ElementSpecCompatibilityError`, a `TypeError` as in TFF (data of the wrong
structure). Invalid arguments (a negative
count, a non-string client id) raise the built-in `ValueError` and
`TypeError` directly.
"""


class UnknownClientIdError(ValueError):
  """A client id that is not one of the dataset's `client_ids`."""


class ClientDataFileError(ValueError):
  """A dataset file that is missing, unreadable, or not in the expected layout.

  The HDF5 layout of TensorFlow Federated's datasets is
  `examples/<client_id>/<feature>`: one group per client under `examples`,
  one dataset per feature in it, all features of a client with the same
  number of examples.
  """


class DatabaseFormatError(ClientDataFileError):
  """An SQLite file without TFF's `examples` and `client_metadata` tables.

  As `tff.simulation.datasets.SqlClientData`'s `DatabaseFormatError`; the
  table `examples` has the columns `split_name`, `client_id` and
  `serialized_example_proto` (a serialized `tf.train.Example`).
  """


class DatasetFileNotFoundError(ClientDataFileError):
  """A published dataset file (e.g. EMNIST's) is not in the local cache.

  tffx does not download datasets; the message names the file to fetch and
  the path to place it at.
  """


class ElementSpecCompatibilityError(TypeError):
  """Client datasets whose elements are not one `Mapping[str, tf.TensorSpec]`.

  As TFF's `sql_client_data_utils.ElementSpecCompatibilityError`: a
  `TypeError`, since the caller gave data of the wrong structure.
  """
