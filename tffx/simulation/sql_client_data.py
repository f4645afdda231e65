"""`SqlClientData`: a `ClientData` read from an SQLite file in TFF's layout.

TFF publishes its federated datasets as SQLite databases with two tables:

    examples(split_name TEXT, client_id TEXT, serialized_example_proto BLOB)
    client_metadata(client_id TEXT, split_name TEXT, num_examples INTEGER)

A client's dataset yields its serialized `tf.train.Example`s (`tf.string`
scalars) in row order; the dataset loaders parse them with `preprocess`.
A `split_name` selects the clients and examples of one split (e.g. 'train').
Rows are read with Python's `sqlite3` when a client's dataset is created.
`write_database` writes such a file (small local stand-ins, tests).
"""

import os
import sqlite3
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import errors

_REQUIRED_TABLES = frozenset(['examples', 'client_metadata'])
_REQUIRED_EXAMPLES_COLUMNS = frozenset(
    ['split_name', 'client_id', 'serialized_example_proto'])


def _query(path: str, sql: str, parameters=()) -> list:
  """The rows of one read-only query; the connection is closed after it."""
  connection = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
  try:
    return connection.execute(sql, parameters).fetchall()
  finally:
    connection.close()


def _check_database_format(path: str) -> None:
  try:
    tables = {
        row[0] for row in _query(
            path, "SELECT name FROM sqlite_master WHERE type = 'table';")
    }
    columns = {row[1] for row in _query(path, 'PRAGMA table_info(examples);')}
  except sqlite3.DatabaseError as e:
    raise errors.DatabaseFormatError(
        f'Expected an SQLite database at {path}, but it cannot be read: {e}'
    ) from e
  missing_tables = _REQUIRED_TABLES - tables
  if missing_tables:
    raise errors.DatabaseFormatError(
        f'Database at [{path}] does not have the required '
        f'{sorted(missing_tables)} tables.')
  missing_columns = _REQUIRED_EXAMPLES_COLUMNS - columns
  if missing_columns:
    raise errors.DatabaseFormatError(
        f'Database table `examples` must contain columns '
        f'{sorted(_REQUIRED_EXAMPLES_COLUMNS)}, but is missing columns '
        f'{sorted(missing_columns)}.')


class SqlClientData(client_data.FixedClientData):
  """A federated dataset of serialized `tf.train.Example`s in an SQLite file."""

  def __init__(self, database_filepath: str,
               split_name: Optional[str] = None):
    """Opens the database and reads its client ids.

    Args:
      database_filepath: Path of a local SQLite file in TFF's layout.
      split_name: Only the clients and examples of this split; all when
        None.

    Raises:
      ClientDataFileError: if there is no file at the path.
      DatabaseFormatError: if it is not an SQLite file with TFF's tables.
      ValueError: if the split has no client.
    """
    path = os.fspath(database_filepath)
    if not os.path.isfile(path):
      raise errors.ClientDataFileError(
          f'Expected an SQLite file at {path!r}, found nothing.')
    _check_database_format(path)
    query = 'SELECT DISTINCT client_id FROM client_metadata'
    parameters = ()
    if split_name is not None:
      query += ' WHERE split_name = ?'
      parameters = (split_name,)
    client_ids = sorted(row[0] for row in _query(path, query, parameters))
    if not client_ids:
      raise ValueError(f'Expected clients in split {split_name!r} of {path}, '
                       f'found none.')
    self._path = path
    self._split_name = split_name
    self._client_ids = client_ids
    self._element_type_structure = tf.TensorSpec(shape=(), dtype=tf.string)

  def _create_dataset(self, client_id: str) -> tf.data.Dataset:
    query = ('SELECT serialized_example_proto FROM examples '
             'WHERE client_id = ?')
    parameters = [client_id]
    if self._split_name is not None:
      query += ' AND split_name = ?'
      parameters.append(self._split_name)
    rows = [bytes(row[0]) for row in _query(self._path, query, parameters)]
    return tf.data.Dataset.from_tensor_slices(tf.constant(rows, tf.string))


def load_splits(database_path: str, split_names, parse_fn) -> tuple:
  """One `SqlClientData` per split, each dataset mapped through `parse_fn`.

  `parse_fn` takes a batch-free `tf.string` tensor (a serialized
  `tf.train.Example`) and returns the parsed element, as TFF's loaders do.
  """
  return tuple(
      SqlClientData(database_path, split).preprocess(
          lambda dataset: dataset.map(parse_fn)) for split in split_names)


def _feature(value) -> tf.train.Feature:
  array = np.asarray(value)
  if array.dtype.kind in ('S', 'U', 'O'):
    values = [v.encode() if isinstance(v, str) else bytes(v)
              for v in array.ravel().tolist()]
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
  if array.dtype.kind in ('i', 'u', 'b'):
    return tf.train.Feature(
        int64_list=tf.train.Int64List(value=array.ravel().astype(np.int64)))
  return tf.train.Feature(
      float_list=tf.train.FloatList(value=array.ravel().astype(np.float32)))


def serialize_example(features: Mapping[str, Any]) -> bytes:
  """A `tf.train.Example` of `{name: value}`, serialized.

  Strings become bytes features, integers and booleans int64 features and
  other numbers float features; arrays are flattened (the reader's
  `FixedLenFeature` shape restores them).
  """
  return tf.train.Example(features=tf.train.Features(
      feature={name: _feature(v) for name, v in features.items()}
  )).SerializeToString()


def write_database(
    database_filepath: str,
    examples: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]
) -> None:
  """Writes an SQLite file in TFF's layout, e.g. a small local stand-in.

  Args:
    database_filepath: The file to create; it must not exist.
    examples: `{split_name: {client_id: [example, ...]}}`, each example a
      `{feature: value}` mapping (see `serialize_example`).

  Raises:
    FileExistsError: if `database_filepath` exists.
  """
  path = os.fspath(database_filepath)
  if os.path.exists(path):
    raise FileExistsError(f'Expected no file at {path}, found one.')
  connection = sqlite3.connect(path)
  try:
    connection.execute('CREATE TABLE examples (split_name TEXT, client_id '
                       'TEXT, serialized_example_proto BLOB);')
    connection.execute('CREATE TABLE client_metadata (client_id TEXT, '
                       'split_name TEXT, num_examples INTEGER);')
    for split_name, clients in examples.items():
      for client_id, client_examples in clients.items():
        connection.executemany(
            'INSERT INTO examples VALUES (?, ?, ?);',
            [(split_name, client_id, serialize_example(e))
             for e in client_examples])
        connection.execute('INSERT INTO client_metadata VALUES (?, ?, ?);',
                           (client_id, split_name, len(client_examples)))
    connection.commit()
  finally:
    connection.close()
