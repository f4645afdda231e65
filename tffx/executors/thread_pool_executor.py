"""`ThreadPoolExecutor`: the interpreter with client work on a thread pool.

    ThreadPoolExecutor().run(comp, arg, num_clients)
      `-- Interpreter(ThreadPoolStrategy(scheduler, n), tensorflow,
                      analyse(comp)).run(comp, arg)

It computes what the reference executor computes (differential tests check
it) and differs in its client strategy: lazy, fused, chunked client work
(`thread_pool_strategy`, `client_scheduler`). This module loads each graph
once per block, with its batched version when `ir_analysis` found one and
(with `vectorize_clients`, the default) its vectorized form
(`vectorized_computation.for_map`, analysed once per computation when a
map first asks for it), after
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
from tffx.executors import vectorized_computation


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
    vectorize_clients: Whether `federated_map` of a TensorFlow computation
      runs many clients in one TensorFlow call (one per client device and
      chunk) where `vectorized_computation` can vectorize it; results then
      agree with client-by-client calls to float rounding, not bit for bit.
      False calls it client by client. Off with Python stand-in loaders.
    max_clients_per_vectorized_call: The most clients in one vectorized
      call (bounds memory).
  """

  def __init__(self,
               max_concurrent_computation_calls: Optional[int] = None,
               client_devices: Sequence[str] = (),
               server_device: Optional[str] = None,
               clients_per_chunk: Optional[int] = None,
               load_tensorflow: Callable[[bb.TensorFlow], Callable] = (
                   tensorflow_runner.load),
               vectorize_clients: bool = True,
               max_clients_per_vectorized_call: int = (
                   vectorized_computation.DEFAULT_MAX_CLIENTS_PER_CALL)):
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
    if max_clients_per_vectorized_call < 1:
      raise ValueError(f'Expected max_clients_per_vectorized_call to be a '
                       f'positive int, found '
                       f'{max_clients_per_vectorized_call!r}.')
    self._load_tensorflow = load_tensorflow
    # Vectorizing needs real graphs: not with Python stand-ins for them.
    self._clients_per_vectorized_call = (
        max_clients_per_vectorized_call if vectorize_clients and
        load_tensorflow is tensorflow_runner.load else None)
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
    """The block's function, loaded once per block, with its batched form
    and (analysed when first asked for) its vectorized form."""
    with self._lock:
      fn = self._functions.get(block)
    if fn is None:
      batched = analysis.batched(block)
      per_call = self._clients_per_vectorized_call
      fn = client_strategy.TensorFlowFunction(
          block, self._on_device(dataset_reduce_rewrite.rewrite_block(block)),
          None if batched is None else self._on_device(batched),
          None if per_call is None else functools.partial(
              vectorized_computation.for_map, block, per_call))
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
