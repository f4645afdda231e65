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

Strategies: `sequential_strategy`, `thread_pool_strategy`,
`remote/remote_strategy`. Function values share one typed interface,
`Function` (`name`, call, `batched()`: a version over members stacked on a
client axis, or None; `vectorized()`: a version running a list of members
in one TensorFlow call, `vectorized_computation`, or None);
`call_for_client` names the client whose call failed. This module evaluates
no building block.
"""

import abc
import threading
from typing import Any, Callable, List, NamedTuple, Optional

import numpy as np

from tffx.computations import building_blocks as bb
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.executors import value_conversions
from tffx.executors import vectorized_computation
from tffx.types import computation_types as ct
from tffx.types import structure

FederatedValue = federated_value.FederatedValue
VectorizedComputation = vectorized_computation.VectorizedComputation


class Function(abc.ABC):
  """A function value: its block and a name (a `Closure` also has `env`)."""

  block: bb.ComputationBuildingBlock
  name: str

  @abc.abstractmethod
  def __call__(self, arg: Any = None) -> Any:
    """Applies the function to an executor value (None: no argument)."""

  def batched(self) -> Optional[Callable[[Any], Any]]:
    """A version taking members stacked on a leading client axis, or None."""
    return None

  def vectorized(self) -> Optional[VectorizedComputation]:
    """A version running many clients' members in one call, or None."""
    return None


class TensorFlowFunction(Function):
  """A `TensorFlow` block, loaded: `fn` runs its graph, `batched` (or None)
  its batched version (`batched_computation`), `vectorized()` (or None) its
  vectorized form, asked for once when first needed (`vectorize` makes it:
  the analysis traces the graph, so only maps that may use it pay)."""

  __slots__ = ('block', 'name', '_fn', '_batched', '_vectorize',
               '_vectorized', '_lock')

  def __init__(self, block: bb.TensorFlow, fn: Callable[[Any], Any],
               batched: Optional[Callable[[Any], Any]] = None,
               vectorize: Optional[
                   Callable[[], Optional[VectorizedComputation]]] = None):
    self.block, self.name = block, block.name or 'tensorflow'
    self._fn, self._batched = fn, batched
    self._vectorize, self._vectorized = vectorize, None
    self._lock = threading.Lock()

  def __call__(self, arg: Any = None) -> Any:
    return self._fn(arg)

  def batched(self) -> Optional[Callable[[Any], Any]]:
    return self._batched

  def vectorized(self) -> Optional[VectorizedComputation]:
    with self._lock:
      if self._vectorize is not None:
        self._vectorized, self._vectorize = self._vectorize(), None
    return self._vectorized


def call_for_client(fn: Callable[[Any], Any], arg: Any, client: Any,
                    what: str, plural: str = '') -> Any:
  """`fn(arg)`; an error says which client and computation failed.

  `client` is its index (or, with plural='s', a description of several).
  The error keeps its class, so callers catch what they would without the
  client's name; a class that cannot be built from a message gets a note.
  """
  try:
    return fn(arg)
  except Exception as e:  # pylint: disable=broad-except
    message = f'{what} failed for client{plural} {client}: {e}'
    try:
      wrapped = type(e)(message)
    except Exception:  # pylint: disable=broad-except
      wrapped = None
    if wrapped is None or str(wrapped) != message:
      e.add_note(message)
      raise
    raise wrapped from e


def args(fn_type, *values) -> structure.Struct:
  """The struct argument of `fn_type`, named after its parameter's elements."""
  return structure.Struct(list(zip(fn_type.parameter.names(), values)))


class Call(NamedTuple):
  """What an intrinsic handler knows besides its argument."""
  uri: str
  type_signature: ct.FunctionType  # The intrinsic's concrete type.
  num_clients: int


class ClientStrategy(abc.ABC):
  """How one run holds and computes values placed at CLIENTS."""

  def __init__(self, num_clients: int):
    self.num_clients = num_clients

  def enter(self, value: Any) -> Any:
    """The run's argument (an executor value) as this strategy holds it."""
    return value

  def leave(self, value: Any) -> Any:
    """The run's result as an executor value."""
    return value

  def bind(self, value: Any, uses: Optional[int]) -> None:
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
  def aggregate(self, aggregation: Any, values: List[Any],
                call: Call) -> Any:
    """The `aggregations.Aggregation`'s accumulator of every client of
    `values` (one per input)."""


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
      call_for_client(select_fn, args(select_type, server_member,
                                      np.asarray(k)), client, what)
      for k in keys
  ]
  return value_conversions.to_dataset(elements,
                                      call.type_signature.result.member.element)
