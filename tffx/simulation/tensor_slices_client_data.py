"""`TestClientData`: a `ClientData` held in memory, one slice per example.

    TestClientData({
        'alice': OrderedDict(x=np.zeros([3, 2]), y=np.array([0, 1, 1])),
        'bob':   OrderedDict(x=np.ones([1, 2]),  y=np.array([1])),
    })
    # create_tf_dataset_for_client('alice') yields 3 OrderedDict(x=[2], y=[])

As TensorFlow Federated's `tff.simulation.datasets.TestClientData`: each
client's value is an array or a structure of arrays (dict, OrderedDict,
tuple, namedtuple; a list is an array, as in `tf.data`) whose leaves share
their first dimension; the dataset of a
client is `tf.data.Dataset.from_tensor_slices` of that value. The name is
TFF's; the class is for small datasets and tests, and also holds the
generated synthetic datasets. This module does not read files.
"""

import collections
from typing import Any, Mapping

import numpy as np
import tensorflow as tf

from tffx.simulation import client_data


def _to_arrays(value: Any) -> Any:
  # As in tf.data, dicts and tuples are structures; lists are arrays.
  if isinstance(value, Mapping):
    return type(value)((k, _to_arrays(v)) for k, v in value.items())
  if isinstance(value, tuple):
    elements = [_to_arrays(v) for v in value]
    return type(value)(*elements) if hasattr(value, '_fields') else tuple(
        elements)
  return np.asarray(value)


def _num_examples(client_id: str, value: Any) -> int:
  leaves = tf.nest.flatten(value)
  if not leaves:
    raise ValueError(f'Expected the value of client {client_id!r} to hold at '
                     f'least one array, found {value!r}.')
  lengths = set()
  for leaf in leaves:
    if leaf.ndim == 0:
      raise ValueError(
          f'Expected arrays with a first dimension (one slice per example) '
          f'for client {client_id!r}, found a scalar {leaf!r}.')
    lengths.add(leaf.shape[0])
  if len(lengths) > 1:
    raise ValueError(
        f'Expected the arrays of client {client_id!r} to have the same first '
        f'dimension (the number of examples), found {sorted(lengths)}.')
  return lengths.pop()


def _tf_dtype(array: np.ndarray) -> tf.dtypes.DType:
  # numpy keeps text as unicode, bytes or object arrays; all are tf.string.
  if array.dtype.kind in ('U', 'S', 'O'):
    return tf.string
  return tf.as_dtype(array.dtype)


def _element_spec(value: Any) -> Any:
  return tf.nest.map_structure(
      lambda a: tf.TensorSpec(a.shape[1:], _tf_dtype(a)), value)


class TestClientData(client_data.FixedClientData):
  """A `ClientData` from `{client_id: structure of arrays}`.

  Client ids are sorted. The arrays are kept as numpy arrays (converted
  from lists or tensors); every client must have the same structure and,
  per example, the same dtypes and shapes.
  """

  # Not a test case, despite its (TFF) name.
  __test__ = False

  def __init__(self, tensor_slices_dict: Mapping[str, Any]):
    """Builds the dataset.

    Args:
      tensor_slices_dict: `{client_id: value}`, where `value` is an array or
        a structure of arrays whose first dimension indexes the examples.

    Raises:
      TypeError: if `tensor_slices_dict` is not a mapping or a client id is
        not a string.
      ValueError: if it is empty, a client's arrays differ in their first
        dimension or are scalars, or clients differ in structure, dtype or
        example shape.
    """
    if not isinstance(tensor_slices_dict, Mapping):
      raise TypeError(f'Expected a mapping from client ids to arrays, found '
                      f'{type(tensor_slices_dict).__name__}.')
    client_ids = sorted(client_data.check_client_ids(list(tensor_slices_dict)))
    self._client_ids = client_ids
    self._slices = collections.OrderedDict()
    self._num_examples = collections.OrderedDict()
    self._element_type_structure = None
    for client_id in client_ids:
      value = _to_arrays(tensor_slices_dict[client_id])
      self._num_examples[client_id] = _num_examples(client_id, value)
      spec = _element_spec(value)
      if self._element_type_structure is None:
        self._element_type_structure = spec
      elif not _same_spec(spec, self._element_type_structure):
        raise ValueError(
            f'Expected every client to have examples of the structure '
            f'{self._element_type_structure} (that of client '
            f'{client_ids[0]!r}), found {spec} for client {client_id!r}.')
      self._slices[client_id] = value

  def num_examples(self, client_id: str) -> int:
    """The number of examples of one client.

    Raises:
      UnknownClientIdError: if `client_id` is not in `client_ids`.
    """
    self._check_client_id(client_id)
    return self._num_examples[client_id]

  def _create_dataset(self, client_id: str) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(self._slices[client_id])

  def create_tf_dataset_from_all_clients(self, seed=None) -> tf.data.Dataset:
    """As `ClientData`'s, but slices one concatenation of the arrays."""
    values = [self._slices[i] for i in self._shuffled_client_ids(seed)]
    joined = tf.nest.map_structure(lambda *a: np.concatenate(a), *values)
    return tf.data.Dataset.from_tensor_slices(joined)


def _same_spec(a: Any, b: Any) -> bool:
  try:
    tf.nest.assert_same_structure(a, b)
  except (TypeError, ValueError):
    return False
  return all(x == y for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)))
