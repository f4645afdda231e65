"""`FederatedValue`: how executors hold a value placed at CLIENTS or SERVER.

Inside executors, values are plain Python objects:

    tensor      numpy array (0-d for scalars)
    struct      tffx.types.structure.Struct
    sequence    tf.data.Dataset (or a list of elements at the edges)
    function    a building block or a Python callable
    federated   FederatedValue(type_signature, members)

A SERVER value has exactly one member. A CLIENTS value has one member per
client, all-equal or not (an all-equal value repeats the same object), so
the number of clients is `len(members)`.
"""

from typing import Any, Sequence, Tuple

from tffx.types import computation_types
from tffx.types import placements


class FederatedValue:
  """A federated value: its type and one member per participant."""

  __slots__ = ('_type', '_members')

  def __init__(self, type_signature: computation_types.FederatedType,
               members: Sequence[Any]):
    if not isinstance(type_signature, computation_types.FederatedType):
      raise TypeError(f'Expected a federated type, found {type_signature}.')
    members = tuple(members)
    if type_signature.placement is placements.SERVER and len(members) != 1:
      raise ValueError(f'A value of type {type_signature} has exactly one '
                       f'member; found {len(members)}.')
    self._type = type_signature
    self._members = members

  @property
  def type_signature(self) -> computation_types.FederatedType:
    return self._type

  @property
  def placement(self) -> placements.PlacementLiteral:
    return self._type.placement

  @property
  def members(self) -> Tuple[Any, ...]:
    return self._members

  def __len__(self) -> int:
    return len(self._members)

  def __repr__(self) -> str:
    return f'FederatedValue({self._type}, {len(self._members)} members)'
