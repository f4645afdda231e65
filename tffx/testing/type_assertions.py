"""Assertions on the relations between two types, as TFF's `tff.test`.

Each raises the error class of the relation it checks (`TypesNotIdenticalError`,
`TypesNotEquivalentError`, `TypeNotAssignableError`), worded by the types'
`check_*` methods; `assert_not_type_assignable_from` raises
`TypeAssignableError`. This module does not compare values.
"""

from tffx.types import computation_types


class TypeAssignableError(TypeError):
  """A type was assignable from another where it was expected not to be."""


def assert_types_identical(first: computation_types.Type,
                           second: computation_types.Type) -> None:
  """Raises `TypesNotIdenticalError` unless the types are identical."""
  first.check_identical_to(second)


def assert_types_equivalent(first: computation_types.Type,
                            second: computation_types.Type) -> None:
  """Raises `TypesNotEquivalentError` unless the types are equivalent."""
  first.check_equivalent_to(second)


def assert_type_assignable_from(target: computation_types.Type,
                                other: computation_types.Type) -> None:
  """Raises `TypeNotAssignableError` unless `target` is assignable from `other`."""
  target.check_assignable_from(other)


def assert_not_type_assignable_from(target: computation_types.Type,
                                    other: computation_types.Type) -> None:
  """Raises `TypeAssignableError` if `target` is assignable from `other`."""
  if target.is_assignable_from(other):
    raise TypeAssignableError(
        f'Expected {target} not to be assignable from {other}.')

