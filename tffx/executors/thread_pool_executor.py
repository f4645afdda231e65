"""`ThreadPoolExecutor`: the interpreter with client work on a thread pool.

    ThreadPoolExecutor().run(comp, arg, num_clients)
      `-- Interpreter(ThreadPoolStrategy(scheduler, n), tensorflow,
                      analyse(comp)).run(comp, arg)

It computes what the reference executor computes (differential tests check
it) and differs in its client strategy: lazy, fused, chunked client work
(`thread_pool_strategy`, `client_scheduler`). This module loads each graph
once per block, with its batched version when `ir_analysis` found one, after
`dataset_reduce_rewrite` (a `dataset.reduce` becomes an iterator loop that
TensorFlow does not re-instantiate per call), and runs it on the current
thread's device: chunks run round-robin on `client_devices`, the rest on
`server_device`. It does not convert Python values (`execution_context`).
"""

import functools
import threading
import weakref
from typing import Any, Callable, Optional, Sequence

from tffx.computations import building_blocks as bb
from tffx.executors import client_scheduler
from tffx.executors import client_strategy
from tffx.executors import dataset_reduce_rewrite
from tffx.executors import executor_base
from tffx.executors import interpreter
from tffx.executors import ir_analysis
from tffx.executors import tensorflow_runner
from tffx.executors import thread_pool_strategy


class ThreadPoolExecutor(executor_base.Executor):
  """Evaluates computations with client work on a bounded thread pool.

  Args:
    max_concurrent_computation_calls: The number of threads doing client
      work, hence of chunks of clients (and TensorFlow calls) in flight at
      once. None or a non-positive value (TFF's "no limit") means one per
      CPU core.
    client_devices: TensorFlow devices for client work, e.g.
      ['/device:GPU:0', '/device:GPU:1'], used round-robin by chunk; empty
      for TensorFlow's default placement.
    server_device: The TensorFlow device of server work, or None.
    clients_per_chunk: Clients per pool task; None chooses per call (see
      `client_scheduler`).
    load_tensorflow: Turns a `TensorFlow` block into a callable of one
      executor value; defaults to `tensorflow_runner.load`. Runners get the
      chunk's device; tests may return Python stand-ins.
  """

  def __init__(self,
               max_concurrent_computation_calls: Optional[int] = None,
               client_devices: Sequence[str] = (),
               server_device: Optional[str] = None,
               clients_per_chunk: Optional[int] = None,
               load_tensorflow: Callable[[bb.TensorFlow], Callable] = (
                   tensorflow_runner.load)):
    if max_concurrent_computation_calls is None or (
        max_concurrent_computation_calls <= 0):
      max_concurrent_computation_calls = (
          client_scheduler.default_max_concurrent_calls())
    if clients_per_chunk is not None and clients_per_chunk < 1:
      raise ValueError(f'Expected clients_per_chunk to be a positive int or '
                       f'None, found {clients_per_chunk!r}.')
    self._scheduler = client_scheduler.ClientScheduler(
        max_concurrent_computation_calls, client_devices, server_device,
        clients_per_chunk)
    self._load_tensorflow = load_tensorflow
    self._functions = weakref.WeakKeyDictionary()  # TensorFlow block -> fn
    self._lock = threading.Lock()
    self._closed = False

  @property
  def max_concurrent_computation_calls(self) -> int:
    return self._scheduler.max_concurrent_calls

  def run(self, comp: bb.ComputationBuildingBlock, arg: Any,
          num_clients: int) -> Any:
    if self._closed:
      raise RuntimeError('This ThreadPoolExecutor is closed. Tip: create a '
                         'new one (or a new execution context).')
    executor_base.check_num_clients(num_clients)
    analysis = ir_analysis.analyse(comp)
    strategy = thread_pool_strategy.ThreadPoolStrategy(self._scheduler,
                                                       num_clients)
    return interpreter.Interpreter(
        strategy, functools.partial(self._tensorflow, analysis),
        analysis).run(comp, arg)

  def _tensorflow(self, analysis: ir_analysis.Analysis,
                  block: bb.TensorFlow) -> client_strategy.Function:
    """The block's function, loaded once per block, with its batched form."""
    with self._lock:
      fn = self._functions.get(block)
    if fn is None:
      batched = analysis.batched(block)
      fn = client_strategy.TensorFlowFunction(
          block, self._on_device(dataset_reduce_rewrite.rewrite_block(block)),
          None if batched is None else self._on_device(batched))
      with self._lock:
        self._functions[block] = fn
    return fn

  def _on_device(self, block: bb.TensorFlow) -> Callable[[Any], Any]:
    fn = self._load_tensorflow(block)
    if not isinstance(fn, tensorflow_runner.Runner):
      return fn
    return lambda arg: fn(arg, device=self._scheduler.current_device())

  def close(self) -> None:
    self._closed = True
    self._scheduler.close()
