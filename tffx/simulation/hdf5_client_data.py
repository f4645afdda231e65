"""`HDF5ClientData`: a `ClientData` read from a local HDF5 file in TFF's layout.

TensorFlow Federated ships its federated datasets (EMNIST, Shakespeare,
Stack Overflow, ...) as HDF5 files laid out as

    examples/                  a group
      <client_id>/             one group per client
        <feature>              one dataset per feature, e.g. `pixels`
                               [n, 28, 28] and `label` [n]; the same n for
                               every feature of the client

The dataset of a client yields `OrderedDict(feature=value)` with the
features in name order, one element per example. The layout is checked
when the object is built (metadata only); a client's arrays are read when
its dataset is created. Its datasets carry their source (the file's path
and the client id), so workers that see the file open them themselves
(`tffx.executors.dataset_sources`). This module does not download files:
pass the path of one already on disk. It needs h5py.
"""

import collections
import functools
import os
from typing import Any, Mapping

import h5py
import numpy as np
import tensorflow as tf

from tffx.executors import dataset_sources
from tffx.simulation import client_data
from tffx.simulation import errors

_EXAMPLES = 'examples'
_LAYOUT_TIP = ('Tip: TFF\'s federated datasets have one group per client '
               'under `examples/`, and one dataset per feature in it.')


def _tf_dtype(dataset: h5py.Dataset) -> tf.dtypes.DType:
  if h5py.check_string_dtype(dataset.dtype) is not None or (
      dataset.dtype.kind in ('S', 'U', 'O')):
    return tf.string
  return tf.as_dtype(dataset.dtype)


def _client_spec(path: str, client_id: str, group: Any) -> Any:
  """Checks one client group and returns its element structure."""
  if not isinstance(group, h5py.Group):
    raise errors.ClientDataFileError(
        f'Expected `{_EXAMPLES}/{client_id}` in {path} to be a group of '
        f'features, found a {type(group).__name__}. {_LAYOUT_TIP}')
  spec = collections.OrderedDict()
  lengths = set()
  for name in sorted(group):
    feature = group[name]
    if not isinstance(feature, h5py.Dataset) or not feature.shape:
      raise errors.ClientDataFileError(
          f'Expected `{_EXAMPLES}/{client_id}/{name}` in {path} to be a '
          f'dataset with one row per example, found {feature!r}. '
          f'{_LAYOUT_TIP}')
    lengths.add(feature.shape[0])
    spec[name] = tf.TensorSpec(feature.shape[1:], _tf_dtype(feature))
  if not spec:
    raise errors.ClientDataFileError(
        f'Expected client `{_EXAMPLES}/{client_id}` in {path} to have at '
        f'least one feature, found none. {_LAYOUT_TIP}')
  if len(lengths) > 1:
    raise errors.ClientDataFileError(
        f'Expected the features of client {client_id!r} in {path} to have '
        f'the same number of examples, found {sorted(lengths)}.')
  return spec


class HDF5ClientData(client_data.FixedClientData):
  """A federated dataset from an HDF5 file in TFF's `examples/<id>/<feature>`
  layout (see the module docstring).
  """

  def __init__(self, hdf5_filepath: str):
    """Opens the file and checks its layout.

    Args:
      hdf5_filepath: Path of a local HDF5 file.

    Raises:
      ClientDataFileError: if there is no file at the path, it is not an
        HDF5 file, or its layout is not TFF's: no `examples` group, no
        clients, a client that is not a group of equally long datasets, or
        clients whose features differ in name, dtype or shape.
    """
    path = os.fspath(hdf5_filepath)
    if not os.path.isfile(path):
      raise errors.ClientDataFileError(
          f'Expected an HDF5 file at {path!r}, found '
          f'{"a directory" if os.path.isdir(path) else "nothing"}.')
    try:
      with h5py.File(path, 'r') as f:
        client_ids, spec = self._read_layout(path, f)
    except OSError as e:
      raise errors.ClientDataFileError(
          f'Expected an HDF5 file at {path!r}, but h5py cannot read it: '
          f'{e}') from e
    self._path = path
    self._client_ids = client_ids
    self._element_type_structure = spec

  @staticmethod
  def _read_layout(path: str, f: h5py.File):
    examples = f.get(_EXAMPLES)
    if not isinstance(examples, h5py.Group):
      found = sorted(f)[:5]
      raise errors.ClientDataFileError(
          f'Expected a group `{_EXAMPLES}` at the root of {path}, found the '
          f'entries {found}. {_LAYOUT_TIP}')
    client_ids = sorted(examples)
    if not client_ids:
      raise errors.ClientDataFileError(
          f'Expected at least one client under `{_EXAMPLES}` in {path}, '
          f'found none.')
    spec = _client_spec(path, client_ids[0], examples[client_ids[0]])
    for client_id in client_ids[1:]:
      other = _client_spec(path, client_id, examples[client_id])
      if other != spec:
        raise errors.ClientDataFileError(
            f'Expected every client in {path} to have the features {spec} '
            f'(those of client {client_ids[0]!r}), found {other} for client '
            f'{client_id!r}.')
    return client_ids, spec

  def _read_client(self, client_id: str) -> Any:
    with h5py.File(self._path, 'r') as f:
      group = f[_EXAMPLES][client_id]
      return collections.OrderedDict(
          (name, np.asarray(group[name][()])) for name in
          self._element_type_structure)

  def _create_dataset(self, client_id: str) -> tf.data.Dataset:
    # Tagged, so that a worker that can read the file (shared storage)
    # opens it there, instead of the examples traveling.
    return dataset_sources.attach(
        tf.data.Dataset.from_tensor_slices(self._read_client(client_id)),
        dataset_sources.DatasetSource.of(
            'hdf5', {'path': os.path.abspath(self._path)}, client_id))


@functools.lru_cache(maxsize=8)
def _open_file(path: str) -> HDF5ClientData:
  return HDF5ClientData(path)


def _open_source(params: Mapping[str, Any], client_id: str) -> tf.data.Dataset:
  return _open_file(params['path']).create_tf_dataset_for_client(client_id)


dataset_sources.register_opener('hdf5', _open_source)
