"""Errors raised by the federated type system.

Every type error subclasses `TypeError` so that callers written against TFF,
which raises `TypeError` for type problems, keep working. `SerializationError`
(malformed wire data, for every layer's serialization) is a `ValueError`.
"""


class InvalidTypeError(TypeError):
  """A type that cannot exist, e.g. a federated value inside a federated value."""


class UnsupportedTypeSpecError(TypeError):
  """`to_type` or `infer_type` was given something it cannot turn into a type."""


class TypeRelationError(TypeError):
  """Base class of the errors raised by the `check_*` relations between types."""

  def __init__(self, message: str, target, source):
    super().__init__(message)
    self.target = target
    self.source = source


class TypeNotAssignableError(TypeRelationError):
  """A value of the source type cannot be used where the target type is expected."""


class TypesNotEquivalentError(TypeRelationError):
  """Two types are not assignable to each other."""


class TypesNotIdenticalError(TypeRelationError):
  """Two types differ, possibly only in their Python containers."""


class SerializationError(ValueError):
  """Bytes or a proto that do not describe a valid type, computation or value."""
