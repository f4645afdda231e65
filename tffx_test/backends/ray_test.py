"""Tests of the Ray backend on a real two-node Ray cluster on loopback."""

import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from absl.testing import absltest
import numpy as np

# Every node of the test clusters, and the driver, on 127.0.0.1 only: on
# Linux Ray otherwise binds to the address of the machine's outgoing
# interface. Read when Ray is imported, and inherited by the tffx-train
# processes below.
os.environ['RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER'] = '0'
# The Ray workers import this module (the poison opener's setup hook): the
# raylets started here, and so their workers, inherit the path to it.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
os.environ['PYTHONPATH'] = os.pathsep.join(
    p for p in (_ROOT, os.environ.get('PYTHONPATH')) if p)

import ray  # pylint: disable=g-import-not-at-top,wrong-import-position
from ray import cluster_utils
import tensorflow as tf

from tffx.backends import native
from tffx.backends import ray as ray_backend
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import dataset_sources
from tffx.remote import errors
from tffx.simulation import synthetic
from tffx.types import computation_types as ct
from tffx_test.executors import test_utils

_MODEL = collections.OrderedDict(w=ct.TensorType(np.float32, [60, 10]),
                                 b=ct.TensorType(np.float32, [10]))
_BATCH = collections.OrderedDict(x=ct.TensorType(np.float32, [None, 60]),
                                 y=ct.TensorType(np.int32, [None]))
_NODE_ARGS = dict(num_cpus=1)


@tfc.tf_computation(_MODEL, ct.SequenceType(_BATCH))
def _client_update(weights, dataset):

  def step(state, batch):
    w, b, count = state
    with tf.GradientTape() as tape:
      tape.watch((w, b))
      logits = tf.matmul(batch['x'], w) + b
      loss = tf.reduce_mean(
          tf.nn.sparse_softmax_cross_entropy_with_logits(batch['y'], logits))
    grad_w, grad_b = tape.gradient(loss, (w, b))
    n = tf.cast(tf.size(batch['y']), tf.float32)
    return w - 0.1 * grad_w, b - 0.1 * grad_b, count + n

  w, b, count = dataset.reduce((weights['w'], weights['b'], 0.0), step)
  return collections.OrderedDict(
      weights=collections.OrderedDict(w=w, b=b), num_examples=count)


@fc.federated_computation(ct.type_at_server(_MODEL),
                          ct.type_at_clients(ct.SequenceType(_BATCH)))
def _fed_avg_round(server_weights, client_data):
  broadcast = intrinsics.federated_broadcast(server_weights)
  outputs = intrinsics.federated_map(_client_update, (broadcast, client_data))
  return intrinsics.federated_mean(outputs.weights,
                                   weight=outputs.num_examples)


def _zero_weights():
  return collections.OrderedDict(w=np.zeros((60, 10), np.float32),
                                 b=np.zeros(10, np.float32))


def _synthetic_datasets(num_clients: int):
  train, _ = synthetic.load_data(0.5, 0.5, num_clients=num_clients, seed=1)
  return [dataset_sources.batch(train.create_tf_dataset_for_client(c), 50)
          for c in train.client_ids]


def _open_poison(params, client_id):
  """Opens clients of the test kind 'poison'; client 'bad' kills the
  process that opens it."""
  if client_id == 'bad':
    os._exit(1)  # pylint: disable=protected-access
  return synthetic.load_data(0.5, 0.5, num_clients=params['n'], seed=1)[
      0].create_tf_dataset_for_client(client_id)


def register_poison_opener():
  """Ray's worker_process_setup_hook: every worker knows kind 'poison'."""
  dataset_sources.register_opener('poison', _open_poison)


def _native_round(weights, datasets):
  # Client by client, as the workers run them (a vectorized native run agrees
  # to float rounding only).
  with native.create_local_execution_context(vectorize_clients=False):
    return _fed_avg_round(weights, datasets)


class RayBackendTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    # Ray's session directory holds Unix sockets, whose paths may not pass
    # 107 bytes: a short directory of its own, not the test's (long, under
    # Bazel) TMPDIR.
    cls.ray_tmp = tempfile.mkdtemp(
        prefix='tffx_ray_',
        dir='/dev/shm' if os.path.isdir('/dev/shm') else None)
    os.environ['RAY_TMPDIR'] = cls.ray_tmp
    cls.cluster = cluster_utils.Cluster(
        initialize_head=True,
        head_node_args=dict(_NODE_ARGS, include_dashboard=False))
    cls.cluster.add_node(**_NODE_ARGS)
    cls.cluster.add_node(**_NODE_ARGS)
    ray.init(address=cls.cluster.address, runtime_env={
        'worker_process_setup_hook':
            'tffx_test.backends.ray_test.register_poison_opener'})
    cls.dispatch_hook = None
    cls.context = ray_backend.create_ray_execution_context(
        num_workers=2, health_timeout_seconds=120,
        on_dispatch=lambda op, target: cls.dispatch_hook and
        cls.dispatch_hook(op, target))

  @classmethod
  def tearDownClass(cls):
    cls.context.close()
    ray.shutdown()
    cls.cluster.shutdown()
    shutil.rmtree(cls.ray_tmp, ignore_errors=True)
    super().tearDownClass()

  def setUp(self):
    super().setUp()
    type(self).dispatch_hook = None

  def test_fed_avg_rounds_equal_native_bit_for_bit(self):
    weights, datasets = _zero_weights(), _synthetic_datasets(6)
    expected = weights
    for _ in range(2):
      expected = _native_round(expected, datasets)

    with self.context:
      actual = weights
      for _ in range(2):
        actual = _fed_avg_round(actual, datasets)

    test_utils.assert_same_result(self, actual, expected)

  def test_in_memory_datasets_equal_native_bit_for_bit(self):
    round_comp = test_utils.fed_avg_round()
    rng = np.random.default_rng(3)
    datasets = [tf.data.Dataset.from_tensor_slices(collections.OrderedDict(
        x=rng.normal(size=(5, 2)).astype(np.float32),
        y=rng.normal(size=5).astype(np.float32))).batch(2) for _ in range(5)]
    weights = collections.OrderedDict(w=np.float32([0.5, 0.5]),
                                      b=np.float32(0.0))
    with native.create_local_execution_context(vectorize_clients=False):
      expected = round_comp(weights, datasets)

    with self.context:
      actual = round_comp(weights, datasets)

    test_utils.assert_same_result(self, actual, expected)

  def test_workers_are_spread_over_both_nodes(self):
    nodes = {c.where()[0] for c in self.context.connections}

    alive = {n['NodeID'] for n in ray.nodes() if n['Alive']}
    self.assertLen(nodes, 2)
    self.assertTrue(nodes <= alive)

  def test_round_completes_alike_when_a_worker_is_killed_mid_round(self):
    weights, datasets = _zero_weights(), _synthetic_datasets(6)
    expected = _native_round(weights, datasets)
    victim = self.context.connections[1]
    _, pid = victim.where()
    killed = []

    def kill_once(operation, target):
      if operation == 'run' and target == victim.target and not killed:
        killed.append(target)
        os.kill(pid, signal.SIGKILL)

    type(self).dispatch_hook = kill_once
    with self.context:
      actual = _fed_avg_round(weights, datasets)

    self.assertEqual(killed, [victim.target])
    self.assertNotEqual(victim.where()[1], pid)  # Restarted by Ray.
    test_utils.assert_same_result(self, actual, expected)

  def test_poison_client_fails_the_round_and_the_pool_survives(self):
    good = _synthetic_datasets(1)
    element = good[0].element_spec
    bad = tf.data.Dataset.from_tensors(
        {k: tf.zeros([1] + s.shape[1:], s.dtype) for k, s in element.items()})
    bad = dataset_sources.attach(bad, dataset_sources.DatasetSource(
        'poison', '{"n": 1}', 'bad', 50))
    clients = [dataset_sources.attach(d, dataset_sources.DatasetSource(
        'poison', '{"n": 1}', dataset_sources.source_of(d).client_id, 50))
               for d in good]

    with self.context:
      with self.assertRaisesRegex(errors.PoisonClientError,
                                  'The work of client 1 failed on two workers'):
        _fed_avg_round(_zero_weights(), clients + [bad])
      after = _fed_avg_round(_zero_weights(), good)

    test_utils.assert_same_result(self, after,
                                  _native_round(_zero_weights(), good))

  def test_round_continues_after_a_node_is_removed(self):
    weights, datasets = _zero_weights(), _synthetic_datasets(4)
    expected = _native_round(_native_round(weights, datasets), datasets)
    node = self.cluster.add_node(**_NODE_ARGS)
    self.cluster.wait_for_nodes()
    context = ray_backend.create_ray_execution_context(
        num_workers=2, health_timeout_seconds=20)
    try:
      nodes = {c.where()[0] for c in context.connections}
      with context:
        first = _fed_avg_round(weights, datasets)
        self.cluster.remove_node(node)
        second = _fed_avg_round(first, datasets)
    finally:
      context.close()

    self.assertIn(node.node_id, nodes)  # A worker was on the removed node.
    test_utils.assert_same_result(self, second, expected)

  def test_train_killed_and_resumed_on_ray_ends_as_native(self):
    settings = dict(rounds=3, clients_per_round=4, eval_every=0,
                    rounds_per_checkpoint=1)
    native_dir = self.create_tempdir().full_path
    ray_dir = self.create_tempdir().full_path
    flags = [f'--{name}={value}' for name, value in settings.items()]
    command = [sys.executable, '-m', 'tffx.cli.train'] + flags
    ray_command = command + [
        '--executor=ray', f'--ray_address={self.cluster.address}',
        '--ray_workers=1', f'--root_dir={ray_dir}']
    env = dict(os.environ, PYTHONUNBUFFERED='1', TF_CPP_MIN_LOG_LEVEL='3')

    # The native run (as the CLI runs it: op determinism on), client by
    # client as the workers run them, alongside.
    native_run = subprocess.Popen(command + [f'--root_dir={native_dir}',
                                             '--novectorize_clients'],
                                  env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    first = subprocess.Popen(ray_command, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    for line in first.stdout:
      if line.startswith('round 2/3'):
        first.kill()
        break
    first.wait(timeout=300)
    resumed = subprocess.run(ray_command, env=env, capture_output=True,
                             text=True, timeout=300, check=False)
    native_run.wait(timeout=300)

    self.assertEqual(native_run.returncode, 0)
    self.assertEqual(first.returncode, -signal.SIGKILL)
    self.assertEqual(resumed.returncode, 0, resumed.stderr[-2000:])
    self.assertRegex(resumed.stdout, r'done: round 3 reached, [12] rounds')
    state = os.path.join('checkpoints', 'program_state_3.npz')
    with np.load(os.path.join(native_dir, state)) as expected, np.load(
        os.path.join(ray_dir, state)) as actual:
      self.assertEqual(sorted(actual.files), sorted(expected.files))
      for name in expected.files:
        np.testing.assert_array_equal(actual[name], expected[name],
                                      err_msg=name, strict=True)


class ImportTest(absltest.TestCase):

  def test_import_tffx_does_not_import_ray(self):
    code = ('import sys, tffx, tffx.backends, tffx.remote, tffx.simulation; '
            'print("ray" in sys.modules)')
    completed = subprocess.run([sys.executable, '-c', code],
                               capture_output=True, text=True, check=True,
                               timeout=300)
    self.assertEqual(completed.stdout.strip(), 'False')


if __name__ == '__main__':
  absltest.main()
