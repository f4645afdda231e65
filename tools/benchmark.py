"""Benchmarks of the native (thread-pool) backend, one JSON line per case.

    python tools/benchmark.py                       # every case
    python tools/benchmark.py --cases=map_mean,vec_sum --repeats=9
    bazel run //tools:benchmark -- --cases=fedavg_round

Cases (the sizes are fixed; the targets are 4x faster than TensorFlow
Federated 0.87's C++ runtime measured on the same 2-core machine type):

    map_mean      federated_mean(federated_map(add_one, x)), N scalar float32
                  clients, N = 100, 1,000, 10,000
    vec_sum       federated_sum of a 100,000-float32 vector per client, 10 and
                  100 clients; also the ratio to a NumPy sum of the arrays
    fedavg_round  one round of federated averaging of a 784->10 softmax
                  regression, 100 examples per client in batches of 20,
                  1 local epoch, 10, 100 and 1,000 clients; also the ratio
                  to the hand-fused reference (the same round written as
                  one tf.function over all clients stacked, no tffx)
    fedavg_power_law  the same round of a 60->10 model (Synthetic(1,1)-like)
                  on clients of power-law sizes (partial last batches),
                  100 and 1,000 clients; the fused reference pads
    cold_start    a fresh Python process: import, trace, one fedavg_round
                  of 10 clients; seconds from start to the result
    fedavg_round_remote  (only when asked for) fedavg_round of 100 clients
                  on 2 tffx-worker processes on loopback (tffx.remote)
    fedavg_round_ray  (only when asked for; needs ray) fedavg_round of 100
                  clients on a local 2-node Ray cluster (tffx.backends.ray),
                  the clients' data in an HDF5 file the workers open
                  themselves; also the bytes the driver sends per round,
                  and the same with the examples sent by the driver

Each line holds the median of `--repeats` timed calls after `--warmup`
calls, the TFF figure, the target, the speedup over TFF, the peak memory of
one extra call (Python allocations, numpy buffers included, by
tracemalloc), the process's peak RSS so far, and the load average (the
machine may be shared; compare runs at similar load). Every call goes
through the public path: Python values in, Python values out.
"""

import collections
import importlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

from absl import app
from absl import flags
import h5py
import numpy as np
import tensorflow as tf

# tools/ is not a package; the repository root holds tffx.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from tffx.backends import native
from tffx.backends import remote
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import dataset_sources
from tffx.remote import errors as remote_errors
from tffx.remote import transport
from tffx.simulation import hdf5_client_data
from tffx.types import computation_types as ct
# pylint: enable=g-import-not-at-top,wrong-import-position

_CASES = flags.DEFINE_list(
    'cases', ['map_mean', 'vec_sum', 'fedavg_round', 'fedavg_power_law',
              'cold_start'],
    'Cases to run, in order.')
_REPEATS = flags.DEFINE_integer('repeats', 7, 'Timed calls per case.')
_WARMUP = flags.DEFINE_integer('warmup', 2, 'Untimed calls before timing.')
_MAX_CONCURRENT = flags.DEFINE_integer(
    'max_concurrent_computation_calls', None,
    'For the native context; default: one per CPU core.')
_CHILD = flags.DEFINE_bool(
    'cold_start_child', False,
    'Internal: run one fedavg round and print when its result is ready.')

# TFF 0.87 C++ runtime medians (seconds) on the same machine type.
_TFF_SECONDS = {
    ('map_mean', 100): 0.028,
    ('map_mean', 1000): 0.233,
    ('map_mean', 10000): 2.49,
    ('vec_sum', 10): 0.030,
    ('vec_sum', 100): 0.46,
    ('fedavg_round', 10): 0.134,
    ('fedavg_round', 100): 1.21,
}
_SPEEDUP_TARGET = 4.0
# tffx / hand-fused reference (`fused_fedavg_round`), in the same run.
_FUSED_RATIO_TARGETS = {
    ('fedavg_round', 10): 3.0,
    ('fedavg_round', 100): 2.0,
    ('fedavg_round', 1000): 2.0,
    ('fedavg_power_law', 100): 2.0,
    ('fedavg_power_law', 1000): 2.0,
}
_VECTOR_SIZE = 100_000
_NUMPY_RATIO_TARGET = 3.0
F32 = np.float32


# ---------------------------------------------------------------------------
# The programs.


@tfc.tf_computation(np.float32)
def add_one(x):
  return x + 1.0


@fc.federated_computation(ct.type_at_clients(np.float32))
def map_mean(x):
  return intrinsics.federated_mean(intrinsics.federated_map(add_one, x))


@fc.federated_computation(
    ct.type_at_clients(ct.TensorType(np.float32, [_VECTOR_SIZE])))
def vec_sum(x):
  return intrinsics.federated_sum(x)


_LEARNING_RATE = 0.1
_BATCH_SIZE = 20


def build_fedavg_round(num_features: int, num_classes: int):
  """The FedAvg round of a `num_features` -> `num_classes` softmax regression."""
  model = collections.OrderedDict(
      w=ct.TensorType(np.float32, [num_features, num_classes]),
      b=ct.TensorType(np.float32, [num_classes]))
  batch = collections.OrderedDict(
      x=ct.TensorType(np.float32, [None, num_features]),
      y=ct.TensorType(np.int32, [None]))

  @tfc.tf_computation(model, ct.SequenceType(batch))
  def client_update(weights, dataset):
    """One local epoch of SGD on softmax regression; returns the delta."""

    def step(state, batch):
      w, b, count = state
      with tf.GradientTape() as tape:
        tape.watch([w, b])
        logits = tf.matmul(batch['x'], w) + b
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=batch['y'], logits=logits))
      grad_w, grad_b = tape.gradient(loss, [w, b])
      n = tf.cast(tf.shape(batch['y'])[0], tf.float32)
      return (w - _LEARNING_RATE * grad_w, b - _LEARNING_RATE * grad_b,
              count + n)

    w, b, count = dataset.reduce((weights['w'], weights['b'], 0.0), step)
    return collections.OrderedDict(
        delta=collections.OrderedDict(w=w - weights['w'], b=b - weights['b']),
        num_examples=count)

  @tfc.tf_computation(model, model)
  def server_update(weights, delta):
    return collections.OrderedDict(w=weights['w'] + delta['w'],
                                   b=weights['b'] + delta['b'])

  @fc.federated_computation(ct.type_at_server(model),
                            ct.type_at_clients(ct.SequenceType(batch)))
  def fedavg_round(server_weights, client_data):
    broadcast = intrinsics.federated_broadcast(server_weights)
    outputs = intrinsics.federated_map(client_update,
                                       (broadcast, client_data))
    delta = intrinsics.federated_mean(outputs.delta,
                                      weight=outputs.num_examples)
    return intrinsics.federated_map(server_update, (server_weights, delta))

  return fedavg_round


fedavg_round = build_fedavg_round(784, 10)


def fedavg_arguments(num_clients: int, sizes=None, num_features: int = 784,
                     num_classes: int = 10, seed: int = 0):
  """Server weights, one dataset per client (batches of 20), and the arrays.

  Every client has 100 examples unless `sizes` gives each client's count.
  Returns `(weights, datasets, [(x, y)] per client)`.
  """
  rng = np.random.default_rng(seed)
  weights = collections.OrderedDict(
      w=np.zeros((num_features, num_classes), np.float32),
      b=np.zeros(num_classes, np.float32))
  if sizes is None:
    sizes = [100] * num_clients
  arrays, datasets = [], []
  for size in sizes:
    x = rng.random((size, num_features), dtype=np.float32)
    y = rng.integers(0, num_classes, size=size).astype(np.int32)
    arrays.append((x, y))
    datasets.append(tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(x=x, y=y)).batch(_BATCH_SIZE))
  return weights, datasets, arrays


def power_law_sizes(num_clients: int, seed: int = 0) -> list:
  """Client sizes as in Synthetic(1,1) (lognormal, a power-law tail)."""
  rng = np.random.default_rng(seed)
  return [int(min(50 + rng.lognormal(4, 2), 2000)) for _ in range(num_clients)]


# ---------------------------------------------------------------------------
# The hand-fused reference: the same round as ONE tf.function over all
# clients stacked on a leading axis (no tffx). Clients of different sizes
# are padded to the largest; a mask keeps padded examples out of the loss
# (each batch's loss is the mean over its real examples) and padded steps
# out of the updates, so the math is exactly the per-client one.


@tf.function
def fused_fedavg_round(w, b, x, y, mask):
  """x: [clients, steps, batch, features]; y, mask: [clients, steps, batch]."""
  num_clients = tf.shape(x)[0]
  client_w = tf.tile(w[None], [num_clients, 1, 1])
  client_b = tf.tile(b[None], [num_clients, 1])
  for k in range(x.shape[1]):
    xs, ys, ms = x[:, k], y[:, k], mask[:, k]
    real = tf.reduce_sum(ms, axis=1)
    with tf.GradientTape() as tape:
      tape.watch([client_w, client_b])
      logits = tf.einsum('cbi,cio->cbo', xs, client_w) + client_b[:, None]
      losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=ys, logits=logits)
      # Each client's mean batch loss; summing over clients keeps each
      # client's gradient its own.
      loss = tf.reduce_sum(
          tf.math.divide_no_nan(tf.reduce_sum(losses * ms, 1), real))
    grad_w, grad_b = tape.gradient(loss, [client_w, client_b])
    active = real > 0
    client_w = tf.where(active[:, None, None],
                        client_w - _LEARNING_RATE * grad_w, client_w)
    client_b = tf.where(active[:, None], client_b - _LEARNING_RATE * grad_b,
                        client_b)
  counts = tf.reduce_sum(mask, axis=[1, 2])
  total = tf.reduce_sum(counts)
  delta_w = tf.einsum('c,cio->io', counts, client_w - w) / total
  delta_b = tf.einsum('c,co->o', counts, client_b - b) / total
  return collections.OrderedDict(w=w + delta_w, b=b + delta_b)


def fused_arguments(weights, arrays) -> list:
  """The stacked, padded tensors of `fused_fedavg_round` (built untimed)."""
  steps = max(-(-len(y) // _BATCH_SIZE) for _, y in arrays)
  rows = steps * _BATCH_SIZE
  num_features = arrays[0][0].shape[1]
  x = np.zeros((len(arrays), rows, num_features), np.float32)
  y = np.zeros((len(arrays), rows), np.int32)
  mask = np.zeros((len(arrays), rows), np.float32)
  for i, (xi, yi) in enumerate(arrays):
    x[i, :len(yi)], y[i, :len(yi)], mask[i, :len(yi)] = xi, yi, 1.0
  shape = (len(arrays), steps, _BATCH_SIZE)
  return [tf.constant(weights['w']), tf.constant(weights['b']),
          tf.constant(x.reshape(shape + (num_features,))),
          tf.constant(y.reshape(shape)), tf.constant(mask.reshape(shape))]


def _max_relative_difference(result, reference) -> float:
  return max(
      float(np.max(np.abs(np.asarray(result[k]) - reference[k].numpy())) /
            max(float(np.max(np.abs(reference[k].numpy()))), 1e-30))
      for k in ('w', 'b'))


# ---------------------------------------------------------------------------
# Measuring.


def _time_calls(fn, repeats: int, warmup: int) -> list:
  for _ in range(warmup):
    fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return times


def _python_peak_mib(fn) -> float:
  """Peak Python allocations (numpy buffers included) of one call, in MiB."""
  tracemalloc.start()
  try:
    fn()
    _, peak = tracemalloc.get_traced_memory()
  finally:
    tracemalloc.stop()
  return peak / 2**20


def _max_rss_mib() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _line(case: str, clients: int, times: list, **extra) -> dict:
  median = statistics.median(times)
  line = {'case': case, 'clients': clients, 'median_s': round(median, 6),
          'runs_s': [round(t, 6) for t in times]}
  tff = _TFF_SECONDS.get((case, clients))
  if tff is not None:
    line.update(tff_s=tff, target_s=round(tff / _SPEEDUP_TARGET, 6),
                speedup_vs_tff=round(tff / median, 2),
                meets_target=median <= tff / _SPEEDUP_TARGET)
  line.update(extra)
  line['load_avg'] = [round(x, 2) for x in os.getloadavg()]
  return line


def _timed_case(case: str, clients: int, fn, **extra) -> dict:
  times = _time_calls(fn, _REPEATS.value, _WARMUP.value)
  return _line(case, clients, times, python_peak_mib=round(
      _python_peak_mib(fn), 1), max_rss_mib=round(_max_rss_mib(), 1), **extra)


def run_map_mean():
  rng = np.random.default_rng(0)
  for clients in (100, 1000, 10000):
    values = list(rng.random(clients, dtype=np.float32))
    yield _timed_case('map_mean', clients, lambda: map_mean(values))


def run_vec_sum():
  rng = np.random.default_rng(0)
  for clients in (10, 100):
    arrays = [rng.random(_VECTOR_SIZE, dtype=np.float32)
              for _ in range(clients)]

    def numpy_sum():
      total = arrays[0].copy()
      for a in arrays[1:]:
        np.add(total, a, out=total)
      return total

    numpy_median = statistics.median(
        _time_calls(numpy_sum, _REPEATS.value, _WARMUP.value))
    line = _timed_case('vec_sum', clients, lambda: vec_sum(arrays),
                       numpy_s=round(numpy_median, 6))
    line['ratio_to_numpy'] = round(line['median_s'] / numpy_median, 2)
    if clients == 100:
      line['numpy_ratio_target'] = _NUMPY_RATIO_TARGET
    yield line


def _fedavg_case(case: str, program, clients: int, weights, datasets,
                 arrays) -> dict:
  """Times `program` and the hand-fused reference in the same run.

  Calls alternate between the two, so both see the same machine load.
  """
  fused_args = fused_arguments(weights, arrays)
  fused = lambda: fused_fedavg_round(*fused_args)
  tffx = lambda: program(weights, datasets)
  for _ in range(_WARMUP.value):
    fused()
    tffx()
  fused_times, times = [], []
  for _ in range(_REPEATS.value):
    fused_times.extend(_time_calls(fused, 1, 0))
    times.extend(_time_calls(tffx, 1, 0))
  fused_median = statistics.median(fused_times)
  line = _line(case, clients, times, fused_s=round(fused_median, 6),
               python_peak_mib=round(_python_peak_mib(tffx), 1),
               max_rss_mib=round(_max_rss_mib(), 1))
  line['ratio_to_fused'] = round(line['median_s'] / fused_median, 2)
  line['fused_ratio_target'] = _FUSED_RATIO_TARGETS.get((case, clients))
  line['max_rel_diff_to_fused'] = float('%.3g' % _max_relative_difference(
      tffx(), fused()))
  return line


def run_fedavg_round():
  for clients in (10, 100, 1000):
    weights, datasets, arrays = fedavg_arguments(clients)
    yield _fedavg_case('fedavg_round', fedavg_round, clients, weights,
                       datasets, arrays)


def run_fedavg_power_law():
  program = build_fedavg_round(60, 10)
  for clients in (100, 1000):
    weights, datasets, arrays = fedavg_arguments(
        clients, power_law_sizes(clients), num_features=60, num_classes=10)
    yield _fedavg_case('fedavg_power_law', program, clients, weights,
                       datasets, arrays)


def run_cold_start():
  command = [sys.executable, os.path.abspath(__file__), '--cold_start_child']
  if _MAX_CONCURRENT.value is not None:
    command.append(f'--max_concurrent_computation_calls='
                   f'{_MAX_CONCURRENT.value}')
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  times = []
  for _ in range(max(1, min(_REPEATS.value, 3))):
    start = time.time()
    output = subprocess.run(command, env=env, check=True,
                            capture_output=True, text=True).stdout
    result_at = json.loads(output.strip().splitlines()[-1])['result_at']
    times.append(result_at - start)
  yield _line('cold_start', 10, times)


def _cold_start_child() -> None:
  weights, datasets, _ = fedavg_arguments(10)
  fedavg_round(weights, datasets)
  print(json.dumps({'result_at': time.time()}), flush=True)


# ---------------------------------------------------------------------------
# Remote execution (tffx.remote): the fedavg_round program and data, on
# tffx-worker processes on loopback. Not in the default --cases: it starts
# processes. Read it next to fedavg_round's line of the same run.

_REMOTE_WORKERS = 2
_REMOTE_CLIENTS = 100


def _start_local_workers(count: int) -> list:
  """Starts `count` workers on free loopback ports; returns (target, process)
  pairs once every worker answers a health check."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = dict(os.environ, PYTHONPATH=root, TF_CPP_MIN_LOG_LEVEL='3')
  extra = []
  if _MAX_CONCURRENT.value is not None:
    extra.append(f'--max_concurrent_computation_calls={_MAX_CONCURRENT.value}')
  workers = []
  for _ in range(count):
    with socket.socket() as s:
      s.bind(('127.0.0.1', 0))
      port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, '-m', 'tffx.cli.worker', f'--port={port}', *extra],
        env=env, stdout=subprocess.DEVNULL)
    workers.append((f'127.0.0.1:{port}', process))
  for target, process in workers:
    connection = transport.WorkerConnection(target)
    try:
      while True:
        if process.poll() is not None:
          raise RuntimeError(f'Worker {target} exited while starting.')
        try:
          connection.health(timeout=2, wait_for_ready=True)
          break
        except remote_errors.WorkerUnavailableError:
          continue
    finally:
      connection.close()
  return workers


def run_fedavg_round_remote():
  weights, datasets, _ = fedavg_arguments(_REMOTE_CLIENTS)
  workers = _start_local_workers(_REMOTE_WORKERS)
  try:
    context = remote.create_remote_execution_context(
        [target for target, _ in workers])
    try:
      with context:
        yield _timed_case('fedavg_round_remote', _REMOTE_CLIENTS,
                          lambda: fedavg_round(weights, datasets),
                          workers=_REMOTE_WORKERS)
    finally:
      context.close()
  finally:
    for _, process in workers:
      process.kill()
      process.wait()


def _hdf5_datasets(num_clients: int, directory: str) -> list:
  """fedavg_arguments' client data, from an HDF5 file the workers open."""
  rng = np.random.default_rng(0)
  path = os.path.join(directory, 'clients.h5')
  with h5py.File(path, 'w') as f:
    for i in range(num_clients):
      group = f.create_group(f'examples/client_{i:04d}')
      group['x'] = rng.random((100, 784), dtype=np.float32)
      group['y'] = rng.integers(0, 10, size=100).astype(np.int32)
  client_data = hdf5_client_data.HDF5ClientData(path)
  return [dataset_sources.batch(client_data.create_tf_dataset_for_client(c),
                                20) for c in client_data.client_ids]


def _count_sent_bytes(connections) -> list:
  """Makes each connection add the size of every request it sends to the
  returned one-element list."""
  sent = [0]
  for connection in connections:
    execute = connection.execute

    def counted(request, timeout, execute=execute):
      sent[0] += request.ByteSize()
      return execute(request, timeout)

    connection.execute = counted
  return sent


def run_fedavg_round_ray():
  # The local cluster on 127.0.0.1 only (read when Ray is imported).
  os.environ['RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER'] = '0'
  ray = importlib.import_module('ray')
  ray_backend = importlib.import_module('tffx.backends.ray')
  cluster_utils = importlib.import_module('ray.cluster_utils')
  weights, _ = fedavg_arguments(1)
  cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={
      'num_cpus': 1, 'include_dashboard': False})
  try:
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address)
    with tempfile.TemporaryDirectory() as directory:
      datasets = _hdf5_datasets(_REMOTE_CLIENTS, directory)
      context = ray_backend.create_ray_execution_context(num_workers=2)
      try:
        sent = _count_sent_bytes(context.connections)
        with context:
          fedavg_round(weights, datasets)
          before = sent[0]
          fedavg_round(weights, datasets)
          per_round = sent[0] - before
          yield _timed_case('fedavg_round_ray', _REMOTE_CLIENTS,
                            lambda: fedavg_round(weights, datasets),
                            workers=2, driver_sent_bytes_per_round=per_round)
          # The same examples held by the driver: they travel every round.
          _, in_memory = fedavg_arguments(_REMOTE_CLIENTS)
          before = sent[0]
          fedavg_round(weights, in_memory)
          per_round = sent[0] - before
          yield _timed_case('fedavg_round_ray_examples_sent', _REMOTE_CLIENTS,
                            lambda: fedavg_round(weights, in_memory),
                            workers=2, driver_sent_bytes_per_round=per_round)
      finally:
        context.close()
  finally:
    ray.shutdown()
    cluster.shutdown()


_RUNNERS = {
    'map_mean': run_map_mean,
    'vec_sum': run_vec_sum,
    'fedavg_round': run_fedavg_round,
    'fedavg_power_law': run_fedavg_power_law,
    'cold_start': run_cold_start,
    'fedavg_round_remote': run_fedavg_round_remote,
    'fedavg_round_ray': run_fedavg_round_ray,
}


def main(argv) -> None:
  del argv  # Unused.
  native.set_local_execution_context(
      max_concurrent_computation_calls=_MAX_CONCURRENT.value)
  if _CHILD.value:
    _cold_start_child()
    return
  unknown = [c for c in _CASES.value if c not in _RUNNERS]
  if unknown:
    raise app.UsageError(f'Unknown cases {unknown}; known: {list(_RUNNERS)}.')
  for case in _CASES.value:
    for line in _RUNNERS[case]():
      print(json.dumps(line), flush=True)


if __name__ == '__main__':
  app.run(main)
