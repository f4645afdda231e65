"""Value references: values a program holds without having them yet.

    reference.type_signature   the type of the value (tensor or sequence)
    reference.get_value()      the value (numpy value or tf.data.Dataset)
    materialize_value(nest)    the nest with every reference replaced

A federated context (e.g. `NativeFederatedContext`) returns the results of
computations as references, so that a program passes them on (to release
managers, to the next computation) and only what needs the value fetches
it. As TensorFlow Federated's `tff.program.MaterializableValueReference`
and `tff.program.materialize_value`, but synchronous: `get_value()` and
`materialize_value` return the value rather than a coroutine, as the rest
of `tffx.program`.
"""

import abc
from typing import Any, Iterable, TypeVar, Union

import numpy as np

from tffx.program import value_paths
from tffx.types import computation_types

# The types a reference can have.
MaterializableTypeSignature = Union[computation_types.TensorType,
                                    computation_types.SequenceType]
# What `get_value()` returns: a numpy value, a Python scalar or string, or a
# dataset (an iterable of elements).
MaterializedValue = Union[bool, int, float, complex, str, bytes, np.generic,
                          np.ndarray, Iterable[Any]]
MaterializedStructure = TypeVar('MaterializedStructure')
MaterializableValue = Union[MaterializedValue,
                            'MaterializableValueReference']
MaterializableStructure = TypeVar('MaterializableStructure')


class MaterializableValueReference(abc.ABC):
  """A reference to a value that `get_value()` materializes."""

  @property
  @abc.abstractmethod
  def type_signature(self) -> MaterializableTypeSignature:
    """The type of the referenced value."""

  @abc.abstractmethod
  def get_value(self) -> MaterializedValue:
    """Returns the referenced value."""


def materialize_value(value: Any) -> Any:
  """Returns `value` with each `MaterializableValueReference` materialized.

  `value` is a nest (Python containers, `tffx.structure.Struct`) or a
  single leaf; its containers are rebuilt with the same types and names,
  leaves that are not references are kept as they are.
  """
  return value_paths.map_with_paths(
      lambda _, leaf: leaf.get_value()
      if isinstance(leaf, MaterializableValueReference) else leaf, value)
