"""The Ray backend: clients on tffx workers that are Ray actors.

    import tffx.backends.ray   # needs `pip install 'tffx[ray]'`

    with tffx.backends.ray.create_ray_execution_context(
        address='auto', worker_resources={'num_gpus': 1}) as context:
      fed_avg_round(server_weights, client_datasets)
    context.close()                        # stops the workers

    tffx.backends.ray.set_ray_execution_context(address='ray://head:10001')

It connects to a Ray cluster (`address='auto'` for the one this machine
belongs to, 'ray://host:10001' through Ray Client, None to start a local
one), starts `num_workers` tffx workers as actors spread over its nodes
(`tffx.remote.ray_workers`), and runs computations with the remote
executor over them: the same interpreter and remote client strategy as the
gRPC backend (`tffx.backends.remote`), the same exact aggregation, so
results are bit-identical to the native backend's. Ray restarts a worker
that dies; the computation re-runs with every shard on another worker, and
a client whose work was on a failed worker twice ends the call with
`PoisonClientError` while the workers keep serving.

Client datasets opened from a `ClientData` the workers can open themselves
(`tffx.simulation` HDF5 files on shared storage, the synthetic data with
its seed) travel as client ids, not examples (see
`tffx.executors.dataset_sources`).

This module and `tffx.remote.ray_workers` are the only ones that import
Ray; `import tffx` does not import them.
"""

from typing import Any, Callable, Dict, Optional

import ray

from tffx.computations import context_stack
from tffx.executors import execution_context
from tffx.remote import ray_workers
from tffx.remote import remote_executor


class RayExecutionContext(execution_context.ExecutionContext):
  """An execution context over Ray actors; `close()` stops them.

  `connections` are the workers (`RayWorkerConnection`s, with `where()`).
  """

  def __init__(self, executor: remote_executor.RemoteExecutor,
               connections: list, started_ray: bool,
               default_num_clients: int):
    super().__init__(lambda: executor, default_num_clients=default_num_clients)
    self._remote_executor = executor
    self.connections = connections
    self._started_ray = started_ray

  def close(self) -> None:
    """Stops the workers, and the local Ray started for this context."""
    super().close()
    self._remote_executor.close()
    if self._started_ray:
      self._started_ray = False
      ray.shutdown()


def create_ray_execution_context(
    address: Optional[str] = None, num_workers: Optional[int] = None,
    worker_resources: Optional[Dict[str, Any]] = None, *,
    executor: str = 'auto', max_restarts: int = 3,
    default_num_clients: int = 0, retry_on_worker_failure: bool = True,
    call_timeout_seconds: float = 600.0,
    health_timeout_seconds: float = 30.0, max_request_mb: float = 1024,
    max_concurrent_computation_calls: Optional[int] = None,
    runtime_env: Optional[Dict[str, Any]] = None,
    init_kwargs: Optional[Dict[str, Any]] = None,
    on_dispatch: Optional[Callable[[str, str], None]] = None
) -> RayExecutionContext:
  """Returns an execution context whose clients run on Ray actors.

  The context is a context manager that makes itself current; `close()`
  stops its workers (and a Ray it started).

  Args:
    address: The Ray cluster: 'auto', 'ray://host:10001', a GCS address
      'host:6379', or None to start a local Ray (or use the one this
      process is already connected to).
    num_workers: How many tffx workers; by default one per alive node, or
      one per `num_gpus` share of the cluster's GPUs.
    worker_resources: Ray actor options of each worker, e.g.
      `{'num_gpus': 1}` or `{'num_cpus': 4}`; 1 CPU by default.
    executor: The workers' executor kind ('auto', 'thread_pool',
      'reference').
    max_restarts: How often Ray restarts a worker that died.
    default_num_clients: The number of clients of a computation whose
      argument has no client values to count.
    retry_on_worker_failure: Re-run a computation when a worker fails
      during it.
    call_timeout_seconds: The deadline of each request to a worker.
    health_timeout_seconds: How long the check before each computation
      waits for a worker (one being restarted included).
    max_request_mb: The largest request a worker accepts.
    max_concurrent_computation_calls: Requests a worker computes at once;
      None for one per CPU core of its node.
    runtime_env: Ray's runtime environment of the workers.
    init_kwargs: More arguments of `ray.init`, when it is called.
    on_dispatch: Called with (operation, worker) before each request; for
      monitoring and tests.

  Raises:
    ValueError: for `num_workers` < 1, or a cluster without room for one
      worker.
    WorkerUnavailableError: if a worker does not start.
  """
  started_ray = False
  if not ray.is_initialized():
    ray.init(address=address, **(init_kwargs or {}))
    started_ray = address is None
  resources = dict(worker_resources or {})
  try:
    if num_workers is None:
      num_workers = ray_workers.default_num_workers(resources)
    connections = ray_workers.start_workers(
        num_workers, resources, executor=executor, max_restarts=max_restarts,
        max_request_mb=max_request_mb,
        max_concurrent_computation_calls=max_concurrent_computation_calls,
        runtime_env=runtime_env)
  except BaseException:
    if started_ray:
      ray.shutdown()
    raise
  remote = remote_executor.RemoteExecutor(
      connections, retry_on_worker_failure=retry_on_worker_failure,
      call_timeout_seconds=call_timeout_seconds,
      health_timeout_seconds=health_timeout_seconds, on_dispatch=on_dispatch)
  return RayExecutionContext(remote, connections, started_ray,
                             default_num_clients)


def set_ray_execution_context(address: Optional[str] = None,
                              num_workers: Optional[int] = None,
                              worker_resources: Optional[Dict[str,
                                                              Any]] = None,
                              **kwargs) -> RayExecutionContext:
  """Makes a Ray execution context the default for every thread.

  Args: as `create_ray_execution_context`. Returns the context, so that it
  can be closed.
  """
  context = create_ray_execution_context(address, num_workers,
                                         worker_resources, **kwargs)
  context_stack.set_default_context(context)
  return context
