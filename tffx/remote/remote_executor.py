"""`RemoteExecutor`: runs computations with the clients split across workers.

    executor = RemoteExecutor(['127.0.0.1:8000', '127.0.0.1:8001'])
    executor.run(comp, arg, num_clients)
      1. health-check every worker (and reconnect to restarted ones)
      2. split the clients over the live workers     worker_session.partition
      3. interpret comp, client work on the workers  interpreter +
                                                     remote_strategy
      4. on a worker failure, if retry_on_worker_failure, go to 1: the
         argument is still here, so the run starts over, each shard on
         another worker (`_check_poison`: a client whose work was on a
         failed worker twice ends the run with PoisonClientError)
      5. release the run's values on the workers

A worker that dies or stops answering is noticed by the call in flight (a
broken connection, or its deadline), never by waiting without end. With
`retry_on_worker_failure=False` the first failure raises
`WorkerUnavailableError` naming the worker. Either way a call ends with the
right answer or an error; nothing is silently dropped.

This module does not speak gRPC (`transport`) and does not serve
(`worker_service`).
"""

from concurrent import futures
import logging
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence

from tffx.computations import building_blocks as bb
from tffx.executors import client_strategy
from tffx.executors import executor_base
from tffx.executors import interpreter
from tffx.executors import tensorflow_runner
from tffx.remote import auth
from tffx.remote import errors
from tffx.remote import remote_strategy
from tffx.remote import retry_policy
from tffx.remote import transport
from tffx.remote import wire
from tffx.remote import worker_session


class RemoteExecutor(executor_base.Executor):
  """Runs computations on a controller and remote workers.

  Server-side work runs here; client work runs on the workers, each on a
  contiguous shard of the clients, and aggregations are combined here from
  one partial result per worker.

  Args:
    targets: The workers' addresses, 'host:port', at least one; or
      connections to them: objects with `WorkerConnection`'s interface
      (`target`, `health`, `execute`, `reset`, `close`), such as the Ray
      backend's actor connections. Auth, TLS and message sizes apply only
      to the addresses.
    auth_token: The shared secret of the workers (their --auth_token_file).
    tls: `auth.TlsFiles` to reach workers over TLS: `ca` to trust their
      certificates, `cert` and `key` for a client certificate. None for
      plaintext.
    retry_on_worker_failure: Re-run a computation on the remaining workers
      when a worker fails during it. A retry moves each shard to another
      worker; a client whose work was on a failed worker twice is not
      retried again (`PoisonClientError`).
    max_attempts: How many times a computation may start; by default one
      more than the number of workers.
    call_timeout_seconds: The deadline of each request to a worker.
    health_timeout_seconds: The deadline of the health check that precedes
      each computation.
    max_message_mb: The largest gRPC message; larger values travel in
      chunks.
    on_dispatch: Called with (operation, target) just before each request
      to a worker; for monitoring and tests.
    load_tensorflow: Turns a `TensorFlow` block into a callable, for the
      server-side work done here.

  Raises:
    ValueError: if `targets` is empty, repeats a target, or a limit is not
      positive.
  """

  def __init__(self, targets: Sequence[Any], *,
               auth_token: Optional[str] = None,
               tls: Optional[auth.TlsFiles] = None,
               retry_on_worker_failure: bool = True,
               max_attempts: Optional[int] = None,
               call_timeout_seconds: float = 600.0,
               health_timeout_seconds: float = 5.0,
               max_message_mb: float = wire.DEFAULT_MAX_MESSAGE_MB,
               on_dispatch: Optional[Callable[[str, str], None]] = None,
               load_tensorflow: Callable[[bb.TensorFlow], Callable] = (
                   tensorflow_runner.load)):
    if isinstance(targets, str) or not targets:
      raise ValueError(f"Expected a non-empty list of worker targets "
                       f"'host:port', found {targets!r}.")
    self._connections = [
        t if not isinstance(t, str) else transport.WorkerConnection(
            t, auth_token=auth_token, tls=tls, max_message_mb=max_message_mb)
        for t in targets
    ]
    targets = [c.target for c in self._connections]
    if len(set(targets)) != len(targets):
      raise ValueError(f'Expected distinct worker targets, found {targets}.')
    if call_timeout_seconds <= 0 or health_timeout_seconds <= 0:
      raise ValueError(
          f'Expected positive timeouts, found call_timeout_seconds='
          f'{call_timeout_seconds}, health_timeout_seconds='
          f'{health_timeout_seconds}.')
    self._tls = tls
    self._retry = retry_on_worker_failure
    self._max_attempts = max_attempts or len(targets) + 1
    self._call_timeout = call_timeout_seconds
    self._health_timeout = health_timeout_seconds
    self._on_dispatch = on_dispatch
    self._load_tensorflow = load_tensorflow
    self._pool = futures.ThreadPoolExecutor(
        max_workers=max(4, 2 * len(targets)),
        thread_name_prefix='tffx-remote')
    self._lock = threading.Lock()
    self._call_counts = {t: 0 for t in targets}

  @property
  def targets(self) -> List[str]:
    return [c.target for c in self._connections]

  def worker_call_counts(self) -> Dict[str, int]:
    """Requests each worker has answered (runs, aggregates, fetches)."""
    with self._lock:
      return dict(self._call_counts)

  def run(self, comp: bb.ComputationBuildingBlock, arg, num_clients: int):
    """Evaluates `comp` on `arg` with `num_clients` clients on the workers.

    Raises:
      ClientCountError: if `num_clients` is negative.
      NoLiveWorkersError: if no worker answers its health check.
      WorkerUnavailableError: if a worker fails during the computation and
        retrying is off, or every attempt failed.
      WorkerRefusedError: if a worker refuses a request (credentials,
        size).
      PoisonClientError: if a client's work failed on two workers
        (`retry_policy`).
      Errors of the computation itself, as the reference executor raises
      them (an `AggregationError`, a `TensorFlowExecutionError`, ...).
    """
    executor_base.check_num_clients(num_clients)
    attempt = 0
    policy = retry_policy.RetryPolicy()
    while True:
      attempt += 1
      shards = []
      if num_clients:
        shards = worker_session.partition(
            policy.order(self._live_connections(), attempt), num_clients)
      session = worker_session.WorkerSession(
          shards, self._pool, call_timeout_seconds=self._call_timeout,
          on_dispatch=self._on_dispatch, on_success=self._count)
      try:
        return interpreter.Interpreter(
            remote_strategy.RemoteStrategy(session, num_clients),
            self._tensorflow).run(comp, arg)
      except errors.WorkerUnavailableError as e:
        self._check_retry(e, attempt, policy)
        logging.warning('%s Re-running the computation (attempt %d of %d).',
                        e, attempt + 1, self._max_attempts)
      finally:
        session.release()

  def _tensorflow(self, block: bb.TensorFlow) -> client_strategy.Function:
    return client_strategy.TensorFlowFunction(block,
                                              self._load_tensorflow(block))

  def _check_retry(self, error: errors.WorkerUnavailableError, attempt: int,
                   policy: retry_policy.RetryPolicy) -> None:
    """The one place that decides whether a failed run starts again.

    Raises:
      PoisonClientError: if the failed clients already failed on another
        worker (see `retry_policy`).
      WorkerUnavailableError: if retrying is off or attempts are used up.
    """
    policy.record(error)
    if not self._retry:
      raise errors.WorkerUnavailableError(
          error.target, f'{error} Tip: with retry_on_worker_failure=True the '
          f'computation re-runs on the other workers.') from error
    if attempt >= self._max_attempts:
      raise errors.WorkerUnavailableError(
          error.target, f'Gave up after {attempt} attempts; the last '
          f'failure: {error}') from error

  def _live_connections(self) -> List[Any]:
    """The workers that answer a health check now, in target order."""
    checks = [
        self._pool.submit(c.health, self._health_timeout)
        for c in self._connections
    ]
    live, failures = [], []
    for connection, check in zip(self._connections, checks):
      try:
        check.result()
        live.append(connection)
      except errors.WorkerUnavailableError as e:
        failures.append(str(e))
    if not live:
      tip = ('start workers with tffx-worker --port=... and pass their '
             'addresses as targets')
      if self._tls is not None and self._tls.cert is None:
        tip = ('a worker started with --tls_ca refuses, at the TLS '
               'handshake, a controller without a client certificate: pass '
               'tls_cert and tls_key')
      raise errors.NoLiveWorkersError(
          f'None of the {len(self._connections)} workers answered a health '
          f'check within {self._health_timeout} s: {"; ".join(failures)}. '
          f'Tip: {tip}.')
    return live

  def _count(self, operation: str, target: str) -> None:
    del operation  # Every answered request counts.
    with self._lock:
      self._call_counts[target] += 1

  def close(self) -> None:
    """Closes the connections; pending releases of old runs are dropped."""
    self._pool.shutdown(wait=False, cancel_futures=True)
    for connection in self._connections:
      connection.close()
