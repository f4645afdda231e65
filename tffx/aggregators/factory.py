"""The two kinds of aggregation factory, and the checks every factory shares.

A factory builds an `AggregationProcess` for a value type known only when
the factory is used (e.g. a model's weights):

    factory = tffx.aggregators.MeanFactory()
    process = factory.create(value_type, weight_type)   # weighted
    process = tffx.aggregators.SumFactory().create(value_type)  # unweighted

    UnweightedAggregationFactory.create(V)    -> next(state, {V}@CLIENTS)
    WeightedAggregationFactory.create(V, W)   -> next(state, {V}@CLIENTS,
                                                      {W}@CLIENTS)

Factories nest: an outer factory creates its inner factories' processes for
the value type it passes on, and keeps their states and measurements under
names of its own. This module defines the base classes and the argument
checks (of value types, inner factories, and norms given as numbers or
estimation processes); it builds no computation.
"""

import abc
from typing import Any, Optional, Union

import numpy as np

from tffx.aggregators import errors
from tffx.templates import aggregation_process
from tffx.templates import estimation_process
from tffx.types import computation_types
from tffx.types import errors as type_errors
from tffx.types import placements

# Kinds of numpy dtypes, as in `np.dtype.kind`.
FLOAT = 'f'
NUMERIC = 'iuf'
INTEGER = 'iu'

_KIND_NAMES = {
    FLOAT: 'floating-point',
    NUMERIC: 'integer or floating-point',
    INTEGER: 'integer',
}
_KIND_EXAMPLES = {
    FLOAT: 'float32 or <a=float32[2],b=float64>',
    NUMERIC: 'int32 or <a=float32[2],b=int64>',
    INTEGER: 'int32 or <a=int32[2],b=int64>',
}


class UnweightedAggregationFactory(abc.ABC):
  """Creates `AggregationProcess`es of unweighted client values.

  The process created for a value type `V` has the signatures

      initialize: ( -> S@SERVER)
      next:       (<S@SERVER, {V}@CLIENTS> ->
                   <state=S@SERVER, result=V@SERVER, measurements=M@SERVER>)
  """

  @abc.abstractmethod
  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns an `AggregationProcess` aggregating values of `value_type`.

    Args:
      value_type: A `tffx.TensorType` or a (nested) `tffx.StructType` of
        them, or a spec `tffx.to_type` converts to one.

    Raises:
      UnsupportedValueTypeError: if the factory cannot aggregate `value_type`.
    """


class WeightedAggregationFactory(abc.ABC):
  """Creates `AggregationProcess`es of client values with client weights.

  The process created for a value type `V` and weight type `W` has the
  signatures

      initialize: ( -> S@SERVER)
      next:       (<S@SERVER, {V}@CLIENTS, {W}@CLIENTS> ->
                   <state=S@SERVER, result=V@SERVER, measurements=M@SERVER>)
  """

  @abc.abstractmethod
  def create(self, value_type: Any,
             weight_type: Any) -> aggregation_process.AggregationProcess:
    """Returns an `AggregationProcess` aggregating weighted values.

    Args:
      value_type: A `tffx.TensorType` or a (nested) `tffx.StructType` of
        them, or a spec `tffx.to_type` converts to one.
      weight_type: The type of one client's weight, usually a scalar.

    Raises:
      UnsupportedValueTypeError: if the factory cannot aggregate values of
        `value_type` with weights of `weight_type`.
    """


AggregationFactory = Union[UnweightedAggregationFactory,
                           WeightedAggregationFactory]


def leaf_types(type_spec: computation_types.Type):
  """The non-struct types inside `type_spec`, depth first."""
  if isinstance(type_spec, computation_types.StructType):
    for element in type_spec:
      yield from leaf_types(element)
  else:
    yield type_spec


def _kind(leaf: computation_types.TensorType) -> str:
  return 'f' if leaf.dtype.name == 'bfloat16' else leaf.dtype.kind


def is_structure_of(type_spec: computation_types.Type, kinds: str) -> bool:
  """Whether `type_spec` is tensors (in structs) whose dtypes have `kinds`."""
  return all(
      isinstance(leaf, computation_types.TensorType) and _kind(leaf) in kinds
      for leaf in leaf_types(type_spec))


def check_value_type(value_type: Any, owner: str, kinds: str,
                     tip: str = '') -> computation_types.Type:
  """Returns `value_type` as a tffx type after checking its leaves.

  Args:
    value_type: The `value_type` given to `create`.
    owner: Who checks, for the message (`'MeanFactory.create'`).
    kinds: The dtype kinds allowed (`FLOAT`, `NUMERIC` or `INTEGER`).
    tip: A hint for the message when the type is refused.

  Raises:
    UnsupportedValueTypeError: if `value_type` is not a type spec, or not
      made only of tensors (in structs) of dtypes of `kinds`.
  """
  expected = (f'{owner} expects `value_type` to be a {_KIND_NAMES[kinds]} '
              f'tensor type or a struct of them, such as '
              f'{_KIND_EXAMPLES[kinds]}')
  try:
    converted = computation_types.to_type(value_type)
  except (type_errors.UnsupportedTypeSpecError,
          type_errors.InvalidTypeError) as e:
    raise errors.UnsupportedValueTypeError(
        f'{expected}; found {value_type!r}, which is not a type ({e}).'
    ) from None
  if not is_structure_of(converted, kinds):
    message = f'{expected}; found {converted}.'
    raise errors.UnsupportedValueTypeError(
        f'{message} Tip: {tip}' if tip else message)
  return converted


def check_weight_type(weight_type: Any, owner: str) -> computation_types.Type:
  """Returns `weight_type` as a tffx type: an integer or float scalar.

  Raises:
    UnsupportedValueTypeError: if it is anything else.
  """
  expected = (f'{owner} expects `weight_type` to be an integer or '
              f'floating-point scalar such as float32')
  try:
    converted = computation_types.to_type(weight_type)
  except (type_errors.UnsupportedTypeSpecError,
          type_errors.InvalidTypeError) as e:
    raise errors.UnsupportedValueTypeError(
        f'{expected}; found {weight_type!r}, which is not a type ({e}).'
    ) from None
  if not (isinstance(converted, computation_types.TensorType) and
          converted.shape == () and _kind(converted) in NUMERIC):
    raise errors.UnsupportedValueTypeError(
        f'{expected}; found {converted}. Tip: a client weight is one number, '
        f'e.g. its count of examples.')
  return converted


def check_factory(factory: Any, expected: type, argument: str,
                  owner: str) -> None:
  """Raises `FactoryTypeError` unless `factory` is an instance of `expected`.

  Args:
    factory: The factory given as `argument`.
    expected: `UnweightedAggregationFactory` or `WeightedAggregationFactory`.
    argument: The argument name, for the message (`'value_sum_factory'`).
    owner: Who checks, for the message (`'MeanFactory'`).
  """
  if isinstance(factory, expected):
    return
  if isinstance(factory, (UnweightedAggregationFactory,
                          WeightedAggregationFactory)):
    kind = ('a weighted' if isinstance(factory, WeightedAggregationFactory)
            else 'an unweighted')
    tip = (' Tip: this slot aggregates values without weights; use e.g. '
           'tffx.aggregators.SumFactory() or UnweightedMeanFactory().'
           if expected is UnweightedAggregationFactory else
           ' Tip: this slot passes weights on; use e.g. '
           'tffx.aggregators.MeanFactory().')
    found = f'{kind} factory, {type(factory).__name__}.{tip}'
  else:
    found = f'{type(factory).__name__}: {factory!r}.'
  raise errors.FactoryTypeError(
      f'{owner} expects `{argument}` to be a tffx.aggregators.'
      f'{expected.__name__}; found {found}')


def check_aggregation_factory(factory: Any, argument: str, owner: str) -> None:
  """Raises `FactoryTypeError` unless `factory` is a factory of either kind."""
  if not isinstance(factory, (UnweightedAggregationFactory,
                              WeightedAggregationFactory)):
    raise errors.FactoryTypeError(
        f'{owner} expects `{argument}` to be a tffx.aggregators.'
        f'UnweightedAggregationFactory or WeightedAggregationFactory; found '
        f'{type(factory).__name__}: {factory!r}.')


def create_process(
    factory: AggregationFactory, value_type: computation_types.Type,
    weight_type: Optional[computation_types.Type] = None
) -> aggregation_process.AggregationProcess:
  """Creates `factory`'s process, passing `weight_type` iff it is weighted."""
  if isinstance(factory, WeightedAggregationFactory):
    return factory.create(value_type, weight_type)
  return factory.create(value_type)


def is_number(value: Any) -> bool:
  """Whether `value` is a Python or numpy int or float (not a bool)."""
  return isinstance(value, (int, float, np.integer, np.floating)) and (
      not isinstance(value, (bool, np.bool_)))


def check_norm(norm: Any, argument: str, owner: str) -> Any:
  """Checks a norm or bound given as a number or an `EstimationProcess`.

  A number must be positive (infinity allowed); it is returned as a float.
  An estimation process must have the signatures TFF gives a norm process:

      next:   (<S@SERVER, {float32}@CLIENTS> -> S@SERVER)
      report: (S@SERVER -> float32@SERVER)

  where `next` receives each client's norm (or largest absolute value).

  Args:
    norm: The argument to check.
    argument: Its name, for the message (`'clipping_norm'`).
    owner: Who checks, for the message (`'clipping_factory'`).

  Returns:
    `norm` as a float, or the estimation process.

  Raises:
    ParameterTypeError: if `norm` is neither a number nor an estimation
      process of the signatures above.
    ParameterValueError: if `norm` is a number that is not positive.
  """
  if isinstance(norm, estimation_process.EstimationProcess):
    _check_norm_process(norm, argument, owner)
    return norm
  if not is_number(norm):
    raise errors.ParameterTypeError(
        f'{owner} expects `{argument}` to be a positive number or a '
        f'tffx.templates.EstimationProcess; found {type(norm).__name__}: '
        f'{norm!r}.')
  if not norm > 0:
    raise errors.ParameterValueError(
        f'{owner} expects `{argument}` to be positive; found {norm!r}.')
  return float(norm)


def _check_norm_process(process: estimation_process.EstimationProcess,
                        argument: str, owner: str) -> None:
  norm_at_clients = computation_types.type_at_clients(np.float32)
  norm_at_server = computation_types.type_at_server(np.float32)
  expected = (f'{owner} expects the EstimationProcess `{argument}` to have '
              f'next: (<S@SERVER, {norm_at_clients}> -> S@SERVER) and '
              f'report: (S@SERVER -> {norm_at_server})')
  next_type = process.next.type_signature
  report_type = process.report.type_signature
  found = (f'; found next: {next_type} and report: {report_type}.')
  state_type = process.state_type
  parameter = next_type.parameter
  if not (isinstance(state_type, computation_types.FederatedType) and
          state_type.placement is placements.SERVER and
          isinstance(parameter, computation_types.StructType) and
          len(parameter) == 2 and
          parameter[1].is_assignable_from(norm_at_clients) and
          state_type.is_assignable_from(next_type.result) and
          norm_at_server.is_assignable_from(report_type.result)):
    raise errors.ParameterTypeError(
        f'{expected}{found} Tip: tffx.aggregators.'
        f'PrivateQuantileEstimationProcess.no_noise(...) builds one.')
