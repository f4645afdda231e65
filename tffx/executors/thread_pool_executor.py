"""`ThreadPoolExecutor`: evaluates the IR fast, with client work on a pool.

It computes exactly what the reference executor computes (differential
tests check it on the same programs) and differs in how:

    ThreadPoolExecutor().run(comp, arg, num_clients)
      `-- _Interpreter.eval          the reference's loop over blocks, where
            |-- Intrinsic            a handler of `thread_pool_intrinsics`:
            |   |-- federated_map,   ...client values are lazy
            |   |   zip, eval,       (`lazy_client_values`): computed when a
            |   |   select           sink consumes them, chunk by chunk on
            |   |                    the thread pool (`client_scheduler`)
            |   `-- aggregations     ...stream in client order into running
            |                        accumulators (`aggregation_streams`)
            `-- TensorFlow           `tensorflow_runner.load` once per graph,
                                     on the chunk's device

Optimizations, and when each applies:

1. Fusion: a `federated_map` (or zip, eval, select) is computed inside the
   aggregation that consumes it, so `federated_mean(federated_map(f, x))`
   adds each client's result to a running sum as it is computed and no
   list of mapped values exists. A value consumed several times keeps its
   members (see `lazy_client_values`); a value nothing consumes is never
   computed (so errors it would raise are not raised either).
2. Chunks: clients are split into chunks, one pool task per chunk, at most
   `max_concurrent_computation_calls` in flight, so the per-client cost of
   the orchestration is a loop iteration and memory is bounded by the
   chunk size, whatever the number of clients.
3. Batched maps: `federated_map` of a TensorFlow computation made only of
   element-wise ops, over clients whose members stack (same shapes), runs
   the graph once per chunk on the stacked members
   (`batched_computation`). Otherwise, or if the batched call fails, the
   computation is called per client.
4. Dataset reductions: graphs are loaded after `dataset_reduce_rewrite`,
   which turns `dataset.reduce` into an iterator loop that TensorFlow does
   not re-instantiate on every call (~5x faster client training).
5. Vectorized clients (`vectorize_clients`, on by default): any other
   `federated_map` of a TensorFlow computation that `vectorized_computation`
   can vectorize (a client update reducing over its dataset included) runs
   as one TensorFlow call per chunk, with one chunk per client device.
   Results agree with per-client calls to float rounding, not bit for bit.

Devices: chunks run round-robin on `client_devices`; everything else
(server work, `federated_aggregate`'s merge and report) on
`server_device`. `federated_aggregate` accumulates each chunk from `zero`
and merges the chunks' accumulators in client order with `merge`, the
contract TFF states for these functions (`zero` an identity of `merge`);
the reference never calls `merge`, and the differential tests check that
both agree. Errors raised by a client's computation keep their class and
say which intrinsic, computation and client failed.

This module does not convert Python values (see `execution_context`).
"""

import functools
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence

from tffx.computations import building_blocks as bb
from tffx.executors import batched_computation
from tffx.executors import client_scheduler
from tffx.executors import dataset_reduce_rewrite
from tffx.executors import environment
from tffx.executors import errors
from tffx.executors import executor_base
from tffx.executors import lazy_client_values
from tffx.executors import tensorflow_runner
from tffx.executors import thread_pool_intrinsics as intrinsics
from tffx.executors import vectorized_computation
from tffx.types import computation_types as ct
from tffx.types import structure

LazyClientValue = lazy_client_values.LazyClientValue
_MAX_CACHED = 4096


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
      runs for many clients in one TensorFlow call where it can (see
      `vectorized_computation`); False calls it client by client.
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
    # Vectorizing needs real graphs: not with Python stand-ins for them.
    vectorize = (vectorize_clients and
                 load_tensorflow is tensorflow_runner.load)
    self._caches = _Caches(
        load_tensorflow, self._scheduler,
        max_clients_per_vectorized_call if vectorize else None)
    self._closed = False

  @property
  def max_concurrent_computation_calls(self) -> int:
    return self._scheduler.max_concurrent_calls

  def run(self, comp: bb.ComputationBuildingBlock, arg: Any,
          num_clients: int) -> Any:
    if self._closed:
      raise RuntimeError('This ThreadPoolExecutor is closed. Tip: create a '
                         'new one (or a new execution context).')
    if num_clients < 0:
      raise errors.ClientCountError(
          f'Expected a non-negative number of clients, found {num_clients}.')
    interpreter = _Interpreter(self._scheduler, self._caches, num_clients)
    fn = interpreter.eval(comp, environment.Environment())
    result = fn(interpreter.functions_to_callables(arg))
    return interpreter.materialize(result)

  def close(self) -> None:
    self._closed = True
    self._scheduler.close()


# ---------------------------------------------------------------------------
# Function values.


class _TensorFlowFunction:
  """A loaded TensorFlow block, run on the current thread's device."""

  accepts_lazy = False

  def __init__(self, block: bb.TensorFlow, caches: '_Caches'):
    self.name = block.name or 'tensorflow'
    self._block = block
    self._caches = caches
    self._fn = caches.load(dataset_reduce_rewrite.rewrite_block(block))
    self._batched = None
    self._batched_known = False
    self._vectorized = None
    self._vectorized_known = False

  def __call__(self, arg: Any) -> Any:
    return self._caches.call(self._fn, arg)

  def describe(self) -> str:
    return self.name

  def batched(self) -> Optional[Callable[[Any], Any]]:
    """Runs the graph on stacked arguments, if it is element-wise."""
    if not self._batched_known:
      block = batched_computation.to_batched(self._block)
      fn = None if block is None else self._caches.load(block)
      self._batched = None if fn is None else functools.partial(
          self._caches.call, fn)
      self._batched_known = True
    return self._batched

  def vectorized(self) -> Optional[vectorized_computation.
                                    VectorizedComputation]:
    """Runs the graph for many clients at once, if it can be vectorized."""
    if not self._vectorized_known:
      per_call = self._caches.max_clients_per_vectorized_call
      if per_call is not None:
        self._vectorized = vectorized_computation.for_map(
            self._block, per_call)
      self._vectorized_known = True
    return self._vectorized


class _Closure:
  """A `Lambda` with its environment; binding its parameter counts uses."""

  accepts_lazy = True
  __slots__ = ('_interpreter', '_block', '_env')

  def __init__(self, interpreter: '_Interpreter', block: bb.Lambda,
               env: environment.Environment):
    self._interpreter = interpreter
    self._block = block
    self._env = env

  def __call__(self, arg: Any) -> Any:
    env = self._env
    name = self._block.parameter_name
    if name is not None:
      self._interpreter.bind(arg, self._block.parameter_type,
                             self._interpreter.caches.parameter_uses(
                                 self._block))
      env = env.bind(name, arg)
    return self._interpreter.eval(self._block.result, env)

  def describe(self) -> str:
    text = self._block.compact_representation()
    return text if len(text) <= 60 else text[:57] + '...'


class _IntrinsicFunction:
  """An intrinsic as a function value; `accepts_lazy` for client handlers."""

  __slots__ = ('accepts_lazy', '_handler', '_interpreter', '_call')

  def __init__(self, handler, accepts_lazy: bool, interpreter,
               call: intrinsics.Call):
    self.accepts_lazy = accepts_lazy
    self._handler = handler
    self._interpreter = interpreter
    self._call = call

  def __call__(self, arg: Any) -> Any:
    return self._handler(self._interpreter, arg, self._call)


# ---------------------------------------------------------------------------
# Caches shared by the runs of one executor.


class _Caches:
  """Loaded TensorFlow functions and use counts, by building block."""

  def __init__(self, load_tensorflow, scheduler,
               max_clients_per_vectorized_call: Optional[int]):
    self._load_tensorflow = load_tensorflow
    self._scheduler = scheduler
    # None: no vectorized client calls.
    self.max_clients_per_vectorized_call = max_clients_per_vectorized_call
    self._functions: Dict[tuple, tuple] = {}
    self._uses: Dict[int, tuple] = {}
    self._lock = threading.Lock()

  def load(self, block: bb.TensorFlow) -> Callable:
    return self._load_tensorflow(block)

  def call(self, fn: Callable, arg: Any) -> Any:
    if isinstance(fn, tensorflow_runner.Runner):
      return fn(arg, device=self._scheduler.current_device())
    return fn(arg)

  def function(self, block: bb.TensorFlow) -> _TensorFlowFunction:
    key = (id(block.proto), block.type_signature)
    entry = self._functions.get(key)
    if entry is None or entry[0] is not block.proto:
      entry = (block.proto, _TensorFlowFunction(block, self))
      with self._lock:
        if len(self._functions) >= _MAX_CACHED:
          self._functions.clear()
        # Holding the proto keeps its id from being reused.
        self._functions[key] = entry
    return entry[1]

  def _cached_uses(self, block, count) -> Any:
    entry = self._uses.get(id(block))
    if entry is None or entry[0] is not block:
      entry = (block, count(block))
      with self._lock:
        if len(self._uses) >= _MAX_CACHED:
          self._uses.clear()
        self._uses[id(block)] = entry
    return entry[1]

  def local_uses(self, block: bb.Block) -> List[Optional[int]]:
    return self._cached_uses(block, _local_uses)

  def parameter_uses(self, block: bb.Lambda) -> Optional[int]:
    return self._cached_uses(block, _parameter_uses)


def _count_references(expr, scope: Dict[str, int], counts: list,
                      under_lambda: bool) -> None:
  """Adds to `counts[slot]` the references to each name `scope` tracks.

  A reference inside a nested `Lambda` makes the count None (unknown: the
  lambda may run any number of times). Rebinding a name hides it.
  """
  if isinstance(expr, bb.Reference):
    slot = scope.get(expr.name, -1)
    if slot >= 0:
      counts[slot] = None if (under_lambda or counts[slot] is None) else (
          counts[slot] + 1)
  elif isinstance(expr, bb.Lambda):
    inner = dict(scope)
    if expr.parameter_name is not None:
      inner[expr.parameter_name] = -1
    _count_references(expr.result, inner, counts, True)
  elif isinstance(expr, bb.Block):
    inner = dict(scope)
    for name, value in expr.locals:
      _count_references(value, inner, counts, under_lambda)
      inner[name] = -1
    _count_references(expr.result, inner, counts, under_lambda)
  else:
    for child in expr.children():
      _count_references(child, scope, counts, under_lambda)


def _local_uses(block: bb.Block) -> List[Optional[int]]:
  """How many times each local is referred to; None if not knowable."""
  counts = [0] * len(block.locals)
  scope = {}
  for i, (name, value) in enumerate(block.locals):
    _count_references(value, scope, counts, False)
    scope = dict(scope)
    scope[name] = i
  _count_references(block.result, scope, counts, False)
  return counts


def _parameter_uses(block: bb.Lambda) -> Optional[int]:
  counts = [0]
  _count_references(block.result, {block.parameter_name: 0}, counts, False)
  return counts[0]


def _has_federated(type_spec: Optional[ct.Type]) -> bool:
  if isinstance(type_spec, ct.FederatedType):
    return True
  if isinstance(type_spec, ct.StructType):
    return any(_has_federated(t) for t in type_spec)
  return False


# ---------------------------------------------------------------------------
# The interpreter.


class _Interpreter:
  """Evaluates building blocks for one `run`, with a fixed number of clients."""

  def __init__(self, scheduler: client_scheduler.ClientScheduler,
               caches: _Caches, num_clients: int):
    self.scheduler = scheduler
    self.caches = caches
    self.num_clients = num_clients

  def eval(self, block: bb.ComputationBuildingBlock,
           env: environment.Environment) -> Any:
    if isinstance(block, bb.Reference):
      return env.lookup(block.name)
    if isinstance(block, bb.Selection):
      return self.eval(block.source, env)[block.index]
    if isinstance(block, bb.Struct):
      return structure.Struct([(n, self.eval(v, env))
                               for n, v in block.items()])
    if isinstance(block, bb.Call):
      fn = self.eval(block.function, env)
      arg = None if block.argument is None else self.eval(block.argument, env)
      if not getattr(fn, 'accepts_lazy', False):
        arg = self.materialize(arg)
      return fn(arg)
    if isinstance(block, bb.Lambda):
      return _Closure(self, block, env)
    if isinstance(block, bb.Block):
      uses = self.caches.local_uses(block)
      for (name, value), count in zip(block.locals, uses):
        result = self.eval(value, env)
        self.bind(result, value.type_signature, count)
        env = env.bind(name, result)
      return self.eval(block.result, env)
    if isinstance(block, bb.Intrinsic):
      if block.uri in intrinsics.CLIENT_HANDLERS:
        handler, accepts_lazy = intrinsics.CLIENT_HANDLERS[block.uri], True
      elif block.uri in intrinsics.HANDLERS:
        handler, accepts_lazy = intrinsics.HANDLERS[block.uri], False
      else:
        known = intrinsics.HANDLERS.keys() | intrinsics.CLIENT_HANDLERS.keys()
        raise ValueError(f'Unknown intrinsic uri {block.uri!r}; expected one '
                         f'of {sorted(known)}.')
      call = intrinsics.Call(block.uri, block.type_signature,
                             self.num_clients)
      return _IntrinsicFunction(handler, accepts_lazy, self, call)
    if isinstance(block, bb.TensorFlow):
      return self.caches.function(block)
    if isinstance(block, bb.Literal):
      return block.value
    if isinstance(block, bb.Placement):
      return block.placement
    if isinstance(block, bb.Data):
      raise NotImplementedError(
          f'The thread-pool executor cannot resolve data<{block.uri}>.')
    raise TypeError(f'Unknown building block {type(block).__name__}.')

  def bind(self, value: Any, type_spec: Optional[ct.Type],
           uses: Optional[int]) -> None:
    """Records that a name bound to `value` is referred to `uses` times."""
    if not _has_federated(type_spec):
      return
    nodes = _lazy_nodes(value)
    if uses is None:
      lazy_client_values.materialize(self.scheduler, nodes)
    else:
      for node in nodes:
        node.uses += uses - 1

  def materialize(self, value: Any) -> Any:
    """`value` with every lazy client value computed."""
    # Each node once, however often the value holds it.
    nodes = list({id(n): n for n in _lazy_nodes(value)}.values())
    if not nodes:
      return value
    computed = dict(
        zip(map(id, nodes),
            lazy_client_values.materialize(self.scheduler, nodes)))

    def replace(v):
      if isinstance(v, LazyClientValue):
        return computed[id(v)]
      if isinstance(v, structure.Struct):
        return structure.Struct([(n, replace(e)) for n, e in v.items()])
      return v

    return replace(value)

  def stream(self, roots: list, fold: Callable[[int, Any], None],
             reduce_chunk=None) -> None:
    lazy_client_values.stream(self.scheduler, roots, fold, reduce_chunk)

  def functions_to_callables(self, value: Any) -> Any:
    """Evaluates the computations (building blocks) inside an argument."""
    if isinstance(value, bb.ComputationBuildingBlock):
      return self.eval(value, environment.Environment())
    if isinstance(value, structure.Struct):
      return structure.Struct([(n, self.functions_to_callables(v))
                               for n, v in value.items()])
    return value


def _lazy_nodes(value: Any) -> List[LazyClientValue]:
  if isinstance(value, LazyClientValue):
    return [value]
  if isinstance(value, structure.Struct):
    return [node for v in value for node in _lazy_nodes(v)]
  return []
