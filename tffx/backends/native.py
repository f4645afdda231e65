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

import functools
from typing import Optional, Sequence

import tensorflow as tf

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
