"""`TransformingClientData`: a `ClientData` mapped per client, maybe expanded.

    base client 'a' --expand_client_id--> 'a-0', 'a-1'  (pseudo-clients)
    dataset('a-1') = base dataset(reduce_client_id('a-1')).map(
                         make_transform_fn('a-1'))

As TFF's `tff.simulation.datasets.TransformingClientData`; a client id is a
Python string here, so `reduce_client_id` receives and may return a `str`
(a `tf.string` scalar is accepted too).
"""

from typing import Any, Callable, List, Optional

import tensorflow as tf

from tffx.simulation import client_data


def _as_str(client_id: Any) -> str:
  if isinstance(client_id, str):
    return client_id
  return tf.convert_to_tensor(client_id).numpy().decode()


class TransformingClientData(client_data.FixedClientData):
  """Transforms each client's examples, optionally adding pseudo-clients."""

  def __init__(self,
               base_client_data: client_data.ClientData,
               make_transform_fn: Callable[[str], Callable[[Any], Any]],
               expand_client_id: Optional[Callable[[str], List[str]]] = None,
               reduce_client_id: Optional[Callable[[str], str]] = None):
    """Creates the transforming `ClientData`.

    Args:
      base_client_data: The `ClientData` to transform.
      make_transform_fn: Called with an (expanded) client id; returns the
        function mapped over that client's examples.
      expand_client_id: Maps a base client id to its expanded ids; None
        keeps the base ids.
      reduce_client_id: Maps an expanded id back to its base id; given if
        and only if `expand_client_id` is.

    Raises:
      TypeError: if `base_client_data` is not a `ClientData` or a function
        is not callable.
      ValueError: if the base has no client, or only one of
        `expand_client_id` and `reduce_client_id` is given.
    """
    if not isinstance(base_client_data, client_data.ClientData):
      raise TypeError(f'Expected base_client_data to be a ClientData, found '
                      f'{type(base_client_data).__name__}.')
    if not callable(make_transform_fn):
      raise TypeError(f'Expected a callable make_transform_fn, found '
                      f'{type(make_transform_fn).__name__}.')
    raw_client_ids = base_client_data.client_ids
    if not raw_client_ids:
      raise ValueError('`base_client_data` must be non-empty.')
    if (expand_client_id is None) != (reduce_client_id is None):
      raise ValueError('Must specify both or neither of `expand_client_id` '
                       'and `reduce_client_id`.')
    self._base_client_data = base_client_data
    self._make_transform_fn = make_transform_fn
    if expand_client_id is None:
      client_ids = raw_client_ids
      self._reduce_client_id = lambda client_id: client_id
    else:
      client_ids = [e for c in raw_client_ids for e in expand_client_id(c)]
      self._reduce_client_id = reduce_client_id
    self._client_ids = sorted(client_data.check_client_ids(client_ids))
    self._element_type_structure = self._create_dataset(
        self._client_ids[0]).element_spec

  def _create_dataset(self, client_id: str) -> tf.data.Dataset:
    base_id = _as_str(self._reduce_client_id(client_id))
    dataset = self._base_client_data.create_tf_dataset_for_client(base_id)
    return dataset.map(self._make_transform_fn(client_id))
