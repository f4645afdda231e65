"""`ClientScheduler`: runs client work on a bounded thread pool, in chunks.

    scheduler.run(num_clients, work, fold)

      clients  0 ........................................ n
      chunks   [0,c) [c,2c) [2c,3c) ...       work(start, stop) on a pool
                  |     |      |                thread, one chunk per task,
                  v     v      v                on the next client device
      main     fold(0, r0) fold(c, r1) ...      in client order

At most `max_concurrent_calls` chunks are in flight at once, and a chunk is
only submitted when an earlier one has been folded, so at most
`max_concurrent_calls + 1` chunk results exist at any time however many
clients there are: memory is bounded by the chunk size, not the round size.
Each thread gets at least four chunks, of sizes differing by at most one
(balance), and no chunk holds more than ~8 MiB of known-size values or 256
clients (memory); values of unknown size (datasets) get at most 16 clients
per chunk. Work on values that exist already (e.g. adding known client
values) asks for one chunk per thread instead (`one_chunk_per_thread`):
its chunks cost the same, and each chunk has a fixed cost; known values of
less than ~8 MiB per thread stay in fewer chunks.

Folding in client order on the calling thread keeps aggregations exact:
sums add clients in the same order as the reference executor does.

Devices: chunk k runs on `client_devices[k % len(client_devices)]`
(round-robin); `current_device()` tells code running in a chunk where it
is, and is the server device outside chunks. A failure in a chunk cancels
the chunks not started, waits for those running, and reaches the caller
when its chunk's turn to be folded comes, so the error is the one of the
first failing client in order and the pool is idle and reusable afterwards.

This module knows nothing of computations: `work` and `fold` are plain
callables.
"""

import collections
import concurrent.futures
import contextlib
import math
import os
import threading
from typing import Any, Callable, Iterator, List, Optional, Sequence

_MAX_CLIENTS_PER_CHUNK = 256
_CHUNK_BYTES = 8 << 20
_UNKNOWN_SIZE_CLIENTS_PER_CHUNK = 16
_CHUNKS_PER_THREAD = 4


def default_max_concurrent_calls() -> int:
  """One concurrent call per CPU core."""
  return os.cpu_count() or 1


class ClientScheduler:
  """Runs per-client work in chunks on a thread pool.

  Args:
    max_concurrent_calls: The number of pool threads, hence of chunks (and
      TensorFlow calls) in flight at once; a positive int.
    client_devices: Devices for client work, used round-robin by chunk;
      empty for TensorFlow's default placement.
    server_device: The device of work outside chunks, or None.
    clients_per_chunk: A fixed chunk size, or None to choose it per run
      (see the module docstring).
  """

  def __init__(self, max_concurrent_calls: int,
               client_devices: Sequence[str] = (),
               server_device: Optional[str] = None,
               clients_per_chunk: Optional[int] = None):
    self._max_concurrent_calls = max_concurrent_calls
    self._client_devices = tuple(client_devices) or (None,)
    self._server_device = server_device
    self._clients_per_chunk = clients_per_chunk
    self._pool = None
    self._pool_lock = threading.Lock()
    self._local = threading.local()

  @property
  def max_concurrent_calls(self) -> int:
    return self._max_concurrent_calls

  @property
  def client_devices(self) -> tuple:
    return self._client_devices

  @property
  def server_device(self) -> Optional[str]:
    return self._server_device

  def current_device(self) -> Optional[str]:
    """The device of the work running in this thread (None: TF's default)."""
    return getattr(self._local, 'device', self._server_device)

  @contextlib.contextmanager
  def device_scope(self, device: Optional[str]) -> Iterator[None]:
    """Makes `device` the current device of this thread inside the block."""
    previous = self.current_device()
    self._local.device = device
    try:
      yield
    finally:
      self._local.device = previous

  def chunk_bounds(self, num_clients: int,
                   bytes_per_client: Optional[int] = None,
                   one_chunk_per_thread: bool = False,
                   clients_per_call: Optional[int] = None) -> List[int]:
    """Where chunks start, then `num_clients`: chunk k is [b[k], b[k + 1]).

    Without a fixed chunk size there are at least `_CHUNKS_PER_THREAD`
    chunks per thread (balance) and enough chunks to respect the size caps
    (memory), of sizes differing by at most one; or, if
    `one_chunk_per_thread`, one chunk per thread. Work vectorized or
    batched over clients (`clients_per_call`) gets one chunk per client
    device instead, or more if a device's share exceeds `clients_per_call`
    or the size cap.
    """
    if self._clients_per_chunk is not None:
      return list(range(0, num_clients, self._clients_per_chunk)) + [
          num_clients]
    if clients_per_call is not None:
      if bytes_per_client is not None:
        clients_per_call = max(1, min(clients_per_call, _CHUNK_BYTES // max(
            bytes_per_client, 1)))
      count = min(num_clients, max(math.ceil(num_clients / clients_per_call),
                                   len(self._client_devices)))
      return [num_clients * k // count for k in range(count)] + [num_clients]
    if one_chunk_per_thread:
      # A thread takes a share of at least ~8 MiB: below that, handing it
      # over and merging its result cost more than it saves.
      worth = self._max_concurrent_calls if bytes_per_client is None else (
          num_clients * bytes_per_client // _CHUNK_BYTES)
      count = min(num_clients, self._max_concurrent_calls, max(worth, 1))
    else:
      cap = _UNKNOWN_SIZE_CLIENTS_PER_CHUNK if bytes_per_client is None else (
          max(1, min(_MAX_CLIENTS_PER_CHUNK,
                     _CHUNK_BYTES // max(bytes_per_client, 1))))
      count = min(num_clients, max(
          math.ceil(num_clients / cap),
          _CHUNKS_PER_THREAD * self._max_concurrent_calls))
    return [num_clients * k // count for k in range(count)] + [num_clients]

  def run(self, num_clients: int, work: Callable[[int, int], Any],
          fold: Callable[[int, Any], None],
          bytes_per_client: Optional[int] = None,
          device: Optional[str] = None,
          one_chunk_per_thread: bool = False,
          clients_per_call: Optional[int] = None) -> None:
    """Runs `work(start, stop)` over chunks of clients, folding in order.

    Args:
      num_clients: The clients are 0 .. num_clients - 1.
      work: Computes a chunk's result; runs on a pool thread.
      fold: `fold(start, result)` consumes a chunk's result; runs on the
        calling thread, in client order.
      bytes_per_client: The size of one client's values, if known; bounds
        the chunk size.
      device: Run every chunk on this device instead of the client devices
        (e.g. server work done per client).
      one_chunk_per_thread: Split the clients into one chunk per thread
        (see `chunk_bounds`).
      clients_per_call: Set when the work is vectorized over clients: see
        `chunk_bounds`.

    Raises:
      Whatever `work` or `fold` raises, for the first failing chunk.
    """
    bounds = self.chunk_bounds(num_clients, bytes_per_client,
                               one_chunk_per_thread, clients_per_call)
    starts = bounds[:-1]
    devices = (device,) if device is not None else self._client_devices

    def task(k: int) -> Any:
      return self._run_chunk(work, bounds[k], bounds[k + 1],
                             devices[k % len(devices)])

    if len(starts) <= 1 or getattr(self._local, 'in_worker', False):
      # Work started from a pool thread runs inline: waiting for the pool
      # from one of its own threads could deadlock.
      for k, start in enumerate(starts):
        fold(start, task(k))
      return
    pool = self._get_pool()
    pending = collections.deque()
    next_chunk = 0
    try:
      while next_chunk < min(len(starts), self._max_concurrent_calls):
        pending.append(pool.submit(task, next_chunk))
        next_chunk += 1
      for start in starts:
        result = pending.popleft().result()
        if next_chunk < len(starts):
          pending.append(pool.submit(task, next_chunk))
          next_chunk += 1
        fold(start, result)
        del result
    except BaseException:
      for future in pending:
        future.cancel()
      concurrent.futures.wait(pending)
      raise

  def _run_chunk(self, work, start: int, stop: int,
                 device: Optional[str]) -> Any:
    was_in_worker = getattr(self._local, 'in_worker', False)
    self._local.in_worker = True
    try:
      with self.device_scope(device):
        return work(start, stop)
    finally:
      self._local.in_worker = was_in_worker

  def _get_pool(self) -> concurrent.futures.ThreadPoolExecutor:
    with self._pool_lock:
      if self._pool is None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self._max_concurrent_calls,
            thread_name_prefix='tffx-client')
      return self._pool

  def close(self) -> None:
    """Stops the pool threads once their work is done."""
    with self._pool_lock:
      pool, self._pool = self._pool, None
    if pool is not None:
      pool.shutdown(wait=True)
