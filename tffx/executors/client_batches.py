"""`ClientBatch`: the values of a run of consecutive clients.

Client work is done chunk by chunk (see `client_scheduler`), and what flows
between the steps of a chunk is a batch: the members of clients
[start, start + count), held either as

    members   a list with one executor value per client, or
    stacked   the member's structure with every tensor leaf stacked along a
              new leading axis of length `count` (what a batched TensorFlow
              call takes and returns, and what vectorized sums read).

Each form is built from the other on demand and then kept. Stacking needs
tensor leaves of equal shapes and the declared dtype; `stacked()` returns
None for anything else (datasets, ragged values), and callers fall back to
the members. This module does no client work itself.
"""

from typing import Any, List, Optional

import numpy as np

from tffx.types import computation_types as ct
from tffx.types import structure


class ClientBatch:
  """The members of `count` consecutive clients, as a list or stacked.

  Args:
    member_type: The type of one client's member.
    count: The number of clients.
    members: A list of `count` executor values, or None.
    stacked: The stacked form (see the module docstring), or None. At least
      one of `members` and `stacked` is given.
  """

  __slots__ = ('_type', '_count', '_members', '_stacked')

  def __init__(self, member_type: ct.Type, count: int,
               members: Optional[List[Any]] = None, stacked: Any = None):
    if members is None and stacked is None:
      raise ValueError('A ClientBatch needs its members or their stack.')
    self._type = member_type
    self._count = count
    self._members = members
    self._stacked = stacked

  @classmethod
  def of_members(cls, member_type: ct.Type,
                 members: List[Any]) -> 'ClientBatch':
    return cls(member_type, len(members), members=members)

  @property
  def member_type(self) -> ct.Type:
    return self._type

  @property
  def count(self) -> int:
    return self._count

  @property
  def is_stacked(self) -> bool:
    """Whether the stacked form exists already (costs nothing to read)."""
    return self._stacked is not None

  def members(self) -> List[Any]:
    """One executor value per client (tensors as numpy arrays, 0-d views)."""
    if self._members is None:
      self._members = _unstack(self._stacked, self._type, self._count)
    return self._members

  def stacked(self) -> Optional[Any]:
    """The stacked form, or None if the members cannot be stacked."""
    if self._stacked is None and self._count:
      self._stacked = _stack(self._members, self._type)
    return self._stacked


def _stack(members: List[Any], type_spec: ct.Type) -> Optional[Any]:
  if isinstance(type_spec, ct.TensorType):
    if not all(isinstance(m, (np.ndarray, np.generic)) for m in members):
      return None
    shape = np.shape(members[0])
    if any(np.shape(m) != shape for m in members):
      return None
    stacked = np.stack(members)
    return stacked if stacked.dtype == type_spec.dtype else None
  if isinstance(type_spec, ct.StructType):
    if not all(isinstance(m, structure.Struct) and len(m) == len(type_spec)
               for m in members):
      return None
    leaves = []
    for i, element_type in enumerate(type_spec):
      leaf = _stack([m[i] for m in members], element_type)
      if leaf is None:
        return None
      leaves.append(leaf)
    return structure.Struct(list(zip(type_spec.names(), leaves)))
  return None


def _unstack(stacked: Any, type_spec: ct.Type, count: int) -> List[Any]:
  if isinstance(type_spec, ct.TensorType):
    array = np.asarray(stacked)
    return [array[i, ...] for i in range(count)]
  if not len(type_spec):
    return [structure.Struct([]) for _ in range(count)]
  columns = [_unstack(stacked[i], t, count) for i, t in enumerate(type_spec)]
  names = type_spec.names()
  return [structure.Struct(list(zip(names, row))) for row in zip(*columns)]
