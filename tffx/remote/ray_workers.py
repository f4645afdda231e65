"""tffx workers as Ray actors, and the controller's connections to them.

    connections = start_workers(num_workers=2, resources={'num_gpus': 1})
    RemoteExecutor(connections)           # the remote strategy, unchanged
    connection.where()                    # -> (node id, pid) of the actor
    connection.close()                    # kills the actor

Each actor (`RayWorker`) runs tffx's `WorkerService` on the native
(thread-pool) executor, exactly as `tffx-worker` does, and takes the same
serialized `WorkerRequest`s: bytes in, bytes out, so no user closure is
shipped and the op allowlist and the request size limit apply as over
gRPC. Unlike `tffx-worker`, it opens client datasets from their sources
(`dataset_sources`), so data on shared storage or generated from a seed
does not travel through the driver.

Actors are spread over the nodes (SPREAD scheduling) and restarted by Ray
when they die (`max_restarts`); a restarted actor has lost its session's
values, which the controller sees as an unavailable worker, and re-runs.

`RayWorkerConnection` has `transport.WorkerConnection`'s interface, and
`_classify` is the one place that turns Ray's errors into tffx's:

    the actor died, is restarting, its node    WorkerUnavailableError,
    died, or the call missed its deadline      retryable on other workers
    the worker refused the request (too        WorkerRefusedError, final
    large, malformed), any other task error

This is the only module of the remote area that imports Ray; `import tffx`
does not import it.
"""

import os
import time
from typing import Any, Dict, List, Optional, Tuple

import ray

from tffx.proto import remote_pb2
from tffx.remote import errors
from tffx.remote import wire
from tffx.remote import worker_executors
from tffx.remote import worker_service

# Requests an actor serves at once: computation calls (bounded by the
# service's slots) plus health checks, which must answer during a long call.
_ACTOR_CONCURRENCY = 16
# How often a health check asks again while Ray restarts the actor.
_FIRST_PAUSE_SECONDS = 0.1
_MAX_PAUSE_SECONDS = 1.0
_RETRYABLE = (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError,
              ray.exceptions.WorkerCrashedError,
              ray.exceptions.ObjectLostError, ray.exceptions.NodeDiedError,
              ray.exceptions.OutOfMemoryError,
              ray.exceptions.TaskCancelledError)
_REFUSALS = {
    errors.MessageTooLargeError: 'RESOURCE_EXHAUSTED',
    errors.MalformedMessageError: 'INVALID_ARGUMENT',
}


class RayWorker:
  """A tffx worker inside a Ray actor (`ray.remote(RayWorker)`).

  Args:
    executor: The worker's executor kind (`worker_executors.KINDS`).
    max_request_mb: The largest request accepted, in MB.
    max_concurrent_computation_calls: Requests that compute at once; None
      for one per CPU core.
  """

  def __init__(self, executor: str = 'auto', max_request_mb: float = 1024,
               max_concurrent_computation_calls: Optional[int] = None):
    worker_executor, name = worker_executors.create_worker_executor(
        executor,
        max_concurrent_computation_calls=max_concurrent_computation_calls)
    self._service = worker_service.WorkerService(
        worker_executor, executor_name=name, max_request_mb=max_request_mb,
        max_concurrent_computation_calls=max_concurrent_computation_calls or
        os.cpu_count() or 1,
        open_dataset_sources=True)

  def health(self) -> bytes:
    return self._service.health().SerializeToString()

  def execute(self, data: bytes) -> bytes:
    return self._service.execute_bytes(data)

  def where(self) -> Tuple[str, int]:
    return ray.get_runtime_context().get_node_id(), os.getpid()


class RayWorkerConnection:
  """Calls one `RayWorker` actor; `transport.WorkerConnection`'s interface.

  Args:
    actor: The actor's handle.
    target: The worker's name in messages, e.g. 'ray-worker-0'.
    max_response_mb: The largest response accepted.
  """

  def __init__(self, actor: Any, target: str, max_response_mb: float = 2047):
    self._actor = actor
    self._target = target
    self._max_response_bytes = int(max_response_mb * wire.MB)

  @property
  def target(self) -> str:
    return self._target

  def health(self, timeout: float,
             wait_for_ready: bool = False) -> remote_pb2.HealthResponse:
    """Asks the actor how it is; one that Ray is restarting is waited for
    until `timeout` (`wait_for_ready` is implied: an actor's start cannot
    be told from a restart)."""
    del wait_for_ready
    deadline = time.monotonic() + timeout
    pause = _FIRST_PAUSE_SECONDS
    while True:
      try:
        data = self._call('health', self._actor.health,
                          max(0.0, deadline - time.monotonic()))
        return self._parse(remote_pb2.HealthResponse, data, 'health answer')
      except errors.WorkerUnavailableError as e:
        if not e.restarting or time.monotonic() + pause > deadline:
          raise
      # Ray answers at once while the actor restarts; ask again shortly.
      time.sleep(pause)
      pause = min(2 * pause, _MAX_PAUSE_SECONDS)

  def execute(self, request: remote_pb2.WorkerRequest,
              timeout: float) -> remote_pb2.WorkerResponse:
    """Sends one request; raises as `WorkerConnection.execute` does."""
    operation = request.WhichOneof('operation') or 'request'
    data = self._call(operation, self._actor.execute, timeout,
                      request.SerializeToString())
    if len(data) > self._max_response_bytes:
      raise errors.WorkerRefusedError(
          self._target, 'DATA_LOSS',
          f'Worker {self._target} sent a response of {len(data)} bytes to '
          f'{operation}; at most {self._max_response_bytes} are accepted.')
    return self._parse(remote_pb2.WorkerResponse, data, 'response')

  def where(self, timeout: float = 60) -> Tuple[str, int]:
    """The node id and process id of the actor now."""
    return ray.get(self._actor.where.remote(), timeout=timeout)

  def _call(self, operation: str, method, timeout: float, *args) -> bytes:
    reference = method.remote(*args)
    try:
      return ray.get(reference, timeout=timeout)
    except ray.exceptions.RayError as e:
      if isinstance(e, ray.exceptions.GetTimeoutError):
        ray.cancel(reference)
      raise self._classify(e, operation) from None

  def _classify(self, error: Exception, operation: str) -> Exception:
    """The tffx error for a failed call: retryable or final."""
    if isinstance(error, _RETRYABLE):
      unavailable = errors.WorkerUnavailableError(
          self._target, f'Worker {self._target} failed during {operation}: '
          f'{type(error).__name__}: {_first_line(error)}')
      unavailable.restarting = isinstance(
          error, ray.exceptions.ActorUnavailableError)
      return unavailable
    cause = getattr(error, 'cause', None)
    code = _REFUSALS.get(type(cause), 'INTERNAL')
    return errors.WorkerRefusedError(
        self._target, code, f'Worker {self._target} refused {operation}: '
        f'{code}: {_first_line(cause or error)}')

  def _parse(self, message_class, data: bytes, what: str):
    try:
      return wire.parse(message_class, data, f'the {what} of {self._target}')
    except errors.MalformedMessageError as e:
      raise errors.WorkerRefusedError(self._target, 'DATA_LOSS',
                                      str(e)) from e

  def reset(self) -> None:
    """Nothing to drop: Ray reaches a restarted actor by itself."""

  def close(self) -> None:
    """Kills the actor (for good: Ray does not restart it)."""
    try:
      ray.kill(self._actor, no_restart=True)
    except ray.exceptions.RayError:
      pass  # Already gone, or Ray was shut down first.

  def __repr__(self) -> str:
    return f'RayWorkerConnection({self._target!r})'


def _first_line(error: Any) -> str:
  lines = str(error).strip().splitlines()
  return lines[0] if lines else type(error).__name__


def default_num_workers(resources: Dict[str, Any]) -> int:
  """One worker per alive node, or per GPU share when workers take GPUs."""
  count = sum(1 for n in ray.nodes() if n.get('Alive'))
  gpus = resources.get('num_gpus', 0)
  if gpus:
    count = int(ray.cluster_resources().get('GPU', 0) // gpus)
  if count < 1:
    raise ValueError(f'The Ray cluster ({ray.cluster_resources()}) has no '
                     f'room for a tffx worker with resources {resources}.')
  return count


def start_workers(num_workers: int, resources: Dict[str, Any], *,
                  executor: str = 'auto', max_restarts: int = 3,
                  max_request_mb: float = 1024,
                  max_concurrent_computation_calls: Optional[int] = None,
                  runtime_env: Optional[Dict[str, Any]] = None,
                  ready_timeout_seconds: float = 300
                 ) -> List[RayWorkerConnection]:
  """Starts `num_workers` actors spread over the nodes; waits until ready.

  Args:
    num_workers: How many.
    resources: Ray actor options of each, e.g. `{'num_gpus': 1}` or
      `{'num_cpus': 2, 'resources': {'big_memory': 1}}`.
    executor: The workers' executor kind.
    max_restarts: How often Ray restarts a dead actor.
    max_request_mb: The largest request a worker accepts.
    max_concurrent_computation_calls: Requests a worker computes at once.
    runtime_env: Ray's runtime environment of the actors.
    ready_timeout_seconds: How long to wait for every actor to answer.

  Raises:
    ValueError: for `num_workers` < 1.
    WorkerUnavailableError: if an actor does not start in time.
  """
  if num_workers < 1:
    raise ValueError(f'Expected num_workers >= 1, found {num_workers}.')
  options = dict(num_cpus=1, max_restarts=max_restarts, max_task_retries=0,
                 max_concurrency=_ACTOR_CONCURRENCY,
                 scheduling_strategy='SPREAD')
  options.update(resources)
  if runtime_env is not None:
    options['runtime_env'] = runtime_env
  actor_class = ray.remote(RayWorker).options(**options)
  connections = [
      RayWorkerConnection(
          actor_class.remote(executor, max_request_mb,
                             max_concurrent_computation_calls),
          f'ray-worker-{i}') for i in range(num_workers)
  ]
  try:
    for connection in connections:
      connection.health(timeout=ready_timeout_seconds)
  except (errors.WorkerUnavailableError, errors.WorkerRefusedError):
    for connection in connections:
      connection.close()
    raise
  return connections

