"""tffx-worker: serves a shard of the clients to a tffx controller over gRPC.

    tffx-worker --port=8000 --auth_token_file=token.txt
    python -m tffx.cli.worker --port=8000 --host=0.0.0.0 \\
        --tls_cert=worker.pem --tls_key=worker.key --tls_ca=ca.pem

The worker listens on loopback (127.0.0.1) unless --host says otherwise, and
prints one line, `tffx-worker serving on HOST:PORT ...`, once it accepts
calls (with --port=0 the line gives the port picked). SIGTERM and SIGINT stop
it. A controller reaches it with
`tffx.backends.remote.set_remote_execution_context(targets=['HOST:PORT'])`.

Off loopback, use --auth_token_file and TLS: the worker then refuses calls
without the token, and with --tls_ca, clients without a certificate signed
by that CA.

Computations run in supervised child processes (up to
--max_concurrent_computation_calls of them), each limited to
--max_memory_mb; a request that crashes TensorFlow or runs past
--max_request_seconds ends its child, never the worker (see
docs/security.md). A bad flag prints one line, `tffx-worker: error: ...`,
and exits with status 2.

This module parses flags and starts the server; the service is
`tffx.remote.worker_service`.
"""

import signal
import sys
import threading
from typing import Optional

from absl import flags
from absl import logging

from tffx.cli import console_scripts
from tffx.remote import auth
from tffx.remote import computation_process
from tffx.remote import graph_allowlist
from tffx.remote import graph_limits
from tffx.remote import wire
from tffx.remote import worker_executors
from tffx.remote import worker_service

_PROGRAM = 'tffx-worker'

_HOST = flags.DEFINE_string(
    'host', '127.0.0.1',
    'The interface to listen on. Loopback by default; listening on other '
    'interfaces (0.0.0.0, ::) is an explicit choice.')
_PORT = flags.DEFINE_integer('port', 0,
                             'The port to listen on; 0 picks a free one.')
_MAX_CONCURRENT = flags.DEFINE_integer(
    'max_concurrent_computation_calls', 4,
    'How many requests run at once (more wait for a slot; health checks '
    'always answer), and how many threads the thread-pool executor runs '
    'client work on.', lower_bound=1)
_MAX_MESSAGE_MB = flags.DEFINE_float(
    'max_message_mb', wire.DEFAULT_MAX_MESSAGE_MB,
    'The largest gRPC message, in MB. Larger values travel in chunks.',
    lower_bound=0.001)
_MAX_REQUEST_MB = flags.DEFINE_float(
    'max_request_mb', 1024,
    'The largest request, all chunks together, in MB; larger requests are '
    'refused (RESOURCE_EXHAUSTED).', lower_bound=0.001)
_TLS_CERT = flags.DEFINE_string('tls_cert', None,
                                'PEM certificate of the worker, for TLS.')
_TLS_KEY = flags.DEFINE_string('tls_key', None,
                               'PEM private key of --tls_cert.')
_TLS_CA = flags.DEFINE_string(
    'tls_ca', None,
    'PEM CA certificate; when given, clients must present a certificate '
    'signed by it. Needs --tls_cert and --tls_key.')
_AUTH_TOKEN_FILE = flags.DEFINE_string(
    'auth_token_file', None,
    'A file holding the shared secret every call must carry; calls without '
    'it are refused (UNAUTHENTICATED).')
_EXECUTOR = flags.DEFINE_enum(
    'executor', 'auto', list(worker_executors.KINDS),
    'The executor of the shard: thread_pool (auto), or reference to check '
    'results.')
_CLIENT_DEVICES = flags.DEFINE_list(
    'client_devices', [],
    'Devices for client work, e.g. /device:CPU:0,/device:GPU:0.')
_SERVER_DEVICE = flags.DEFINE_string(
    'server_device', None,
    'Device for server-side work inside a request (e.g. merges).')
_EXTRA_ALLOWED_OPS = flags.DEFINE_list(
    'extra_allowed_ops', [],
    'TensorFlow ops to run beyond the built-in allowlist (see '
    'tffx/remote/graph_allowlist.py); ops that touch files, the network or '
    'Python cannot be allowed.')

_MAX_REQUEST_SECONDS = flags.DEFINE_float(
    'max_request_seconds', worker_service.DEFAULT_MAX_REQUEST_SECONDS,
    'The longest a request may run; a caller\'s longer deadline is cut to '
    'this. A request past its deadline, or whose caller went away, is '
    'stopped (its computation process is killed and replaced).',
    lower_bound=0.001)
_MAX_MEMORY_MB = flags.DEFINE_integer(
    'max_memory_mb', 16384,
    'The address space of each computation process, in MB (RLIMIT_AS; '
    'TensorFlow alone takes ~2000); 0 for no limit.', lower_bound=0)
_MAX_DECLARED_SIZE = flags.DEFINE_integer(
    'max_declared_size', graph_limits.SizeLimits().max_elements,
    'The largest size a graph may declare as a constant: elements of a '
    'tensor it fills, slots of a TensorArray, a shuffle buffer. Larger '
    'graphs are refused before they run.', lower_bound=1)
_COMPUTATION_PROCESSES = flags.DEFINE_bool(
    'computation_processes', True,
    'Run computations in supervised child processes. --nocomputation_'
    'processes runs them in the serving process: faster to start, but a '
    'request that crashes TensorFlow ends the worker, and deadlines only '
    'bound the wait for a slot.')

_LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1')


def _tls_files():
  if not (_TLS_CERT.value or _TLS_KEY.value or _TLS_CA.value):
    return None
  if _TLS_CA.value and not _TLS_CERT.value:
    raise ValueError('--tls_ca needs --tls_cert and --tls_key.')
  return auth.TlsFiles(cert=_TLS_CERT.value, key=_TLS_KEY.value,
                       ca=_TLS_CA.value)


def _service(token: Optional[str]) -> worker_service.WorkerService:
  """The service the flags describe; its computation children started.

  Raises:
    OSError, ValueError, RuntimeError: for a bad flag value.
  """
  limits = graph_limits.SizeLimits(max_elements=_MAX_DECLARED_SIZE.value)
  allowlist = graph_allowlist.GraphAllowlist(_EXTRA_ALLOWED_OPS.value, limits)
  executor, processes = None, None
  executor_name = 'thread_pool' if _EXECUTOR.value == 'auto' else (
      _EXECUTOR.value)
  if _COMPUTATION_PROCESSES.value:
    worker_executors.check_devices(
        list(_CLIENT_DEVICES.value) +
        ([_SERVER_DEVICE.value] if _SERVER_DEVICE.value else []))
    processes = computation_process.ComputationPool(
        computation_process.ChildConfig(
            executor=_EXECUTOR.value,
            client_devices=tuple(_CLIENT_DEVICES.value),
            server_device=_SERVER_DEVICE.value or '',
            threads=_MAX_CONCURRENT.value,
            extra_allowed_ops=tuple(_EXTRA_ALLOWED_OPS.value),
            max_declared_size=_MAX_DECLARED_SIZE.value,
            max_memory_mb=_MAX_MEMORY_MB.value),
        size=_MAX_CONCURRENT.value)
    processes.start()
  else:
    executor, executor_name = worker_executors.create_worker_executor(
        _EXECUTOR.value, _CLIENT_DEVICES.value, _SERVER_DEVICE.value,
        _MAX_CONCURRENT.value)
  return worker_service.WorkerService(
      executor, executor_name=executor_name, allowlist=allowlist,
      auth_token=token, max_message_mb=_MAX_MESSAGE_MB.value,
      max_request_mb=_MAX_REQUEST_MB.value,
      max_concurrent_computation_calls=_MAX_CONCURRENT.value,
      max_request_seconds=_MAX_REQUEST_SECONDS.value, processes=processes)


def main(argv) -> None:
  if len(argv) > 1:
    console_scripts.exit_with_error(
        _PROGRAM, f'unexpected arguments {argv[1:]}; flags look like '
        f'--name=value')
  try:
    tls = _tls_files()
    token = None
    if _AUTH_TOKEN_FILE.value:
      token = auth.read_token_file(_AUTH_TOKEN_FILE.value)
    service = _service(token)
  except (OSError, ValueError, RuntimeError) as e:
    console_scripts.exit_with_error(_PROGRAM, str(e))
  executor_name = service.health().executor
  try:
    server = worker_service.WorkerServer(service, host=_HOST.value,
                                         port=_PORT.value, tls=tls)
  except OSError as e:
    service.close()
    console_scripts.exit_with_error(_PROGRAM, str(e), 1)
  if _HOST.value not in _LOOPBACK_HOSTS and (tls is None or token is None):
    logging.warning(
        'Listening on %s without %s: anyone who can reach this port can run '
        'computations here. Use --auth_token_file and TLS off loopback.',
        _HOST.value, 'TLS' if tls is None else 'a token')
  stopped = threading.Event()

  def stop(signum, frame):
    del signum, frame  # Unused.
    stopped.set()

  signal.signal(signal.SIGTERM, stop)
  signal.signal(signal.SIGINT, stop)
  server.start()
  print(f'tffx-worker serving on {server.target} (executor={executor_name}, '
        f'tls={"on" if tls else "off"}, auth={"on" if token else "off"})',
        flush=True)
  stopped.wait()
  server.stop(grace=1.0)
  service.close()


def run() -> None:
  """The console-script entry point, `tffx-worker`."""
  console_scripts.run(main, sys.modules[__name__],
                      flags_parser=console_scripts.one_line_flags_parser(
                          _PROGRAM))


if __name__ == '__main__':
  run()
