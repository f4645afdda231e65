"""Real `tffx-worker` processes for tests, on free loopback ports.

    workers = worker_processes.start_workers(3, flags=['--max_message_mb=1'])
    workers[0].target                  # '127.0.0.1:PORT'
    workers[0].kill()                  # SIGKILL, waits for the exit
    workers[0].start()                 # again, on the same port
    worker_processes.stop_workers(workers)

A worker is ready when it answers a health call: `start` waits with a
health call that itself waits for the connection (gRPC `wait_for_ready`),
so no test sleeps a fixed time. A worker that exits while starting fails
the start with its stderr.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import List, Optional, Sequence

import tffx
from tffx.remote import auth
from tffx.remote import errors
from tffx.remote import transport

# Workers import TensorFlow, and so does their first computation process;
# on a loaded machine that takes a while.
_START_TIMEOUT_SECONDS = 300
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tffx.__file__)))


def free_port() -> int:
  """A loopback port no process listens on now."""
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def worker_command(port: int, flags: Sequence[str] = ()) -> List[str]:
  return [sys.executable, '-m', 'tffx.cli.worker', f'--port={port}',
          *flags]


def worker_environment() -> dict:
  env = dict(os.environ)
  env['PYTHONPATH'] = os.pathsep.join(
      p for p in (_REPO_ROOT, env.get('PYTHONPATH')) if p)
  env.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  return env


class WorkerProcess:
  """One worker process; `start` launches it, `kill` ends it.

  Args:
    flags: Extra flags of `tffx.cli.worker`.
    auth_token: The token the worker expects, for the readiness check.
    tls: TLS files for the readiness check (`auth.TlsFiles`).
  """

  def __init__(self, flags: Sequence[str] = (),
               auth_token: Optional[str] = None,
               tls: Optional[auth.TlsFiles] = None):
    self.port = free_port()
    self._flags = list(flags)
    self._auth_token = auth_token
    self._tls = tls
    self._process = None
    self._stderr = None

  @property
  def target(self) -> str:
    return f'127.0.0.1:{self.port}'

  @property
  def process(self) -> subprocess.Popen:
    return self._process

  def launch(self) -> None:
    """Starts the process without waiting for it to be ready."""
    self._stderr = tempfile.TemporaryFile()
    self._process = subprocess.Popen(
        worker_command(self.port, self._flags), env=worker_environment(),
        stdout=subprocess.DEVNULL, stderr=self._stderr)

  def wait_ready(self) -> None:
    """Returns once the worker answers a health call.

    Raises:
      RuntimeError: if the worker exits first, or is not ready in time.
    """
    connection = transport.WorkerConnection(
        self.target, auth_token=self._auth_token, tls=self._tls)
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    try:
      while True:
        if self._process.poll() is not None:
          raise RuntimeError(
              f'Worker {self.target} exited with {self._process.returncode} '
              f'while starting:\n{self.stderr()}')
        remaining = deadline - time.monotonic()
        if remaining <= 0:
          raise RuntimeError(f'Worker {self.target} is not ready after '
                             f'{_START_TIMEOUT_SECONDS} s:\n{self.stderr()}')
        try:
          connection.health(timeout=min(remaining, 2.0), wait_for_ready=True)
          return
        except errors.WorkerUnavailableError:
          continue
    finally:
      connection.close()

  def start(self) -> 'WorkerProcess':
    self.launch()
    self.wait_ready()
    return self

  def stderr(self) -> str:
    if self._stderr is None:
      return ''
    self._stderr.seek(0)
    return self._stderr.read().decode('utf-8', 'replace')[-5000:]

  def kill(self) -> None:
    """SIGKILL, then waits for the process to be gone."""
    if self._process is not None and self._process.poll() is None:
      self._process.kill()
    if self._process is not None:
      self._process.wait()

  def close(self) -> None:
    self.kill()
    if self._stderr is not None:
      self._stderr.close()
      self._stderr = None


def start_workers(count: int, flags: Sequence[str] = (),
                  auth_token: Optional[str] = None,
                  tls: Optional[auth.TlsFiles] = None
                 ) -> List[WorkerProcess]:
  """Starts `count` workers at once and waits until all are ready."""
  workers = [WorkerProcess(flags, auth_token, tls) for _ in range(count)]
  try:
    for worker in workers:
      worker.launch()
    for worker in workers:
      worker.wait_ready()
  except BaseException:
    stop_workers(workers)
    raise
  return workers


def stop_workers(workers: Sequence[WorkerProcess]) -> None:
  for worker in workers:
    worker.close()


def make_tls_files(directory: str) -> Optional[dict]:
  """Generates a CA, a worker certificate and a client certificate.

  Uses the `openssl` command; returns None when it is not installed. The
  worker certificate is valid for 127.0.0.1 and localhost.

  Returns:
    Paths {'ca', 'worker_cert', 'worker_key', 'client_cert', 'client_key'}.
  """
  openssl = shutil.which('openssl')
  if openssl is None:
    return None
  paths = {name: os.path.join(directory, f'{name}.pem') for name in (
      'ca', 'ca_key', 'worker_cert', 'worker_key', 'client_cert',
      'client_key')}
  key_options = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                 '-nodes']

  def run(*args):
    subprocess.run([openssl, *args], check=True, capture_output=True)

  run('req', '-x509', *key_options, '-keyout', paths['ca_key'], '-out',
      paths['ca'], '-days', '1', '-subj', '/CN=tffx test CA')
  for name, extensions in (
      ('worker', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n'
                 'extendedKeyUsage=serverAuth\n'),
      ('client', 'extendedKeyUsage=clientAuth\n')):
    request = os.path.join(directory, f'{name}.csr')
    extension_file = os.path.join(directory, f'{name}.ext')
    with open(extension_file, 'w') as f:
      f.write(extensions)
    run('req', *key_options, '-keyout', paths[f'{name}_key'], '-out', request,
        '-subj', f'/CN=tffx test {name}')
    run('x509', '-req', '-in', request, '-CA', paths['ca'], '-CAkey',
        paths['ca_key'], '-CAcreateserial', '-out', paths[f'{name}_cert'],
        '-days', '1', '-extfile', extension_file)
  return paths
