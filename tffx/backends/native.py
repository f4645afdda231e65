"""The native backend: local execution contexts on the thread-pool executor.

    tffx.backends.native.set_local_execution_context(
        max_concurrent_computation_calls=8,
        server_device='/device:CPU:0',
        client_devices=['/device:GPU:0', '/device:GPU:1'],
        default_num_clients=10)

    with tffx.backends.native.create_local_execution_context() as context:
      comp(...)

This is tffx's default backend (`create_local_execution_context` with no
arguments is the default context factory). Client work runs concurrently
on a pool of `max_concurrent_computation_calls` threads, spread round-robin
over `client_devices` (GPUs or TPU cores); server work runs on
`server_device`; ops without a kernel on a device (dataset and iterator
ops on accelerators) run on the CPU. Results equal the reference
backend's; see `tffx.executors.thread_pool_executor` for how it is faster.
"""

import asyncio
import functools
import threading
from typing import Any, Coroutine, Optional, Sequence

import tensorflow as tf

from tffx.backends import mergeable_comp_execution_context
from tffx.backends.mapreduce import mergeable_comp_compiler
from tffx.computations import context_stack
from tffx.executors import execution_context
from tffx.executors import thread_pool_executor


def _check_device(device: str, what: str) -> str:
  """Returns `device` in canonical form ('/device:GPU:1'), if it exists.

  Raises:
    ValueError: if `device` is not a device name, or not a logical device
      of this process.
  """
  try:
    spec = tf.DeviceSpec.from_string(device)
  except (TypeError, ValueError) as e:
    raise ValueError(f'Expected {what} to be a TensorFlow device name such as '
                     f"'/device:GPU:0', found {device!r}.") from e
  if spec.device_type is None:
    raise ValueError(f'Expected {what} to name a device type and index such '
                     f"as '/device:GPU:0', found {device!r}.")
  spec = spec.replace(device_index=spec.device_index or 0)
  available = tf.config.list_logical_devices()
  for logical in available:
    other = tf.DeviceSpec.from_string(logical.name)
    if (other.device_type, other.device_index) == (spec.device_type,
                                                   spec.device_index):
      return f'/device:{spec.device_type}:{spec.device_index}'
  raise ValueError(
      f'Expected {what} to be a logical device of this process, one of '
      f'{[d.name for d in available]}; found {device!r}. Tip: to split a '
      f'CPU or GPU into several, call tf.config.set_logical_device_'
      f'configuration before TensorFlow initializes its devices (before '
      f'creating this context).')


def create_local_execution_context(
    default_num_clients: int = 0,
    max_concurrent_computation_calls: Optional[int] = None,
    server_device: Optional[str] = None,
    client_devices: Optional[Sequence[str]] = None,
    vectorize_clients: bool = True,
) -> execution_context.ExecutionContext:
  """Returns an execution context that runs on the thread-pool executor.

  The context is also a context manager that makes itself current.

  Args:
    default_num_clients: The number of clients of a computation whose
      argument has no client values to count.
    max_concurrent_computation_calls: How many chunks of client work (hence
      TensorFlow calls) run at once; None or a non-positive value means one
      per CPU core. It bounds memory as well as concurrency.
    server_device: The device of server work, e.g. '/device:CPU:0'; None
      leaves placement to TensorFlow.
    client_devices: Devices for client work, used round-robin; None or
      empty leaves placement to TensorFlow.
    vectorize_clients: Whether a `federated_map` of a TensorFlow computation
      runs many clients in one TensorFlow call (one per client device)
      where the computation allows it; results then agree with client by
      client execution to float rounding. False runs client by client.

  Raises:
    ClientCountError: if `default_num_clients` is negative.
    ValueError: if a device is not a logical device of this process.
    TypeError: if `max_concurrent_computation_calls` is not an int or None.
  """
  if max_concurrent_computation_calls is not None and (
      not isinstance(max_concurrent_computation_calls, int) or
      isinstance(max_concurrent_computation_calls, bool)):
    raise TypeError(f'Expected max_concurrent_computation_calls to be an int '
                    f'or None, found {max_concurrent_computation_calls!r}.')
  if isinstance(client_devices, str):
    raise TypeError(f'Expected client_devices to be a list of device names, '
                    f'found the string {client_devices!r}. Tip: write '
                    f'[{client_devices!r}].')
  if server_device is not None:
    server_device = _check_device(server_device, 'server_device')
  client_devices = [
      _check_device(d, f'client_devices[{i}]')
      for i, d in enumerate(client_devices or ())
  ]
  factory = functools.partial(
      thread_pool_executor.ThreadPoolExecutor,
      max_concurrent_computation_calls=max_concurrent_computation_calls,
      client_devices=client_devices,
      server_device=server_device,
      vectorize_clients=vectorize_clients)
  return execution_context.ExecutionContext(
      factory, default_num_clients=default_num_clients)


def set_local_execution_context(
    default_num_clients: int = 0,
    max_concurrent_computation_calls: Optional[int] = None,
    server_device: Optional[str] = None,
    client_devices: Optional[Sequence[str]] = None,
    vectorize_clients: bool = True) -> None:
  """Makes a local execution context the default for every thread.

  Args: as in `create_local_execution_context`.

  Raises: as in `create_local_execution_context`.
  """
  context_stack.set_default_context(
      create_local_execution_context(
          default_num_clients=default_num_clients,
          max_concurrent_computation_calls=max_concurrent_computation_calls,
          server_device=server_device,
          client_devices=client_devices,
          vectorize_clients=vectorize_clients))


# TensorFlow Federated's names for its local C++ runtime. tffx has no C++
# worker: these are the thread-pool contexts above, so scripts written for
# TFF run unchanged. `stream_structs` splits large structs into pieces on the
# gRPC stream between TFF's Python process and its C++ worker; tffx passes
# values in process, so there is nothing to stream and the flag has no
# effect (it is still checked to be a bool).


def _check_stream_structs(stream_structs: bool) -> None:
  if not isinstance(stream_structs, bool):
    raise TypeError(f'Expected stream_structs to be a bool, found '
                    f'{stream_structs!r}.')


class AsyncExecutionContext(context_stack.Context):
  """An execution context whose calls return coroutines (as TFF's async one).

      result = await comp(x)

  It wraps a synchronous `ExecutionContext`; each call runs on a worker
  thread (`asyncio.to_thread`), so calls awaited together
  (`asyncio.gather`) run concurrently. It is also a context manager that
  makes itself current.
  """

  def __init__(self, sync_context: execution_context.ExecutionContext):
    if not isinstance(sync_context, execution_context.ExecutionContext):
      raise TypeError(f'Expected an ExecutionContext, found '
                      f'{type(sync_context).__name__}.')
    self._sync_context = sync_context
    self._managers = threading.local()

  @property
  def default_num_clients(self) -> int:
    return self._sync_context.default_num_clients

  def invoke(self, comp, arg: Any) -> Coroutine[Any, Any, Any]:
    """Returns a coroutine that runs `comp` on `arg` (see `ExecutionContext`)."""

    async def run_in_thread():
      return await asyncio.to_thread(self._sync_context.invoke, comp, arg)

    return run_in_thread()

  def __enter__(self) -> 'AsyncExecutionContext':
    manager = context_stack.with_context(self)
    manager.__enter__()
    if not hasattr(self._managers, 'stack'):
      self._managers.stack = []
    self._managers.stack.append(manager)
    return self

  def __exit__(self, exc_type, exc_value, traceback) -> None:
    self._managers.stack.pop().__exit__(exc_type, exc_value, traceback)


def create_sync_local_cpp_execution_context(
    default_num_clients: int = 0,
    max_concurrent_computation_calls: int = -1,
    stream_structs: bool = False) -> execution_context.ExecutionContext:
  """Returns a local execution context (TFF's name for it).

  Args:
    default_num_clients: As in `create_local_execution_context`.
    max_concurrent_computation_calls: How many pieces of client work run at
      once; nonpositive (the default, -1) means one per CPU core.
    stream_structs: Accepted for TFF compatibility; no effect in tffx.

  Raises:
    ClientCountError: if `default_num_clients` is negative.
    TypeError: if an argument has the wrong type.
  """
  _check_stream_structs(stream_structs)
  return create_local_execution_context(
      default_num_clients=default_num_clients,
      max_concurrent_computation_calls=max_concurrent_computation_calls)


def set_sync_local_cpp_execution_context(
    default_num_clients: int = 0,
    max_concurrent_computation_calls: int = -1,
    stream_structs: bool = False) -> None:
  """Makes `create_sync_local_cpp_execution_context(...)` the default context."""
  context_stack.set_default_context(
      create_sync_local_cpp_execution_context(
          default_num_clients=default_num_clients,
          max_concurrent_computation_calls=max_concurrent_computation_calls,
          stream_structs=stream_structs))


def create_async_local_cpp_execution_context(
    default_num_clients: int = 0,
    max_concurrent_computation_calls: int = -1,
    stream_structs: bool = False) -> AsyncExecutionContext:
  """Returns a local execution context whose calls return coroutines.

  Args: as in `create_sync_local_cpp_execution_context`.

  Raises: as in `create_sync_local_cpp_execution_context`.
  """
  _check_stream_structs(stream_structs)
  return AsyncExecutionContext(
      create_local_execution_context(
          default_num_clients=default_num_clients,
          max_concurrent_computation_calls=max_concurrent_computation_calls))


def set_async_local_cpp_execution_context(
    default_num_clients: int = 0,
    max_concurrent_computation_calls: int = -1,
    stream_structs: bool = False) -> None:
  """Makes `create_async_local_cpp_execution_context(...)` the default."""
  context_stack.set_default_context(
      create_async_local_cpp_execution_context(
          default_num_clients=default_num_clients,
          max_concurrent_computation_calls=max_concurrent_computation_calls,
          stream_structs=stream_structs))


# TFF's mergeable-comp contexts: a computation with one aggregation is split
# (`compile_to_mergeable_comp_form`) and its clients are spread over several
# contexts, whose partial aggregates are merged.
compile_to_mergeable_comp_form = (
    mergeable_comp_compiler.compile_to_mergeable_comp_form)


def create_mergeable_comp_execution_context(
    async_contexts: Sequence[context_stack.Context],
    num_subrounds: Optional[int] = None
) -> mergeable_comp_execution_context.MergeableCompExecutionContext:
  """Returns a context that compiles to and runs `MergeableCompForm`.

  Args:
    async_contexts: The contexts the subrounds run on (e.g. from
      `create_async_local_cpp_execution_context`; synchronous ones work too).
    num_subrounds: How many parts the clients are split into; default one
      per context.

  Raises:
    TypeError: if an argument has the wrong type.
  """
  return mergeable_comp_execution_context.MergeableCompExecutionContext(
      async_contexts,
      compiler_fn=mergeable_comp_compiler.compile_to_mergeable_comp_form,
      num_subrounds=num_subrounds)


def set_mergeable_comp_execution_context(
    async_contexts: Sequence[context_stack.Context],
    num_subrounds: Optional[int] = None) -> None:
  """Makes `create_mergeable_comp_execution_context(...)` the default context."""
  context_stack.set_default_context(
      create_mergeable_comp_execution_context(async_contexts,
                                              num_subrounds=num_subrounds))
