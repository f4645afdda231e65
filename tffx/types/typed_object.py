"""`TypedObject`: the interface of everything that has a tffx type.

Computations and traced values are typed objects (TFF's `tff.TypedObject`):
`isinstance(x, tffx.TypedObject)` says `x.type_signature` is a `Type`.
"""

from tffx.types import computation_types


class TypedObject:
  """An object with a `type_signature` (a `tffx.types.Type`)."""

  __slots__ = ()

  @property
  def type_signature(self) -> computation_types.Type:
    raise NotImplementedError
