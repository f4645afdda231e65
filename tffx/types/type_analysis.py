"""Predicates over types: what a type contains and which intrinsics accept it.

    contains(t, pred)           any type in t (t included) passes `pred`
    contains_only(t, pred)      every type in t passes `pred`
    count(t, pred)              how many types in t pass `pred`
    is_structure_of_integers(t) tensors (in structs/federated) all integers
    is_sum_compatible(t)        federated_sum accepts it (numeric, full shape)

These are TFF's `tff.types` predicates. A "type in t" is `t` or any type
nested in it, in pre-order. This module decides nothing about assignability
(see `computation_types`).
"""

import math
from typing import Callable, Iterator, Optional

import numpy as np

from tffx.types import computation_types

ArrayShape = Optional[tuple]
"""A tensor shape: a tuple of `int | None`, or None for an unknown rank."""

_Predicate = Callable[[computation_types.Type], bool]


def _preorder(type_spec: computation_types.Type
             ) -> Iterator[computation_types.Type]:
  pending = [type_spec]
  while pending:
    t = pending.pop()
    yield t
    pending.extend(reversed(list(t.children())))


def contains(type_signature: computation_types.Type,
             predicate: _Predicate) -> bool:
  """Whether `type_signature` or a type nested in it passes `predicate`."""
  return any(predicate(t) for t in _preorder(type_signature))


def contains_only(type_signature: computation_types.Type,
                  predicate: _Predicate) -> bool:
  """Whether `type_signature` and every type nested in it pass `predicate`."""
  return all(predicate(t) for t in _preorder(type_signature))


def count(type_signature: computation_types.Type,
          predicate: _Predicate) -> int:
  """The number of types in `type_signature` (itself included) that pass."""
  return sum(1 for t in _preorder(type_signature) if predicate(t))


def is_shape_fully_defined(shape: ArrayShape) -> bool:
  """Whether the rank and every dimension of `shape` are known."""
  return shape is not None and all(d is not None for d in shape)


def num_elements_in_shape(shape: ArrayShape) -> Optional[int]:
  """The number of elements of a tensor of `shape`; None if not fully known."""
  if not is_shape_fully_defined(shape):
    return None
  return math.prod(shape)


def _tensors_all(type_spec: computation_types.Type,
                 tensor_predicate: Callable[[computation_types.TensorType],
                                            bool]) -> bool:
  """Whether `type_spec` is tensors, in structs or a federated type, all passing.

  An empty struct passes: it holds no tensor that fails.
  """
  if isinstance(type_spec, computation_types.TensorType):
    return tensor_predicate(type_spec)
  if isinstance(type_spec, computation_types.StructType):
    return all(_tensors_all(t, tensor_predicate) for t in type_spec)
  if isinstance(type_spec, computation_types.FederatedType):
    return _tensors_all(type_spec.member, tensor_predicate)
  return False


def _is_integer(dtype: np.dtype) -> bool:
  return np.issubdtype(dtype, np.integer)


def _is_float(dtype: np.dtype) -> bool:
  return np.issubdtype(dtype, np.floating) or dtype.name == 'bfloat16'


def _is_numeric(dtype: np.dtype) -> bool:
  return _is_integer(dtype) or _is_float(dtype) or np.issubdtype(
      dtype, np.complexfloating)


def is_structure_of_integers(type_spec: computation_types.Type) -> bool:
  """Whether `type_spec` holds only integer tensors (an empty struct does)."""
  return _tensors_all(type_spec, lambda t: _is_integer(t.dtype))


def is_structure_of_floats(type_spec: computation_types.Type) -> bool:
  """Whether `type_spec` holds only floating-point tensors."""
  return _tensors_all(type_spec, lambda t: _is_float(t.dtype))


def is_structure_of_tensors(type_spec: computation_types.Type) -> bool:
  """Whether `type_spec` is a tensor or a struct of only tensors and structs."""
  return contains_only(
      type_spec, lambda t: isinstance(t, (computation_types.TensorType,
                                          computation_types.StructType)))


def is_tensorflow_compatible_type(
    type_spec: Optional[computation_types.Type]) -> bool:
  """Whether a TensorFlow computation can take or return `type_spec`.

  None (no parameter) is; so are tensors, sequences and structs of these.
  """
  if type_spec is None:
    return True
  return contains_only(
      type_spec, lambda t: isinstance(t, (computation_types.TensorType,
                                          computation_types.StructType,
                                          computation_types.SequenceType)))


def is_sum_compatible(type_spec: computation_types.Type) -> bool:
  """Whether values of `type_spec` can be summed: numeric, fully known shapes."""
  return _tensors_all(
      type_spec,
      lambda t: _is_numeric(t.dtype) and is_shape_fully_defined(t.shape))


def is_average_compatible(type_spec: computation_types.Type) -> bool:
  """Whether values of `type_spec` can be averaged: floating or complex."""
  return _tensors_all(
      type_spec, lambda t: _is_float(t.dtype) or np.issubdtype(
          t.dtype, np.complexfloating))


def is_min_max_compatible(type_spec: computation_types.Type) -> bool:
  """Whether `federated_min`/`federated_max` accept `type_spec`."""
  return _tensors_all(
      type_spec, lambda t: _is_integer(t.dtype) or _is_float(t.dtype))


def is_single_integer_or_matches_structure(
    type_sig: computation_types.Type,
    shape_type: computation_types.Type) -> bool:
  """Whether `type_sig` is one integer, or a struct of them shaped like `shape_type`.

  Used for the bitwidths and moduli of secure sums: one integer applies to
  every tensor of the summed value; a struct gives one per tensor.
  """
  if isinstance(type_sig, computation_types.TensorType):
    return _is_integer(type_sig.dtype) and num_elements_in_shape(
        type_sig.shape) == 1
  if not (isinstance(type_sig, computation_types.StructType) and
          isinstance(shape_type, computation_types.StructType)):
    return False
  if len(type_sig) != len(shape_type):
    return False
  return all(
      name == shape_name and is_single_integer_or_matches_structure(t, s)
      for (name, t), (shape_name, s) in zip(type_sig.items(),
                                            shape_type.items()))

