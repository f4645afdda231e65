"""The remote backend: execution contexts whose clients live on gRPC workers.

    # On each worker machine (or process):
    #   tffx-worker --port=8000 --auth_token_file=token.txt
    with tffx.backends.remote.create_remote_execution_context(
        targets=['127.0.0.1:8000', '127.0.0.1:8001'], auth_token='...'):
      fed_avg_round(server_weights, client_datasets)

    tffx.backends.remote.set_remote_execution_context(targets=[...])

The controller (this process) splits the clients of each call across the
workers that answer, sends every worker only its shard's data, runs the
server side itself, and combines one partial aggregate per worker. See
`tffx.remote.remote_executor` for how failures are handled.
"""

from typing import Optional, Sequence

from tffx.computations import context_stack
from tffx.executors import execution_context
from tffx.remote import auth
from tffx.remote import remote_executor
from tffx.remote import wire


def create_remote_execution_context(
    targets: Sequence[str], *, default_num_clients: int = 0,
    auth_token: Optional[str] = None,
    auth_token_file: Optional[str] = None,
    tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
    tls_key: Optional[str] = None, retry_on_worker_failure: bool = True,
    call_timeout_seconds: float = 600.0,
    health_timeout_seconds: float = 5.0,
    max_message_mb: float = wire.DEFAULT_MAX_MESSAGE_MB
) -> execution_context.ExecutionContext:
  """Returns an execution context that runs client work on remote workers.

  The context is also a context manager that makes itself current. Its
  executor (`context.executor`, a `RemoteExecutor`) reports per-worker call
  counts; `context.close()` closes it.

  Args:
    targets: The workers' addresses, 'host:port'.
    default_num_clients: The number of clients of a computation whose
      argument has no client values to count.
    auth_token: The workers' shared secret; or give `auth_token_file`.
    auth_token_file: A file holding the shared secret.
    tls_ca: A PEM file of the CA that signed the workers' certificates;
      giving it turns TLS on.
    tls_cert: A PEM client certificate, for workers that require one.
    tls_key: The private key of `tls_cert`.
    retry_on_worker_failure: Re-run a computation on the remaining workers
      when a worker fails during it; when False, fail at once with an error
      naming the worker.
    call_timeout_seconds: The deadline of each request to a worker.
    health_timeout_seconds: The deadline of the health check before each
      computation.
    max_message_mb: The largest gRPC message; larger values are chunked.

  Raises:
    ValueError: for no targets, both or unreadable token arguments, or TLS
      files that do not exist.
    ClientCountError: if `default_num_clients` is negative.
  """
  if auth_token is not None and auth_token_file is not None:
    raise ValueError('Expected auth_token or auth_token_file, found both.')
  if auth_token_file is not None:
    auth_token = auth.read_token_file(auth_token_file)
  tls = None
  if tls_ca or tls_cert or tls_key:
    tls = auth.TlsFiles(cert=tls_cert, key=tls_key, ca=tls_ca)
  executor = remote_executor.RemoteExecutor(
      targets, auth_token=auth_token, tls=tls,
      retry_on_worker_failure=retry_on_worker_failure,
      call_timeout_seconds=call_timeout_seconds,
      health_timeout_seconds=health_timeout_seconds,
      max_message_mb=max_message_mb)
  return execution_context.ExecutionContext(
      lambda: executor, default_num_clients=default_num_clients)


def set_remote_execution_context(targets: Sequence[str], **kwargs) -> None:
  """Makes a remote execution context the default for every thread.

  Args:
    targets: The workers' addresses, 'host:port'.
    **kwargs: As in `create_remote_execution_context`.
  """
  context_stack.set_default_context(
      create_remote_execution_context(targets, **kwargs))
