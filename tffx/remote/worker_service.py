"""The worker: serves a shard of the clients over gRPC.

    tffx-worker (tffx.cli.worker)
      `-- WorkerServer(service, host, port, tls)      gRPC, raw bytes
            `-- WorkerService                         auth, limits, framing,
                  |                                   deadlines
                  |-- processes: ComputationPool      the requests run in
                  |     supervised children, each a WorkerService with an
                  |     executor (`computation_process`, `computation_child`)
                  |-- execute_bytes(bytes)            one serialized request,
                  |                                   no gRPC (a Ray actor)
                  `-- handle(WorkerRequest)           one request, no gRPC
                        run        executor.run(function, <arguments>, n)
                        aggregate  aggregations.for_wire_kind(...): the
                                   shard's accumulator
                        fetch      the members of a stored value
                        release    forget a session
                        store: {session: {handle: FederatedValue}}

Served by `tffx-worker`, a service never runs a graph in the process that
holds the port: it checks a request (credentials, size, allowlist, declared
sizes) and hands its bytes to a computation child, which checks it again,
rewrites its graphs (`graph_isolation`) and runs it. A child that crashes is
replaced, and the caller gets a `ComputationCrashedError`; a request that
runs past its deadline (the caller's, capped by `max_request_seconds`) or
whose caller went away is stopped by killing its child. Built with an
executor and no processes (tests, `computation_child`), a service runs
requests in its own process, where a deadline bounds only the wait for a
slot.

What the worker accepts: only tffx protobuf messages (it never unpickles),
each at most --max_request_mb in total and --max_message_mb per gRPC
message; every TensorFlow graph anywhere in a request passes
`graph_allowlist` before anything runs, and so does every client dataset
sent as a tf.data graph (`dataset_graphs`) before it is rebuilt; client
datasets named by their sources (`dataset_sources`) are opened only by a
service created with `open_dataset_sources=True` (the Ray workers); calls
without the token are refused (UNAUTHENTICATED) before their request is
read. A refused or failed request leaves the worker serving.

Errors raised while handling a request travel back in the response as the
error's class name and message; `worker_session` raises them again on the
controller. Only refusals (size, framing, credentials) are gRPC statuses.

This module does not choose an executor or parse flags (see
`tffx.cli.worker`).
"""

from concurrent import futures
import logging
import threading
import time
import uuid
from typing import Any, Dict, Optional, Sequence, Tuple

import grpc
import numpy as np
import tensorflow as tf

from tffx.computations import serialization
from tffx.executors import aggregations
from tffx.executors import errors as executor_errors
from tffx.executors import dataset_sources
from tffx.executors import executor_base
from tffx.executors import federated_value
from tffx.executors import value_serialization
from tffx.proto import computation_pb2
from tffx.proto import remote_pb2
from tffx.remote import auth
from tffx.remote import computation_process
from tffx.remote import dataset_graphs
from tffx.remote import errors
from tffx.remote import graph_allowlist
from tffx.remote import graph_isolation
from tffx.remote import wire
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure
from tffx.types import type_conversions
from tffx.types import type_serialization

# Bounds the clients one request may ask a worker to create.
_MAX_CLIENTS_PER_REQUEST = 10_000_000
# gRPC threads beyond the computation calls, so health checks always answer.
_SPARE_THREADS = 4
DEFAULT_MAX_REQUEST_SECONDS = 3600.0


class WorkerService:
  """Handles the requests of the worker protocol on one executor.

  Args:
    executor: The executor that runs the shard's client work in this
      process, or None when `processes` run it.
    executor_name: Its name, reported by health checks.
    allowlist: The graph op allowlist; `GraphAllowlist()` by default.
    auth_token: The shared secret every call must carry, or None.
    max_message_mb: The largest gRPC message, in MB (requests and
      responses larger than this travel in chunks).
    max_request_mb: The largest request (all its chunks), in MB.
    max_concurrent_computation_calls: How many requests run at once; more
      wait for a slot.
    max_request_seconds: The longest a request may take; a caller's
      longer deadline is cut to this.
    processes: Computation children that run the requests (the service
      then runs none itself); the service closes them in `close`.
    open_dataset_sources: Accept client datasets as their sources and open
      them here (`dataset_sources`; e.g. a path to an HDF5 file this
      worker reads). Off by default: a controller could then make the
      worker read any file of a registered kind.
  """

  def __init__(self, executor: Optional[executor_base.Executor], *,
               executor_name: str = '',
               allowlist: Optional[graph_allowlist.GraphAllowlist] = None,
               auth_token: Optional[str] = None,
               max_message_mb: float = wire.DEFAULT_MAX_MESSAGE_MB,
               max_request_mb: float = 1024,
               max_concurrent_computation_calls: int = 4,
               max_request_seconds: float = DEFAULT_MAX_REQUEST_SECONDS,
               processes: Optional[computation_process.ComputationPool] = None,
               open_dataset_sources: bool = False):
    if (executor is None) == (processes is None):
      raise ValueError('Expected either an executor or processes, not both '
                       'and not neither.')
    if max_request_seconds <= 0:
      raise ValueError(f'Expected positive max_request_seconds, found '
                       f'{max_request_seconds}.')
    if max_concurrent_computation_calls < 1:
      raise ValueError(f'Expected max_concurrent_computation_calls >= 1, '
                       f'found {max_concurrent_computation_calls}.')
    if max_message_mb <= 0 or max_request_mb <= 0:
      raise ValueError(f'Expected positive message limits, found '
                       f'max_message_mb={max_message_mb}, max_request_mb='
                       f'{max_request_mb}.')
    self._executor = executor
    self._processes = processes
    self._max_request_seconds = max_request_seconds
    self._executor_name = executor_name or type(executor).__name__
    self._allowlist = allowlist or graph_allowlist.GraphAllowlist()
    self._tokens = auth.TokenChecker(auth_token)
    self._max_message_bytes = int(max_message_mb * wire.MB)
    self._max_request_bytes = int(max_request_mb * wire.MB)
    self._max_concurrent_calls = max_concurrent_computation_calls
    self._open_dataset_sources = open_dataset_sources
    self._slots = threading.BoundedSemaphore(max_concurrent_computation_calls)
    self._worker_id = uuid.uuid4().hex
    self._lock = threading.Lock()
    self._sessions: Dict[str, Dict[str, federated_value.FederatedValue]] = {}
    self._active_calls = 0
    self._finished_calls = 0

  @property
  def max_concurrent_computation_calls(self) -> int:
    return self._max_concurrent_calls

  @property
  def max_message_bytes(self) -> int:
    return self._max_message_bytes

  def health(self) -> remote_pb2.HealthResponse:
    with self._lock:
      return remote_pb2.HealthResponse(
          worker_id=self._worker_id, executor=self._executor_name,
          finished_calls=self._finished_calls,
          active_calls=self._active_calls,
          open_sessions=(self._processes.open_sessions() if self._processes
                         else len(self._sessions)),
          max_message_bytes=self._max_message_bytes,
          max_request_bytes=self._max_request_bytes)

  # -------------------------------------------------------------------------
  # Requests, without gRPC.

  def handle(self, request: remote_pb2.WorkerRequest
            ) -> remote_pb2.WorkerResponse:
    """Handles one request; an error becomes an `Error` response."""
    operation = request.WhichOneof('operation')
    try:
      if not request.session:
        raise ValueError('Expected a request with a session, found none.')
      handler = self._HANDLERS.get(operation)
      if handler is None:
        raise ValueError(f'Expected a request with one of the operations '
                         f'{sorted(self._HANDLERS)}, found none.')
      # Before anything runs: every graph in the request must be allowed,
      # and then sees nothing of other requests.
      self._allowlist.check_message(request)
      graph_isolation.isolate_message(request)
      return handler(self, request.session, getattr(request, operation))
    except Exception as e:  # pylint: disable=broad-except
      # Every failure goes back to the controller, which raises it there.
      if not isinstance(e, (TypeError, ValueError, RuntimeError, LookupError,
                            NotImplementedError, ArithmeticError)):
        logging.exception('Unexpected error while handling %s.', operation)
      return _error_response(e)

  def _run(self, session: str, run: remote_pb2.RunRequest):
    function = serialization.read_building_block(
        run.function, 'run.function', allow_free_references=False)
    function_type = function.type_signature
    if not isinstance(function_type, ct.FunctionType):
      raise ValueError(f'Expected run.function to be a function, found a '
                       f'block of type {function_type}.')
    if not 0 <= run.num_clients <= _MAX_CLIENTS_PER_REQUEST:
      raise ValueError(f'Expected run.num_clients in [0, '
                       f'{_MAX_CLIENTS_PER_REQUEST}], found '
                       f'{run.num_clients}.')
    arguments = [
        self._argument(session, a, f'run.argument[{i}]')
        for i, a in enumerate(run.argument)
    ]
    for i, (argument, _) in enumerate(arguments):
      if (isinstance(argument, federated_value.FederatedValue) and
          argument.placement is placements.CLIENTS and
          len(argument) != run.num_clients):
        raise ValueError(f'Expected run.argument[{i}] to have one member per '
                         f'client ({run.num_clients}), found {len(argument)}.')
    arg = None
    if arguments or function_type.parameter is not None:
      arg = structure.Struct([(None, a) for a, _ in arguments])
      _check_arguments(function_type, [t for _, t in arguments])
    result = self._executor.run(function, arg, run.num_clients)
    result_type = function_type.result
    if not run.result_handle:
      return remote_pb2.WorkerResponse(
          value=value_serialization.serialize_value(result, result_type))
    if not (isinstance(result, federated_value.FederatedValue) and
            result.placement is placements.CLIENTS):
      raise ValueError(f'Only values placed at CLIENTS are stored; the '
                       f'result has type {result_type}.')
    with self._lock:
      self._sessions.setdefault(session, {})[run.result_handle] = result
    return remote_pb2.WorkerResponse(stored=remote_pb2.Stored(
        handle=run.result_handle, num_members=len(result)))

  def _aggregate(self, session: str, request: remote_pb2.AggregateRequest):
    values = [self._clients_argument(session, request.value,
                                     'aggregate.value')]
    if request.kind == 'bounded_sum' and not request.HasField('upper_bounds'):
      raise executor_errors.SecureBoundsError(
          f'Expected upper bounds for a bounded_sum aggregate '
          f'({request.intrinsic or "bounded_sum"}), found none.')
    if request.kind == 'weighted_sum':
      values.append(self._clients_argument(session, request.weight,
                                           'aggregate.weight'))
      if len(values[1]) != len(values[0]):
        raise ValueError(f'Expected one weight per client ({len(values[0])}'
                         f'), found {len(values[1])}.')
    upper_bounds = ()
    if request.HasField('upper_bounds'):
      bounds, _ = value_serialization.deserialize_value(request.upper_bounds)
      upper_bounds = [np.asarray(b) for b in structure.flatten(bounds)]
    aggregation = aggregations.for_wire_kind(
        request.kind, values[0].type_signature.member,
        request.intrinsic or request.kind, len(values[0]), upper_bounds,
        request.bound_description)
    return remote_pb2.WorkerResponse(value=value_serialization.serialize_value(
        aggregation.to_wire(aggregation.of_values(values,
                                                  request.first_client))))

  def _fetch(self, session: str, request: remote_pb2.FetchRequest):
    value = self._stored(session, request.handle)
    return remote_pb2.WorkerResponse(value=value_serialization.serialize_value(
        value, value.type_signature))

  def _release(self, session: str, request: remote_pb2.ReleaseRequest):
    del request  # Nothing but the session to say.
    with self._lock:
      self._sessions.pop(session, None)
    return remote_pb2.WorkerResponse(released=True)

  _HANDLERS = {
      'run': _run,
      'aggregate': _aggregate,
      'fetch': _fetch,
      'release': _release,
  }

  def _argument(self, session: str, argument: remote_pb2.Argument,
                where: str) -> Tuple[Any, ct.Type]:
    """The value of an argument and its type."""
    kind = argument.WhichOneof('kind')
    if kind == 'handle':
      value = self._stored(session, argument.handle)
      return value, value.type_signature
    if kind == 'value':
      return value_serialization.deserialize_value(argument.value)
    if kind == 'dataset_graphs':
      value = self._client_datasets(argument.dataset_graphs, where)
      return value, value.type_signature
    if kind == 'dataset_sources':
      if not self._open_dataset_sources:
        raise ValueError(
            f'This worker does not open client datasets from their sources '
            f'({where}). Tip: send the datasets themselves.')
      value = self._opened_datasets(argument.dataset_sources, where)
      return value, value.type_signature
    raise ValueError(f'Expected {where} to hold a handle or a value, found '
                     f'neither.')

  def _client_datasets(self, graphs: remote_pb2.DatasetGraphs,
                       where: str) -> federated_value.FederatedValue:
    type_spec = _clients_sequence_type(graphs.type, where)
    element_type = type_spec.member.element
    return federated_value.FederatedValue(type_spec, [
        dataset_graphs.from_graph(g, element_type, self._allowlist,
                                  f'{where}.graph_def[{i}]')
        for i, g in enumerate(graphs.graph_def)
    ])

  def _opened_datasets(self, sources: remote_pb2.DatasetSources,
                       where: str) -> federated_value.FederatedValue:
    type_spec = _clients_sequence_type(sources.type, where)
    spec = tf.nest.flatten(type_conversions.to_tf_spec(
        type_spec.member.element))
    members = []
    for client_id in sources.client_id:
      dataset = dataset_sources.open_dataset(dataset_sources.DatasetSource(
          sources.kind, sources.params_json, client_id, sources.batch_size))
      found = tf.nest.flatten(dataset.element_spec)
      if len(found) != len(spec) or not all(
          f.dtype == s.dtype and s.shape.is_compatible_with(f.shape)
          for f, s in zip(found, spec)):
        raise ValueError(
            f'The dataset of client {client_id!r} opened from its '
            f'{sources.kind!r} source at {where} has elements {found}; '
            f'the type {type_spec} needs {spec}.')
      members.append(dataset)
    return federated_value.FederatedValue(type_spec, members)

  def _clients_argument(self, session: str, argument: remote_pb2.Argument,
                        where: str) -> federated_value.FederatedValue:
    value, _ = self._argument(session, argument, where)
    if not (isinstance(value, federated_value.FederatedValue) and
            value.placement is placements.CLIENTS):
      raise ValueError(f'Expected {where} to be a value placed at CLIENTS, '
                       f'found {type(value).__name__}.')
    return value

  def _stored(self, session: str,
              handle: str) -> federated_value.FederatedValue:
    with self._lock:
      value = self._sessions.get(session, {}).get(handle)
    if value is None:
      raise errors.UnknownHandleError(
          f'This worker holds no value {handle!r} in session {session!r}; it '
          f'may have restarted since the value was stored.')
    return value

  def execute_bytes(self, data: bytes,
                    timeout_seconds: Optional[float] = None) -> bytes:
    """Handles one serialized request; the transport-free entry point.

    For transports other than gRPC (a Ray actor): the same size limit,
    parsing, checks, slots and deadline as `Execute`, without the token (the
    transport authenticates its callers). `timeout_seconds` is the caller's
    deadline, capped by `max_request_seconds`.

    Raises:
      MessageTooLargeError: if `data` is larger than `max_request_mb`.
      MalformedMessageError: if it is not a `WorkerRequest`.
    """
    if len(data) > self._max_request_bytes:
      raise errors.MessageTooLargeError(
          f'The request has {len(data)} bytes; this worker accepts at most '
          f'{self._max_request_bytes} (--max_request_mb).')
    request = wire.parse(remote_pb2.WorkerRequest, data, 'the request')
    return self._handle_bytes(request, data, timeout_seconds,
                              lambda: True).SerializeToString()

  def _handle_bytes(self, request: remote_pb2.WorkerRequest, data: bytes,
                    remaining: Optional[float],
                    is_active) -> remote_pb2.WorkerResponse:
    """Runs a parsed request here or in a child, within its deadline."""
    # A request waits for a slot until the caller's deadline, and runs at
    # most max_request_seconds of it.
    if remaining is None:
      remaining = (self._max_request_seconds +
                   computation_process.START_TIMEOUT_SECONDS)
    deadline = time.monotonic() + remaining
    with self._lock:
      self._active_calls += 1
    try:
      if self._processes is None:
        return self._handle_here(request, deadline)
      return self._handle_in_child(request, data, deadline, is_active)
    finally:
      with self._lock:
        self._active_calls -= 1
        self._finished_calls += 1

  # -------------------------------------------------------------------------
  # gRPC glue: raw bytes in and out.

  def rpc_handler(self) -> grpc.GenericRpcHandler:
    """The gRPC handler of the `tffx.remote.Worker` service."""
    return grpc.method_handlers_generic_handler(wire.SERVICE_NAME, {
        wire.HEALTH_METHOD: grpc.unary_unary_rpc_method_handler(
            self._health_rpc),
        wire.EXECUTE_METHOD: grpc.stream_stream_rpc_method_handler(
            self._execute_rpc),
    })

  def _authorize(self, context: grpc.ServicerContext) -> None:
    if not self._tokens.check(context.invocation_metadata()):
      context.abort(grpc.StatusCode.UNAUTHENTICATED,
                    'The call has no auth token, or the wrong one; nothing '
                    'was run.')

  def _health_rpc(self, request: bytes, context: grpc.ServicerContext):
    self._authorize(context)
    try:
      wire.parse(remote_pb2.HealthRequest, request, 'the health request')
    except errors.MalformedMessageError as e:
      context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
    return self.health().SerializeToString()

  def _execute_rpc(self, chunks, context: grpc.ServicerContext):
    self._authorize(context)
    code, message = None, ''
    try:
      data = wire.assemble(chunks, self._max_request_bytes, 'the request')
      request = wire.parse(remote_pb2.WorkerRequest, data, 'the request')
    except errors.MessageTooLargeError as e:
      code, message = grpc.StatusCode.RESOURCE_EXHAUSTED, str(e)
    except errors.MalformedMessageError as e:
      code, message = grpc.StatusCode.INVALID_ARGUMENT, str(e)
    if code is not None:
      context.abort(code, message)
    remaining = context.time_remaining()
    try:
      response = self._handle_bytes(request, data, remaining,
                                    context.is_active)
    except errors.CallerGoneError as e:
      context.abort(grpc.StatusCode.CANCELLED, str(e))
    size = wire.chunk_size(self._max_message_bytes)
    if request.max_response_chunk_bytes > 0:
      size = min(size, request.max_response_chunk_bytes)
    return wire.to_chunks(response.SerializeToString(), size)

  def _handle_here(self, request: remote_pb2.WorkerRequest,
                   deadline: float) -> remote_pb2.WorkerResponse:
    """Runs a request in this process once a slot is free."""
    if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
      return _error_response(errors.RequestDeadlineError(
          f'The worker did not start {describe_request(request)} before its '
          f'deadline: every computation slot stayed busy.'))
    try:
      return self.handle(request)
    finally:
      self._slots.release()

  def _handle_in_child(self, request: remote_pb2.WorkerRequest, data: bytes,
                       deadline: float,
                       is_active) -> remote_pb2.WorkerResponse:
    """Checks a request here, then runs it in a computation child."""
    operation = request.WhichOneof('operation')
    if operation == 'release' and not self._processes.holds(request.session):
      return remote_pb2.WorkerResponse(released=True)
    try:
      # Refused here, a request costs no child anything.
      self._allowlist.check_message(request)
    except (errors.DisallowedOpError, errors.GraphTooLargeError) as e:
      return _error_response(e)
    what = describe_request(request)
    pin = operation == 'run' and bool(request.run.result_handle)
    try:
      response = self._processes.call(request.session, data, deadline,
                                      self._max_request_seconds, is_active,
                                      what, pin)
    except (errors.ComputationCrashedError,
            errors.RequestDeadlineError) as e:
      logging.warning('%s', e)
      return _error_response(e)
    if operation == 'release':
      self._processes.forget(request.session)
    return wire.parse(remote_pb2.WorkerResponse, response,
                      'the response of a computation process')

  def close(self) -> None:
    """Stops the computation children, if any."""
    if self._processes is not None:
      self._processes.close()


def describe_request(request: remote_pb2.WorkerRequest) -> str:
  """Names a request in errors: its operation, intrinsics and graphs.

  For example "run of federated_map with TensorFlow computation
  'add_one'".
  """
  operation = request.WhichOneof('operation') or 'request'
  body = getattr(request, operation) if operation != 'request' else request
  if operation == 'aggregate':
    return f'aggregate {request.aggregate.kind!r}'
  if operation != 'run':
    return operation
  uris = sorted({m.uri for m in graph_allowlist.nested_messages(
      body.function, (computation_pb2.Intrinsic.DESCRIPTOR,))})
  names = sorted({m.name or 'unnamed' for m in graph_allowlist.nested_messages(
      body.function, (computation_pb2.TensorFlow.DESCRIPTOR,))})
  text = 'run'
  if uris:
    text += f' of {", ".join(uris)}'
  if names:
    plural = 's' if len(names) > 1 else ''
    text += (f' with TensorFlow computation{plural} '
             f'{", ".join(repr(n) for n in names[:5])}')
  return text


def _error_response(error: Exception) -> remote_pb2.WorkerResponse:
  return remote_pb2.WorkerResponse(
      error=remote_pb2.Error(kind=type(error).__name__, message=str(error)))


def _check_arguments(function_type: ct.FunctionType,
                     argument_types: Sequence[ct.Type]) -> None:
  """Checks a run's arguments against the function's parameter.

  The parameter of a run's function is the struct of its arguments.

  Raises:
    ArgumentCountError: if there are more or fewer arguments than the
      struct has elements.
    ArgumentTypeError: naming the first argument whose type does not fit.
  """
  parameter = function_type.parameter
  if parameter is None:
    raise errors.ArgumentCountError(
        f'The function of type {function_type} takes no argument; the '
        f'request has {len(argument_types)}.')
  if not isinstance(parameter, ct.StructType):
    raise errors.ArgumentCountError(
        f'Expected a run function whose parameter is the struct of its '
        f'arguments, found parameter type {parameter}.')
  expected = len(parameter)
  if len(argument_types) != expected:
    raise errors.ArgumentCountError(
        f'The function of type {function_type} takes {expected} '
        f'argument{"s" if expected != 1 else ""}; the request has '
        f'{len(argument_types)}.')
  for i, (member, found) in enumerate(zip(parameter, argument_types)):
    if not member.is_assignable_from(found):
      raise executor_errors.ArgumentTypeError(
          f'Expected run.argument[{i}] of type {member}, found {found}.')


def _clients_sequence_type(type_proto, where: str) -> ct.FederatedType:
  type_spec = type_serialization.read_type(type_proto, f'{where}.type')
  if not (isinstance(type_spec, ct.FederatedType) and
          type_spec.placement is placements.CLIENTS and
          isinstance(type_spec.member, ct.SequenceType)):
    raise ValueError(f'Expected {where} to have a type such as '
                     f'{{int32*}}@CLIENTS, found {type_spec}.')
  return type_spec


class WorkerServer:
  """A gRPC server for a `WorkerService`.

  Args:
    service: The service to serve.
    host: The interface to listen on; '127.0.0.1' (loopback) unless other
      interfaces are an explicit choice ('0.0.0.0', '::').
    port: The port; 0 picks a free one (see `port`).
    tls: The worker's TLS files (`auth.TlsFiles`: its `cert` and `key`,
      and `ca` to require client certificates), or None for plaintext.

  Raises:
    OSError: if the address cannot be bound (e.g. the port is in use).
  """

  def __init__(self, service: WorkerService, *, host: str = '127.0.0.1',
               port: int = 0, tls: Optional[auth.TlsFiles] = None):
    threads = service.max_concurrent_computation_calls + _SPARE_THREADS
    limit = service.max_message_bytes
    self._server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads,
                                   thread_name_prefix='tffx-worker'),
        options=[
            ('grpc.max_send_message_length', limit),
            ('grpc.max_receive_message_length', limit),
            # Fail to bind a port in use instead of sharing it.
            ('grpc.so_reuseport', 0),
            # Accept the controller's keepalive pings (transport).
            ('grpc.keepalive_permit_without_calls', 1),
            ('grpc.http2.min_ping_interval_without_data_ms', 5_000),
            ('grpc.http2.max_ping_strikes', 0),
        ])
    self._server.add_generic_rpc_handlers((service.rpc_handler(),))
    address = f'[{host}]:{port}' if ':' in host else f'{host}:{port}'
    try:
      if tls is None:
        bound = self._server.add_insecure_port(address)
      else:
        bound = self._server.add_secure_port(address,
                                             auth.server_credentials(tls))
    except RuntimeError as e:
      raise OSError(f'Cannot listen on {address}: {e}. Tip: is the port in '
                    f'use by another process?') from e
    if not bound:
      raise OSError(f'Cannot listen on {address}. Tip: is the port in use by '
                    f'another process?')
    self._host = host
    self._port = bound

  @property
  def port(self) -> int:
    return self._port

  @property
  def target(self) -> str:
    return f'{self._host}:{self._port}'

  def start(self) -> None:
    self._server.start()

  def stop(self, grace: Optional[float] = None) -> None:
    self._server.stop(grace).wait()

  def wait_for_termination(self, timeout: Optional[float] = None) -> bool:
    return self._server.wait_for_termination(timeout)
