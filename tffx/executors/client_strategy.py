"""`ClientStrategy`: what differs between executors, behind a small interface.

The interpreter (`interpreter`) evaluates the IR the same way everywhere;
values placed at CLIENTS are the strategy's own, and every intrinsic that
makes or consumes them asks the strategy:

    place(member)            federated_value_at_clients, federated_broadcast
    map(fn, value)           federated_map, federated_map_all_equal
    eval(fn)                 federated_eval_at_clients
    zip(nest)                federated_zip_at_clients
    select(keys, ...)        federated_select, federated_secure_select
    aggregate(agg, values)   every aggregation (`aggregations`): the
                             accumulator of all clients
    enter / leave            a run's argument and result (executor values)
    bind(value, uses)        a name bound to `value` is used `uses` times

    strategy       CLIENTS value                  module
    sequential     FederatedValue                 sequential_strategy
    thread pool    FederatedValue or lazy value   thread_pool_strategy
    remote         ClientsValue (handles)         remote/remote_strategy

This module also holds what per-client work shares (`select_elements`,
`member`). It evaluates no building block.
"""

import abc
from typing import Any, Callable, List, NamedTuple, Optional

import numpy as np

from tffx.executors import aggregations
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.executors import function_values
from tffx.executors import value_conversions
from tffx.types import computation_types as ct
from tffx.types import structure

FederatedValue = federated_value.FederatedValue
Function = function_values.Function


class Call(NamedTuple):
  """What an intrinsic handler knows besides its argument."""
  uri: str
  type_signature: ct.FunctionType  # The intrinsic's concrete type.
  num_clients: int


class ClientStrategy(abc.ABC):
  """How one run holds and computes values placed at CLIENTS."""

  num_clients: int

  def enter(self, value: Any) -> Any:
    """The run's argument (an executor value) as this strategy holds it."""
    return value

  def leave(self, value: Any) -> Any:
    """The run's result as an executor value."""
    return value

  def bind(self, value: Any, type_spec: Optional[ct.Type],
           uses: Optional[int]) -> None:
    """A name bound to `value` is referred to `uses` times (None: unknown)."""

  @abc.abstractmethod
  def place(self, member: Any, call: Call) -> Any:
    """The all-equal CLIENTS value of `member`."""

  @abc.abstractmethod
  def map(self, fn: Function, value: Any, call: Call) -> Any:
    """`fn` of each member (once if `value` is all-equal)."""

  @abc.abstractmethod
  def eval(self, fn: Function, call: Call) -> Any:
    """`fn()` on each client."""

  @abc.abstractmethod
  def zip(self, nest: Any, call: Call) -> Any:
    """The CLIENTS value of structs of a struct nest of CLIENTS values."""

  @abc.abstractmethod
  def select(self, keys: Any, max_key: int, server_member: Any,
             select_fn: Function, call: Call) -> Any:
    """Each client's sequence of `select_fn(server_member, key)`."""

  @abc.abstractmethod
  def aggregate(self, aggregation: aggregations.Aggregation,
                values: List[Any], call: Call) -> Any:
    """The accumulator of every client of `values` (one per input)."""


def member(nest: Any, member_of: Callable[[Any], Any]) -> Any:
  """The nest with `member_of(v)` for each of its federated values v."""
  if isinstance(nest, structure.Struct):
    return structure.Struct([(n, member(v, member_of))
                             for n, v in nest.items()])
  return member_of(nest)


def select_elements(keys: Any, client: int, max_key: int, server_member: Any,
                    select_fn: Function, call: Call) -> Any:
  """A client's dataset of `select_fn(<server_member, key>)` for its keys.

  Raises:
    SecureBoundsError: for `federated_secure_select`, if a key is outside
      [0, max_key).
  """
  keys = np.asarray(keys)
  outside = (keys < 0) | (keys >= max_key)
  if call.uri == 'federated_secure_select' and np.any(outside):
    raise errors.SecureBoundsError(
        f'{call.uri}: client {client} asks for key {keys[outside][0]}, '
        f'outside [0, {max_key}) (max_key={max_key}).')
  select_type = call.type_signature.parameter[3]
  what = f'{call.uri}({select_fn.name})'
  elements = [
      function_values.call_for_client(
          select_fn, aggregations.args(select_type, server_member,
                                       np.asarray(k)), client, what)
      for k in keys
  ]
  return value_conversions.to_dataset(elements,
                                      call.type_signature.result.member.element)
