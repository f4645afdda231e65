"""The executor a worker runs its shard on: chosen by name.

    executor, name = create_worker_executor('auto', client_devices=[...])

    'thread_pool'  the fast local executor (clients run concurrently);
                   `tffx.executors.thread_pool_executor`
    'reference'    the reference executor (clients one after the other),
                   to check results
    'auto'         'thread_pool'

Devices: a worker only runs client work, so `client_devices` are where its
graphs run; the thread-pool executor spreads clients over them, the
reference executor uses the first. `server_device` is the thread-pool
executor's device for server-side work inside a request (the merge of a
`federated_aggregate`). Devices must exist when the
executor is created (see `tf.config.list_logical_devices`).

Workers never vectorize clients (`vectorize_clients=False`): a vectorized
call agrees with per-client calls only to float rounding, and remote
results stay bit-identical to the reference executor's.

This module only chooses and builds; it does not serve.
"""

import functools
from typing import Optional, Sequence, Tuple

import tensorflow as tf

from tffx.executors import executor_base
from tffx.executors import reference_executor
from tffx.executors import tensorflow_runner
from tffx.executors import thread_pool_executor

KINDS = ('auto', 'thread_pool', 'reference')


def create_worker_executor(
    kind: str = 'auto', client_devices: Sequence[str] = (),
    server_device: Optional[str] = None,
    max_concurrent_computation_calls: Optional[int] = None
) -> Tuple[executor_base.Executor, str]:
  """Returns `(executor, name)` for a worker.

  Args:
    kind: One of `KINDS`.
    client_devices: Devices for client work.
    server_device: The device of server work inside a request.
    max_concurrent_computation_calls: Threads of the thread-pool executor;
      None for one per CPU core.

  Raises:
    ValueError: for an unknown kind, or a device TensorFlow does not have.
  """
  if kind not in KINDS:
    raise ValueError(f'Expected an executor kind in {KINDS}, found {kind!r}.')
  check_devices(list(client_devices) + ([server_device] if server_device
                                         else []))
  if kind in ('auto', 'thread_pool'):
    executor = thread_pool_executor.ThreadPoolExecutor(
        max_concurrent_computation_calls=max_concurrent_computation_calls,
        client_devices=list(client_devices), server_device=server_device,
        vectorize_clients=False)
    return executor, 'thread_pool'
  load = tensorflow_runner.load
  if client_devices:
    load = functools.partial(_load_on_device, device=client_devices[0])
  return reference_executor.ReferenceExecutor(load), 'reference'


def _load_on_device(block, device: str):
  return functools.partial(tensorflow_runner.load(block), device=device)


def check_devices(devices: Sequence[str]) -> None:
  """Raises ValueError naming a device TensorFlow does not have."""
  if not devices:
    return
  known = {d.name for d in tf.config.list_logical_devices()}
  for device in devices:
    if tf.DeviceSpec.from_string(device).to_string() not in known and (
        device not in known):
      raise ValueError(f'Expected a device among {sorted(known)}, found '
                       f'{device!r}.')
