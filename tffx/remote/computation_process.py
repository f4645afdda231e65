"""Supervised child processes that run a worker's computations.

    WorkerService (serves the port, never runs a graph)
      `-- ComputationPool(config, size)
            call(session, request_bytes, deadline, is_active, what)
              |-- picks the child holding the session's values, or an idle
              |   one (starting another, up to `size`, when all are busy)
              |-- sends the request, waits for the response until the
              |   deadline or until the caller is gone
              |-- child died   -> ComputationCrashedError, new child
              `-- deadline     -> child killed, RequestDeadlineError,
                  caller gone     new child

A child (`computation_child`) runs one request at a time, so killing it
stops exactly the work that overran and frees its slot; a TensorFlow abort
or segfault ends the child, not the worker. The values a child stored for
other sessions die with it; their next request finds no value
(`UnknownHandleError`) and the controller re-runs that computation.

Frames on the pipes: an 8-byte big-endian length and that many bytes.

This module does not serve gRPC (`worker_service`) and does not look inside
requests.
"""

import dataclasses
import logging
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence

from tffx.remote import errors

READY = b'tffx-computation-child-ready'
_HEADER = struct.Struct('>Q')
# A child imports TensorFlow before it is ready; slow on a loaded machine.
START_TIMEOUT_SECONDS = 300
# How often a waiting request looks whether its caller is still there.
_POLL_SECONDS = 0.2


def write_frame(fd: int, data: bytes) -> None:
  """Writes one frame; raises BrokenPipeError if the reader is gone."""
  os.write(fd, _HEADER.pack(len(data)))
  view = memoryview(data)
  while view:
    written = os.write(fd, view)
    view = view[written:]


def read_frame(fd: int) -> Optional[bytes]:
  """Reads one frame; None if the writer closed the pipe before its end."""
  header = _read_exactly(fd, _HEADER.size)
  if header is None:
    return None
  (size,) = _HEADER.unpack(header)
  return _read_exactly(fd, size)


def _read_exactly(fd: int, size: int) -> Optional[bytes]:
  buffer = bytearray(size)
  view = memoryview(buffer)
  received = 0
  while received < size:
    count = os.readv(fd, [view[received:]])
    if count == 0:
      return None
    received += count
  return bytes(buffer)


@dataclasses.dataclass(frozen=True)
class ChildConfig:
  """How a computation child builds its executor and limits itself.

  Attributes:
    executor: A `worker_executors.KINDS` kind.
    client_devices: Devices for client work.
    server_device: Device of server work inside a request, or ''.
    threads: Threads of the thread-pool executor; 0 for one per core.
    extra_allowed_ops: Ops allowed beyond the built-in allowlist.
    max_declared_size: `graph_limits.SizeLimits.max_elements`; 0 for the
      default.
    max_memory_mb: The child's address space limit (RLIMIT_AS); 0 for
      none.
  """
  executor: str = 'auto'
  client_devices: Sequence[str] = ()
  server_device: str = ''
  threads: int = 0
  extra_allowed_ops: Sequence[str] = ()
  max_declared_size: int = 0
  max_memory_mb: int = 0

  def arguments(self) -> List[str]:
    return [
        f'--executor={self.executor}',
        f'--client_devices={",".join(self.client_devices)}',
        f'--server_device={self.server_device}',
        f'--threads={self.threads}',
        f'--extra_allowed_ops={",".join(self.extra_allowed_ops)}',
        f'--max_declared_size={self.max_declared_size}',
        f'--max_memory_mb={self.max_memory_mb}',
    ]


class ComputationProcess:
  """One child process and its two pipes."""

  def __init__(self, config: ChildConfig):
    request_read, self._request_fd = os.pipe()
    self._response_fd, response_write = os.pipe()
    command = [sys.executable, '-m', 'tffx.remote.computation_child',
               f'--request_fd={request_read}',
               f'--response_fd={response_write}', *config.arguments()]
    try:
      # The child's stdout is the worker's stderr: what a graph prints
      # (PrintV2 to stdout) cannot reach the pipes.
      self._process = subprocess.Popen(
          command, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
          pass_fds=(request_read, response_write))
    finally:
      os.close(request_read)
      os.close(response_write)
    self.busy = False
    self.alive = True

  @property
  def pid(self) -> int:
    return self._process.pid

  def wait_ready(self, timeout: float) -> None:
    """Waits for the child's READY frame.

    Raises:
      RuntimeError: if the child exits or is not ready within `timeout`.
    """
    readable, _, _ = select.select([self._response_fd], [], [], timeout)
    frame = read_frame(self._response_fd) if readable else None
    if frame != READY:
      self.kill()
      raise RuntimeError(
          f'The computation process {self.pid} did not start (exit status '
          f'{self._process.returncode}); see the messages above.')

  def exchange(self, data: bytes, deadline: float,
               is_active: Callable[[], bool], what: str) -> bytes:
    """Sends a request and returns the response.

    Raises:
      ComputationCrashedError: if the child dies meanwhile.
      RequestDeadlineError: if `deadline` (time.monotonic) passes first;
        the child is then killed.
      CallerGoneError: if `is_active()` turns False first; the child is
        then killed.
    """
    try:
      write_frame(self._request_fd, data)
    except (BrokenPipeError, OSError):
      raise self._crashed(what) from None
    while True:
      remaining = deadline - time.monotonic()
      if remaining <= 0:
        self.kill()
        raise errors.RequestDeadlineError(
            f'The worker stopped {what}: it ran past its deadline.')
      if not is_active():
        self.kill()
        raise errors.CallerGoneError(f'The caller of {what} went away.')
      readable, _, _ = select.select([self._response_fd], [], [],
                                     min(remaining, _POLL_SECONDS))
      if readable:
        break
    response = read_frame(self._response_fd)
    if response is None:
      raise self._crashed(what)
    return response

  def _crashed(self, what: str) -> errors.ComputationCrashedError:
    self.alive = False
    try:
      status = self._process.wait(timeout=10)
    except subprocess.TimeoutExpired:
      self.kill()
      status = self._process.returncode
    cause = f'exit status {status}'
    if status is not None and status < 0:
      cause = f'signal {signal.Signals(-status).name}'
    return errors.ComputationCrashedError(
        f'The process running {what} on this worker died ({cause}); the '
        f'worker keeps serving with a new one. Tip: TensorFlow aborts on '
        f'sizes it cannot allocate (huge TensorArrays, shuffle buffers, '
        f'padded shapes) and on memory beyond the worker\'s '
        f'--max_memory_mb.')

  def kill(self) -> None:
    """SIGKILL, then waits for the child and closes the pipes."""
    self.alive = False
    if self._process.poll() is None:
      self._process.kill()
    self._process.wait()
    for fd in (self._request_fd, self._response_fd):
      try:
        os.close(fd)
      except OSError:
        pass
    self._request_fd = self._response_fd = -1


class ComputationPool:
  """Up to `size` computation children, one request each at a time.

  Args:
    config: How children build their executor.
    size: The most children (and so requests running) at once.
  """

  def __init__(self, config: ChildConfig, size: int):
    if size < 1:
      raise ValueError(f'Expected a pool size >= 1, found {size}.')
    self._config = config
    self._size = size
    self._cond = threading.Condition()
    self._children: List[ComputationProcess] = []
    self._starting = 0
    self._sessions: Dict[str, ComputationProcess] = {}
    self._closed = False
    self.restarts = 0

  def start(self) -> None:
    """Starts the first child and waits until it is ready.

    Raises:
      RuntimeError: if it does not start (e.g. a device that does not
        exist).
    """
    child = ComputationProcess(self._config)
    child.wait_ready(START_TIMEOUT_SECONDS)
    with self._cond:
      self._children.append(child)
      self._cond.notify_all()

  def pids(self) -> List[int]:
    with self._cond:
      return [c.pid for c in self._children]

  def call(self, session: str, data: bytes, deadline: float,
           run_seconds: float, is_active: Callable[[], bool], what: str,
           pin: bool) -> bytes:
    """Runs one request in a child; see `ComputationProcess.exchange`.

    Args:
      session: The request's session: it runs in the child that holds the
        session's values, if one does.
      data: The serialized request.
      deadline: The caller's deadline, in `time.monotonic()` seconds: the
        request waits for a child until then, and stops then.
      run_seconds: The longest the request may run once in a child.
      is_active: False once the caller is gone.
      what: Names the request in errors.
      pin: The request stores values: later requests of the session must
        run in the same child.
    """
    child = self._acquire(session, deadline, is_active, what, pin)
    deadline = min(deadline, time.monotonic() + run_seconds)
    try:
      response = child.exchange(data, deadline, is_active, what)
    except BaseException:
      self._retire(child)
      raise
    with self._cond:
      child.busy = False
      self._cond.notify_all()
    return response

  def holds(self, session: str) -> bool:
    """Whether a child holds values of `session`."""
    with self._cond:
      return session in self._sessions

  def forget(self, session: str) -> None:
    """Forgets which child holds `session` (after its release)."""
    with self._cond:
      self._sessions.pop(session, None)

  def open_sessions(self) -> int:
    with self._cond:
      return len(self._sessions)

  def _acquire(self, session: str, deadline: float,
               is_active: Callable[[], bool], what: str,
               pin: bool) -> ComputationProcess:
    with self._cond:
      while True:
        if self._closed:
          raise errors.ComputationCrashedError('The worker is stopping.')
        child = self._sessions.get(session)
        if child is None:
          child = next((c for c in self._children if not c.busy), None)
          if (child is None and
              len(self._children) + self._starting < self._size):
            self._spawn()
        if child is not None and not child.busy:
          child.busy = True
          if pin:
            self._sessions[session] = child
          return child
        remaining = deadline - time.monotonic()
        if remaining <= 0:
          raise errors.RequestDeadlineError(
              f'The worker did not start {what} before its deadline: every '
              f'computation slot stayed busy.')
        if not is_active():
          raise errors.CallerGoneError(f'The caller of {what} went away.')
        self._cond.wait(min(remaining, _POLL_SECONDS))

  def _retire(self, child: ComputationProcess) -> None:
    """Kills a failed child, forgets its sessions and replaces it."""
    child.kill()
    with self._cond:
      if child in self._children:
        self._children.remove(child)
      for session in [s for s, c in self._sessions.items() if c is child]:
        del self._sessions[session]
      self.restarts += 1
      if not self._closed and not self._children and not self._starting:
        self._spawn()
      self._cond.notify_all()

  def _spawn(self) -> None:
    """Starts a child in the background; call with the lock held."""
    self._starting += 1
    threading.Thread(target=self._start_child, daemon=True,
                     name='tffx-computation-start').start()

  def _start_child(self) -> None:
    child = None
    try:
      child = ComputationProcess(self._config)
      child.wait_ready(START_TIMEOUT_SECONDS)
    except (OSError, RuntimeError) as e:
      logging.error('Cannot start a computation process: %s', e)
      child = None
    with self._cond:
      self._starting -= 1
      if child is not None:
        if self._closed:
          child.kill()
        else:
          self._children.append(child)
      self._cond.notify_all()

  def close(self) -> None:
    """Kills every child."""
    with self._cond:
      self._closed = True
      children, self._children = self._children, []
      self._sessions.clear()
      self._cond.notify_all()
    for child in children:
      child.kill()
