"""Saving a federated dataset as an SQLite file, and loading it back.

    save_to_sql_client_data(ids, dataset_fn, path)     -> file in TFF's layout
    load_and_parse_sql_client_data(path, element_spec) -> ClientData of dicts

As TFF's functions of the same names: every client's elements are one flat
`Mapping[str, tf.TensorSpec]`; they are stored as `tf.train.Example`s in
split 'N/A' and parsed back with the given element spec (strings, floats
through float32, integers through int64, then cast to the spec's dtype).
"""

import collections
import os
from typing import Callable, List, Mapping

import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation import errors
from tffx.simulation import sql_client_data

_SPLIT = 'N/A'


def _check_element_spec(element_spec) -> None:
  if not isinstance(element_spec, Mapping):
    raise errors.ElementSpecCompatibilityError(
        f'{element_spec} has type {type(element_spec)}, but expected '
        f'`Mapping[str, tf.TensorSpec]`.')
  for key, spec in element_spec.items():
    if not isinstance(key, str):
      raise errors.ElementSpecCompatibilityError(
          f'{key} has type {type(key)}, but expected str.')
    if not isinstance(spec, tf.TensorSpec):
      raise errors.ElementSpecCompatibilityError(
          f'{spec} has type {type(spec)}, but expected `tf.TensorSpec`.')
    if not (spec.dtype == tf.string or spec.dtype.is_floating or
            spec.dtype.is_integer):
      raise errors.ElementSpecCompatibilityError(
          f'Unsupported dtype {spec.dtype} for {key!r}: strings, floats and '
          f'integers only.')


def save_to_sql_client_data(client_ids: List[str],
                            dataset_fn: Callable[[str], tf.data.Dataset],
                            database_filepath: str,
                            allow_overwrite: bool = False) -> None:
  """Writes the clients' datasets to an SQLite file `SqlClientData` reads.

  Args:
    client_ids: The clients to save.
    dataset_fn: Returns the `tf.data.Dataset` of a client id (a `str`).
    database_filepath: The file to write.
    allow_overwrite: Whether an existing file may be replaced.

  Raises:
    FileExistsError: if the file exists and `allow_overwrite` is False.
    ElementSpecCompatibilityError: if an element spec is not a flat
      `Mapping[str, tf.TensorSpec]`, or clients' element specs differ.
  """
  path = os.fspath(database_filepath)
  if os.path.exists(path) and not allow_overwrite:
    raise FileExistsError(f'File already exists at {database_filepath}')
  client_ids = client_data.check_client_ids(client_ids)
  example_spec = dataset_fn(client_ids[0]).element_spec
  _check_element_spec(example_spec)
  clients = collections.OrderedDict()
  for client_id in client_ids:
    dataset = dataset_fn(client_id)
    if dataset.element_spec != example_spec:
      raise errors.ElementSpecCompatibilityError(
          f'All the clients must share the same dataset element type. The '
          f'dataset of client {client_id!r} has element type '
          f'{dataset.element_spec}, which differs from that of client '
          f'{client_ids[0]!r}, {example_spec}.')
    clients[client_id] = list(dataset.as_numpy_iterator())
  partial = path + '.partial'
  if os.path.exists(partial):
    os.remove(partial)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  sql_client_data.write_database(partial, {_SPLIT: clients})
  os.replace(partial, path)


def load_and_parse_sql_client_data(
    database_filepath: str,
    element_spec: Mapping[str, tf.TensorSpec]) -> client_data.ClientData:
  """Reads a file written by `save_to_sql_client_data` as parsed datasets.

  Raises:
    FileNotFoundError: if there is no file at `database_filepath`.
    ElementSpecCompatibilityError: if `element_spec` is not a flat
      `Mapping[str, tf.TensorSpec]`.
  """
  _check_element_spec(element_spec)
  if not os.path.exists(database_filepath):
    raise FileNotFoundError(f'No such file or directory: {database_filepath}')
  features = collections.OrderedDict()
  for key, spec in element_spec.items():
    parsed_dtype = (tf.string if spec.dtype == tf.string else
                    tf.float32 if spec.dtype.is_floating else tf.int64)
    features[key] = tf.io.FixedLenFeature(spec.shape, parsed_dtype)

  def parse(serialized):
    parsed = tf.io.parse_single_example(serialized, features)
    return collections.OrderedDict(
        (key, tf.cast(parsed[key], spec.dtype))
        for key, spec in element_spec.items())

  return sql_client_data.SqlClientData(database_filepath).preprocess(
      lambda dataset: dataset.map(parse))
