"""Errors raised by the federated type system.

Every type error subclasses `TypeError` so that callers written against TFF,
which raises `TypeError` for type problems, keep working. `SerializationError`
(malformed wire data, for every layer's serialization) is a `ValueError`.
"""


class InvalidTypeError(TypeError, ValueError):
  """A type that cannot exist, e.g. a federated value inside a federated value.

  Both a `TypeError` (a problem with a type) and a `ValueError`, which is what
  TFF raises for invalid `FederatedType` and `SequenceType` members.
  """


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


class UnexpectedTypeError(TypeError):
  """A type of one kind (e.g. `StructType`) was found where another was expected.

  Attributes:
    expected: the expected `Type` subclass.
    actual: the `Type` found.
  """

  def __init__(self, expected: type, actual):
    super().__init__(f'Expected type of kind {expected.__name__}, found type '
                     f'{actual}.')
    self.expected = expected
    self.actual = actual


class SerializationError(ValueError):
  """Bytes or a proto that do not describe a valid type, computation or value."""
