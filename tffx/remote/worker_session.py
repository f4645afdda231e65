"""`WorkerSession`: the requests of one run to the workers holding its shards.

    shards = partition(live_connections, num_clients)    # contiguous ranges
    session = WorkerSession(shards, pool, call_timeout_seconds=60)
    handles  = session.run(function, arguments, store=True)   # one per shard
    partials = session.aggregate('sum', value_argument)        # one per shard
    members  = session.fetch(handles)                          # all clients
    session.release()

Every operation sends one request per shard, all at once (a thread of
`pool` each), and waits for all of them. Values that stay on a worker are
named by handles of this session; `release` lets the workers forget them.

Errors: a worker's error response is raised here under its own class (a
`SecureBoundsError` stays one), its message prefixed with the worker; an
unknown class becomes `RemoteExecutionError`. A worker that lost the
session's values (it restarted) counts as unavailable, like one that died.
When several shards fail, an error that retrying would not fix wins over
an unavailable worker. This module neither interprets the IR
(`remote_strategy`) nor catches gRPC errors (`transport`).
"""

from concurrent import futures
import dataclasses
import itertools
import threading
import uuid
from typing import Any, Callable, List, Optional, Sequence

from tffx.computations import building_blocks as bb
from tffx.computations import errors as computation_errors
from tffx.computations import serialization
from tffx.executors import errors as executor_errors
from tffx.executors import federated_value
from tffx.executors import value_serialization
from tffx.proto import remote_pb2
from tffx.remote import errors
from tffx.remote import transport
from tffx.types import errors as type_errors

# A release is small; a worker that does not answer one soon is not waited
# for (it holds a thread of the pool meanwhile).
_RELEASE_TIMEOUT_SECONDS = 10
# Errors a worker may report that the controller raises under their own class.
_KNOWN_ERRORS = {
    cls.__name__: cls for cls in (
        executor_errors.ArgumentTypeError,
        executor_errors.ClientCountError,
        executor_errors.AggregationError,
        executor_errors.SecureBoundsError,
        computation_errors.TensorFlowExecutionError,
        type_errors.SerializationError,
        errors.DisallowedOpError,
        errors.GraphTooLargeError,
        errors.ArgumentCountError,
        errors.RequestDeadlineError,
        TypeError,
        ValueError,
        NotImplementedError,
        NameError,
    )
}


@dataclasses.dataclass(frozen=True)
class Shard:
  """The clients [start, stop) of a run, held by one worker."""
  index: int
  connection: transport.WorkerConnection
  start: int
  stop: int

  @property
  def size(self) -> int:
    return self.stop - self.start

  @property
  def target(self) -> str:
    return self.connection.target


def partition(connections: Sequence[transport.WorkerConnection],
              num_clients: int) -> List[Shard]:
  """Splits `num_clients` into contiguous shards, as even as can be.

  7 clients over 3 workers give 3, 2 and 2; a worker gets no shard when
  there are fewer clients than workers.
  """
  count = min(len(connections), num_clients)
  shards, start = [], 0
  for i in range(count):
    size = num_clients // count + (1 if i < num_clients % count else 0)
    shards.append(Shard(i, connections[i], start, start + size))
    start += size
  return shards


class WorkerSession:
  """Sends one run's requests to its shards' workers.

  Args:
    shards: From `partition`.
    pool: Threads to send requests from; one per shard is enough.
    call_timeout_seconds: The deadline of each request.
    on_dispatch: Called with (operation, target) just before each request
      is sent, from the sending thread; for monitoring and tests.
    on_success: Called with (operation, target) after each answered
      request.
  """

  def __init__(self, shards: Sequence[Shard], pool: futures.Executor, *,
               call_timeout_seconds: float,
               on_dispatch: Optional[Callable[[str, str], None]] = None,
               on_success: Optional[Callable[[str, str], None]] = None):
    self._shards = tuple(shards)
    self._pool = pool
    self._timeout = call_timeout_seconds
    self._on_dispatch = on_dispatch
    self._on_success = on_success
    self._id = uuid.uuid4().hex
    self._counter = itertools.count()
    self._lock = threading.Lock()
    self._used = set()  # Shards that may hold values of this session.

  @property
  def shards(self) -> tuple:
    return self._shards

  def run(self, function: bb.ComputationBuildingBlock,
          arguments: Callable[[Shard], List[remote_pb2.Argument]],
          store: bool) -> List[Any]:
    """Runs `function` on every shard's worker.

    Args:
      function: A closed function whose parameter is the struct of the
        arguments.
      arguments: Gives the arguments for a shard.
      store: Keep the (CLIENTS-placed) result on the workers.

    Returns:
      One item per shard: its handle if `store`, else the result value.
    """
    proto = serialization.serialize_building_block(function)
    handle = f'v{next(self._counter)}' if store else ''

    def request(shard: Shard) -> remote_pb2.WorkerRequest:
      run = remote_pb2.RunRequest(num_clients=shard.size,
                                  result_handle=handle)
      run.function.CopyFrom(proto)
      run.argument.extend(arguments(shard))
      return remote_pb2.WorkerRequest(session=self._id, run=run)

    responses = self._dispatch('run', request, stores=store)
    if store:
      for shard, response in zip(self._shards, responses):
        if response.stored.num_members != shard.size:
          raise errors.RemoteExecutionError(
              f'Worker {shard.target} stored {response.stored.num_members} '
              f'members for a shard of {shard.size} clients.')
      return [handle] * len(self._shards)
    return [_value(r) for r in responses]

  def aggregate(self, kind: str, intrinsic: str,
                value: Callable[[Shard], remote_pb2.Argument],
                weight: Optional[Callable[[Shard],
                                          remote_pb2.Argument]] = None,
                upper_bounds: Optional[Any] = None,
                descriptions: Sequence[str] = ()) -> List[Any]:
    """Asks every shard's worker for its partial aggregate (one per shard).

    Args:
      kind: An `aggregations.Aggregation.wire_kind`.
      intrinsic: The intrinsic's uri, for messages.
      value: Gives the argument holding the shard's client values.
      weight: For 'weighted_sum', gives the shard's weights.
      upper_bounds: For 'bounded_sum', a struct (or list) of one bound per
        tensor leaf.
      descriptions: For 'bounded_sum', how each bound was given.
    """
    bounds_proto = None
    if upper_bounds is not None:
      bounds_proto = value_serialization.serialize_value(upper_bounds)

    def request(shard: Shard) -> remote_pb2.WorkerRequest:
      aggregate = remote_pb2.AggregateRequest(
          kind=kind, intrinsic=intrinsic, first_client=shard.start,
          bound_description=descriptions)
      aggregate.value.CopyFrom(value(shard))
      if weight is not None:
        aggregate.weight.CopyFrom(weight(shard))
      if bounds_proto is not None:
        aggregate.upper_bounds.CopyFrom(bounds_proto)
      return remote_pb2.WorkerRequest(session=self._id, aggregate=aggregate)

    return [_value(r) for r in self._dispatch('aggregate', request)]

  def fetch(self, handles: Sequence[str]) -> List[Any]:
    """The members of a stored value, every shard's in order."""

    def request(shard: Shard) -> remote_pb2.WorkerRequest:
      return remote_pb2.WorkerRequest(
          session=self._id,
          fetch=remote_pb2.FetchRequest(handle=handles[shard.index]))

    members = []
    for response in self._dispatch('fetch', request):
      value = _value(response)
      if not isinstance(value, federated_value.FederatedValue):
        raise errors.RemoteExecutionError(
            f'Expected a federated value from a fetch, found '
            f'{type(value).__name__}.')
      members.extend(value.members)
    return members

  def release(self) -> None:
    """Lets the workers forget this session's values; does not wait."""
    with self._lock:
      used, self._used = self._used, set()
    for shard in sorted(used, key=lambda s: s.index):
      request = remote_pb2.WorkerRequest(session=self._id,
                                         release=remote_pb2.ReleaseRequest())
      # Best effort: a worker that is gone has forgotten the values anyway.
      self._pool.submit(_release_quietly, shard.connection, request,
                        min(self._timeout, _RELEASE_TIMEOUT_SECONDS))

  def _dispatch(self, operation: str,
                request: Callable[[Shard], remote_pb2.WorkerRequest],
                stores: bool = False) -> List[remote_pb2.WorkerResponse]:
    if stores:
      with self._lock:
        self._used.update(self._shards)
    pending = [
        self._pool.submit(self._send, operation, shard, request)
        for shard in self._shards
    ]
    futures.wait(pending)
    failures = [f.exception() for f in pending if f.exception() is not None]
    final = [e for e in failures
             if not isinstance(e, errors.WorkerUnavailableError)]
    if final or failures:
      raise (final or failures)[0]
    return [f.result() for f in pending]

  def _send(self, operation: str, shard: Shard,
            request: Callable[[Shard], remote_pb2.WorkerRequest]
           ) -> remote_pb2.WorkerResponse:
    message = request(shard)
    if self._on_dispatch is not None:
      self._on_dispatch(operation, shard.target)
    try:
      response = shard.connection.execute(message, timeout=self._timeout)
    except errors.WorkerUnavailableError as e:
      # Which clients were in flight, for the retry policy.
      raise errors.WorkerUnavailableError(
          e.target, f'{e} (while serving {clients_text(shard)})',
          clients=range(shard.start, shard.stop)) from e
    if self._on_success is not None:
      self._on_success(operation, shard.target)
    if response.WhichOneof('result') == 'error':
      raise _worker_error(shard, operation, response.error)
    return response


def _value(response: remote_pb2.WorkerResponse) -> Any:
  if response.WhichOneof('result') != 'value':
    raise errors.RemoteExecutionError(
        f'Expected a value in the response, found '
        f'{response.WhichOneof("result")}.')
  value, _ = value_serialization.deserialize_value(response.value)
  return value


def clients_text(shard: Shard) -> str:
  """'client 3' or 'clients 3-5': the clients of a shard, for messages."""
  if shard.size == 1:
    return f'client {shard.start}'
  return f'clients {shard.start}-{shard.stop - 1}'


def _worker_error(shard: Shard, operation: str,
                  error: remote_pb2.Error) -> Exception:
  """The exception to raise for an error a worker reported."""
  target = shard.target
  if error.kind == errors.UnknownHandleError.__name__:
    # Not the clients' fault: the worker restarted, or the process holding
    # the values crashed on another run's work.
    return errors.WorkerUnavailableError(
        target, f'Worker {target} lost the values of this run during '
        f'{operation} (it restarted?): {error.message}')
  if error.kind == errors.ComputationCrashedError.__name__:
    return errors.ClientWorkCrashedError(
        target, f'The work of {clients_text(shard)} crashed on worker '
        f'{target} during {operation}: {error.message}',
        clients=range(shard.start, shard.stop))
  message = f'{error.message} [on worker {target}] [{clients_text(shard)}]'
  known = _KNOWN_ERRORS.get(error.kind)
  if known is not None:
    return known(message)
  return errors.RemoteExecutionError(
      f'Worker {target} failed during {operation}: {error.kind}: '
      f'{error.message}')


def _release_quietly(connection: transport.WorkerConnection,
                     request: remote_pb2.WorkerRequest,
                     timeout: float) -> None:
  try:
    connection.execute(request, timeout=timeout)
  except (errors.WorkerUnavailableError, errors.WorkerRefusedError):
    pass
