"""Traced programs and arguments shared by the remote tests.

Each program uses intrinsics of one kind, on values chosen so float sums are
exact whatever their order: the remote executor adds per worker first, and
the differential tests compare it with the reference executor exactly.

    PROGRAMS[name] = (computation, args)   # 7 clients where it counts
    fed_avg_round, fed_avg_arguments(num_clients)
    shared_table, write_shared_table, read_shared_table   # shared_name
"""

import collections

import numpy as np
import tensorflow as tf

from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation as tfc
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx_test.executors import test_utils

CLIENTS = placements.CLIENTS
SERVER = placements.SERVER
F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)
NUM_CLIENTS = 7
MEMBER = collections.OrderedDict(a=F32, b=ct.TensorType(np.float32, [2]))


@tfc.tf_computation(np.float32)
def add_one(x):
  return x + 1.0


@tfc.tf_computation
def five():
  return np.int32(5)


@tfc.tf_computation(np.int32, np.int32)
def add_ints(a, b):
  return a + b


@tfc.tf_computation(MEMBER)
def scale(x):
  return collections.OrderedDict(a=x['a'] * 2.0, b=x['b'] + 1.0)


@fc.federated_computation(ct.type_at_clients(MEMBER))
def map_and_aggregate(x):
  y = intrinsics.federated_map(scale, x)
  return collections.OrderedDict(
      sum=intrinsics.federated_sum(y), mean=intrinsics.federated_mean(y),
      min=intrinsics.federated_min(y), max=intrinsics.federated_max(y),
      clients=y)


@tfc.tf_computation(np.float32, np.float32)
def add_floats(a, b):
  return a + b


@fc.federated_computation(ct.type_at_server(F32), ct.type_at_clients(F32))
def broadcast_and_map(server, clients):
  broadcast = intrinsics.federated_broadcast(server)
  y = intrinsics.federated_map(add_floats, (clients, broadcast))
  return (y, intrinsics.federated_sum(y),
          intrinsics.federated_map(add_one, broadcast))


@fc.federated_computation
def place_and_evaluate():
  return (intrinsics.federated_sum(intrinsics.federated_value(2, CLIENTS)),
          intrinsics.federated_eval(five, CLIENTS),
          intrinsics.federated_eval(five, SERVER),
          intrinsics.federated_value(1.5, SERVER))


@fc.federated_computation(ct.type_at_clients(F32), ct.type_at_clients(I32))
def weighted_mean(values, weights):
  return intrinsics.federated_mean(values, weight=weights)


_ACCUMULATOR = collections.OrderedDict(total=F32, weight=F32)
_EXAMPLE = collections.OrderedDict(value=F32, weight=F32)


@tfc.tf_computation(_ACCUMULATOR, _EXAMPLE)
def _accumulate(acc, x):
  return collections.OrderedDict(total=acc['total'] + x['value'] * x['weight'],
                                 weight=acc['weight'] + x['weight'])


@tfc.tf_computation(_ACCUMULATOR, _ACCUMULATOR)
def _merge(a, b):
  return collections.OrderedDict(total=a['total'] + b['total'],
                                 weight=a['weight'] + b['weight'])


@tfc.tf_computation(_ACCUMULATOR)
def _report(acc):
  return acc['total'] / acc['weight']


@fc.federated_computation(ct.type_at_clients(F32), ct.type_at_clients(F32))
def aggregate(values, weights):
  zero = collections.OrderedDict(total=0.0, weight=0.0)
  return (intrinsics.federated_aggregate(
      intrinsics.federated_zip(
          collections.OrderedDict(value=values, weight=weights)), zero,
      _accumulate, _merge, _report),
          intrinsics.federated_aggregate(
              intrinsics.federated_map(
                  tfc.tf_computation(lambda x: tf.cast(x, tf.int32),
                                     np.float32), values), 0, add_ints,
              add_ints, tfc.tf_computation(lambda a: a * 2, np.int32)))


@fc.federated_computation(ct.type_at_clients(I32))
def aggregate_argument(x):
  return intrinsics.federated_aggregate(
      x, 0, add_ints, add_ints, tfc.tf_computation(lambda a: a * 3, np.int32))


@fc.federated_computation(ct.type_at_clients(I32))
def secure_sums(x):
  return (intrinsics.federated_secure_sum(x, 7),
          intrinsics.federated_secure_sum_bitwidth(x, 3))


_TABLE = ct.TensorType(np.float32, [3, 2])


@tfc.tf_computation(_TABLE, np.int32)
def _row(table, key):
  return tf.gather(table, key)


@fc.federated_computation(ct.type_at_clients(ct.TensorType(np.int32, [2])),
                          ct.type_at_server(_TABLE))
def select(keys, table):
  max_key = intrinsics.federated_value(3, SERVER)
  return (intrinsics.federated_select(keys, max_key, table, _row),
          intrinsics.federated_secure_select(keys, max_key, table, _row))


@fc.federated_computation(ct.type_at_clients(ct.SequenceType(F32)))
def sequences(datasets):
  mapped = intrinsics.sequence_map(add_one, datasets)
  return (intrinsics.federated_sum(intrinsics.sequence_sum(mapped)),
          intrinsics.sequence_reduce(
              datasets, 0.0,
              tfc.tf_computation(lambda a, x: a + x * x, np.float32,
                                 np.float32)), mapped)


@fc.federated_computation(ct.type_at_clients(F32), ct.type_at_clients(I32))
def zip_nested(a, b):
  return intrinsics.federated_zip(collections.OrderedDict(a=a, b=[b]))


@fc.federated_computation(ct.type_at_server(F32), ct.type_at_server(I32),
                          ct.SequenceType(F32))
def server_side(a, b, sequence):
  return (intrinsics.federated_map(add_one, a),
          intrinsics.federated_zip((a, b)),
          intrinsics.sequence_sum(intrinsics.sequence_map(add_one, sequence)))


def _client_floats(n=NUM_CLIENTS):
  return [float(i) * 0.5 - 1.0 for i in range(n)]


PROGRAMS = {
    'map_and_aggregate': (map_and_aggregate, ([
        collections.OrderedDict(a=0.5 * i, b=[float(i), -2.0 * i])
        for i in range(NUM_CLIENTS)
    ],)),
    'broadcast_and_map': (broadcast_and_map, (3.0, _client_floats())),
    'place_and_evaluate': (place_and_evaluate, ()),
    'weighted_mean': (weighted_mean, (_client_floats(),
                                      [i % 3 + 1 for i in range(NUM_CLIENTS)])),
    'aggregate': (aggregate, ([float(i) for i in range(NUM_CLIENTS)],
                              [1.0, 2.0, 0.5, 1.0, 4.0, 1.0, 2.0])),
    'aggregate_argument': (aggregate_argument, (list(range(NUM_CLIENTS)),)),
    'secure_sums': (secure_sums, ([i % 8 for i in range(NUM_CLIENTS)],)),
    'select': (select, ([[i % 3, (i + 1) % 3] for i in range(NUM_CLIENTS)],
                        np.arange(6, dtype=np.float32).reshape(3, 2))),
    'sequences': (sequences, ([[float(j) for j in range(i % 3)]
                               for i in range(NUM_CLIENTS)],)),
    'zip_nested': (zip_nested, (_client_floats(), list(range(NUM_CLIENTS)))),
    'server_side': (server_side, (1.5, 2, [1.0, 2.0])),
}

# ---------------------------------------------------------------------------
# A federated averaging round (the one the reference backend tests check
# against NumPy).

fed_avg_round = test_utils.fed_avg_round()


def fed_avg_arguments(num_clients: int, seed: int = 0,
                      max_examples: int = 9):
  """(server weights, client datasets) for `fed_avg_round`."""
  rng = np.random.default_rng(seed)
  datasets = []
  for _ in range(num_clients):
    n = int(rng.integers(1, max_examples + 1))
    x = rng.normal(size=(n, 2)).astype(np.float32)
    y = (x @ np.float32([2.0, -1.0]) + 0.5).astype(np.float32)
    datasets.append(tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(x=x, y=y)).batch(3))
  server_weights = collections.OrderedDict(w=np.float32([0.5, 0.5]),
                                           b=np.float32(0.0))
  return server_weights, datasets


def shared_table():
  return tf.raw_ops.HashTableV2(key_dtype=tf.int64, value_dtype=tf.int64,
                                shared_name='shared_table')


@tfc.tf_computation(np.int64)
def write_shared_table(x):
  """Fills the shared table with {1: x} and returns its value for 1."""
  t = shared_table()
  init = tf.raw_ops.InitializeTableV2(
      table_handle=t, keys=tf.constant([1], tf.int64),
      values=tf.reshape(x, [1]))
  with tf.control_dependencies([init]):
    return tf.raw_ops.LookupTableFindV2(
        table_handle=t, keys=tf.constant(1, tf.int64),
        default_value=tf.constant(-1, tf.int64))


@tfc.tf_computation(np.int64)
def read_shared_table(x):
  """The shared table's value for 1 (fails if no one filled it here)."""
  return tf.raw_ops.LookupTableFindV2(
      table_handle=shared_table(), keys=tf.constant(1, tf.int64),
      default_value=x)
