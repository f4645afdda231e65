"""`WorkerConnection`: the controller's channel to one worker.

    connection = WorkerConnection('127.0.0.1:8000', auth_token='...')
    connection.health(timeout=5)                 -> remote_pb2.HealthResponse
    connection.execute(worker_request, timeout)  -> remote_pb2.WorkerResponse

This is the one place that catches gRPC errors, and it decides what they
mean (see `_classify`):

    UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED,   the worker died, is
    ABORTED, and errors of a broken stream       unreachable or stalled:
                                                 WorkerUnavailableError,
                                                 retryable on other workers
    anything else (UNAUTHENTICATED,              the worker refused the call:
    RESOURCE_EXHAUSTED, INVALID_ARGUMENT, ...)   WorkerRefusedError, final

After a retryable failure the channel is dropped, so the next call opens a
fresh connection and a restarted worker is found at once rather than after
gRPC's reconnect backoff. Every call has a deadline, and keepalive pings
notice a peer that vanished during a long call.

This module does not interpret requests; see `worker_session`.
"""

import threading
from typing import Optional

import grpc

from tffx.proto import remote_pb2
from tffx.remote import auth
from tffx.remote import errors
from tffx.remote import wire

_RETRYABLE_CODES = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.ABORTED,
})
# A worker killed in the middle of a stream can surface as these codes, with
# details that say the stream or connection broke rather than that the
# worker reported an error.
_BROKEN_STREAM_CODES = frozenset({grpc.StatusCode.INTERNAL,
                                  grpc.StatusCode.UNKNOWN})
_BROKEN_STREAM_DETAILS = ('stream removed', 'socket closed', 'rst_stream',
                          'connection reset', 'goaway', 'broken pipe',
                          'end of stream', 'transport closed')


def channel_options(max_message_bytes: int) -> list:
  """gRPC options shared by the controller's channels and the worker."""
  return [
      ('grpc.max_send_message_length', max_message_bytes),
      ('grpc.max_receive_message_length', max_message_bytes),
      ('grpc.keepalive_time_ms', 20_000),
      ('grpc.keepalive_timeout_ms', 10_000),
      ('grpc.keepalive_permit_without_calls', 1),
      ('grpc.http2.max_pings_without_data', 0),
      # Each channel connects on its own, so a fresh channel (see `reset`)
      # does not inherit the reconnect backoff of one that failed.
      ('grpc.use_local_subchannel_pool', 1),
      ('grpc.initial_reconnect_backoff_ms', 200),
      ('grpc.min_reconnect_backoff_ms', 200),
      ('grpc.max_reconnect_backoff_ms', 2_000),
  ]


class WorkerConnection:
  """Calls one worker, with deadlines, credentials and chunked messages.

  Args:
    target: The worker's address, 'host:port'.
    auth_token: The shared secret the worker expects, or None.
    tls: TLS files (`auth.TlsFiles`: `ca` to trust the worker, `cert` and
      `key` for a client certificate), or None for a plaintext channel.
    max_message_mb: The largest gRPC message sent or received; requests
      are sent in chunks of at most this size.
    max_response_mb: The largest (chunked) response accepted.
  """

  def __init__(self, target: str, *, auth_token: Optional[str] = None,
               tls: Optional[auth.TlsFiles] = None,
               max_message_mb: float = wire.DEFAULT_MAX_MESSAGE_MB,
               max_response_mb: float = 2047):
    if not isinstance(target, str) or ':' not in target:
      raise ValueError(f"Expected a worker target 'host:port', found "
                       f'{target!r}.')
    self._target = target
    self._metadata = auth.token_metadata(auth_token)
    self._credentials = None if tls is None else auth.channel_credentials(tls)
    self._max_message_bytes = int(max_message_mb * wire.MB)
    self._max_response_bytes = int(max_response_mb * wire.MB)
    self._lock = threading.Lock()
    self._channel = None
    self._retired = []  # Channels dropped by `reset`, closed by `close`.
    # The worker's own message limit, learned from its health answer.
    self._worker_max_message_bytes = self._max_message_bytes

  @property
  def target(self) -> str:
    return self._target

  def health(self, timeout: float,
             wait_for_ready: bool = False) -> remote_pb2.HealthResponse:
    """Asks the worker how it is.

    Args:
      timeout: The deadline in seconds.
      wait_for_ready: Wait (until the deadline) for the worker to accept
        connections, instead of failing at once if it does not; for
        waiting on a worker that is starting.

    Raises:
      WorkerUnavailableError: if the worker does not answer in time.
      WorkerRefusedError: if it refuses the call (e.g. a wrong token).
    """
    call = self._get_channel().unary_unary(wire.method_path(
        wire.HEALTH_METHOD))
    data = self._call(
        'health', lambda: call(remote_pb2.HealthRequest().SerializeToString(),
                               timeout=timeout, metadata=self._metadata,
                               wait_for_ready=wait_for_ready))
    response = self._parse(remote_pb2.HealthResponse, data, 'health answer')
    if response.max_message_bytes > 0:
      self._worker_max_message_bytes = min(self._max_message_bytes,
                                           response.max_message_bytes)
    return response

  def execute(self, request: remote_pb2.WorkerRequest,
              timeout: float) -> remote_pb2.WorkerResponse:
    """Sends one request and returns the worker's response.

    Raises:
      WorkerUnavailableError: if the worker dies, cannot be reached or
        misses the deadline (`timeout` seconds for the whole exchange).
      WorkerRefusedError: if it refuses the request (too large, malformed,
        unauthenticated) or sends back something malformed.
    """
    request.max_response_chunk_bytes = wire.chunk_size(
        self._max_message_bytes)
    data = request.SerializeToString()
    size = wire.chunk_size(self._worker_max_message_bytes)
    call = self._get_channel().stream_stream(
        wire.method_path(wire.EXECUTE_METHOD))
    operation = request.WhichOneof('operation') or 'request'

    def exchange():
      responses = call(wire.to_chunks(data, size), timeout=timeout,
                       metadata=self._metadata)
      return wire.assemble(responses, self._max_response_bytes,
                           f'the response of {self._target}')

    try:
      data = self._call(operation, exchange)
    except (errors.MessageTooLargeError, errors.MalformedMessageError) as e:
      raise errors.WorkerRefusedError(
          self._target, 'DATA_LOSS',
          f'Worker {self._target} sent a bad response to {operation}: '
          f'{e}') from e
    return self._parse(remote_pb2.WorkerResponse, data, 'response')

  def _call(self, operation: str, fn):
    try:
      return fn()
    except grpc.RpcError as e:
      raise self._classify(e, operation) from None

  def _classify(self, error: grpc.RpcError, operation: str) -> Exception:
    """The tffx error for a failed call: retryable or final."""
    code = error.code() if hasattr(error, 'code') else None
    details = (error.details() if hasattr(error, 'details') else '') or ''
    code_name = code.name if code is not None else 'UNKNOWN'
    retryable = code in _RETRYABLE_CODES or (
        code in _BROKEN_STREAM_CODES and
        any(d in details.lower() for d in _BROKEN_STREAM_DETAILS))
    if retryable:
      self.reset()
      return errors.WorkerUnavailableError(
          self._target,
          f'Worker {self._target} failed during {operation}: {code_name}: '
          f'{details}')
    tip = ''
    if code is grpc.StatusCode.UNAUTHENTICATED:
      tip = (' Tip: give the controller the token in the worker\'s '
             '--auth_token_file (auth_token=...).')
    return errors.WorkerRefusedError(
        self._target, code_name,
        f'Worker {self._target} refused {operation}: {code_name}: '
        f'{details}.{tip}')

  def _parse(self, message_class, data: bytes, what: str):
    try:
      return wire.parse(message_class, data, f'the {what} of {self._target}')
    except errors.MalformedMessageError as e:
      raise errors.WorkerRefusedError(self._target, 'DATA_LOSS',
                                      str(e)) from e

  def _get_channel(self) -> grpc.Channel:
    with self._lock:
      if self._channel is None:
        options = channel_options(self._max_message_bytes)
        if self._credentials is None:
          self._channel = grpc.insecure_channel(self._target, options)
        else:
          self._channel = grpc.secure_channel(self._target, self._credentials,
                                              options)
      return self._channel

  def reset(self) -> None:
    """Drops the channel; the next call connects afresh.

    The old channel is closed by `close`, not here: other threads may still
    be using it, and closing it under them would fail their calls with a
    ValueError instead of a gRPC status.
    """
    with self._lock:
      if self._channel is not None:
        self._retired.append(self._channel)
      self._channel = None

  def close(self) -> None:
    """Closes the channels; calls still in flight are cancelled."""
    with self._lock:
      channels = self._retired + [self._channel]
      self._channel, self._retired = None, []
    for channel in channels:
      if channel is not None:
        channel.close()

  def __repr__(self) -> str:
    return f'WorkerConnection({self._target!r})'
