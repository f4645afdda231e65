"""Tests of the native backend: contexts, options, errors and devices.

Results on every program are compared with the reference backend in
`tffx_test/executors/differential_test.py`.
"""

import json
import os
import subprocess
import sys
import textwrap

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import native
from tffx.computations import context_stack
from tffx.computations import errors as computation_errors
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import errors
from tffx.executors import execution_context
from tffx.types import computation_types as ct
from tffx.types import placements

F32 = ct.TensorType(np.float32)


@tfc.tf_computation(np.float32)
def add_one(x):
  return x + 1.0


@tfc.tf_computation(np.float32)
def check_positive(x):
  with tf.control_dependencies([tf.debugging.assert_positive(x)]):
    return tf.identity(x)


@fc.federated_computation(ct.type_at_clients(F32))
def mean_of_add_one(x):
  return intrinsics.federated_mean(intrinsics.federated_map(add_one, x))


class NativeBackendTest(parameterized.TestCase):

  def test_create_local_execution_context_works_as_context_manager(self):

    @fc.federated_computation
    def count_clients():
      return intrinsics.federated_sum(
          intrinsics.federated_value(1, placements.CLIENTS))

    context = native.create_local_execution_context(default_num_clients=3)

    with context:
      result = count_clients()

    self.assertIsInstance(context, execution_context.ExecutionContext)
    self.assertEqual(context.default_num_clients, 3)
    self.assertEqual(result, 3)

  def test_set_local_execution_context_installs_default(self):
    self.addCleanup(context_stack.set_default_context, None)

    native.set_local_execution_context(max_concurrent_computation_calls=2,
                                       default_num_clients=2)

    context = context_stack.get_context()
    self.assertIsInstance(context, execution_context.ExecutionContext)
    self.assertEqual(context.default_num_clients, 2)
    self.assertEqual(context.executor.max_concurrent_computation_calls, 2)
    self.assertAlmostEqual(mean_of_add_one([1.0, 2.0, 6.0]), 4.0, places=6)

  def test_context_accepts_existing_devices(self):
    context = native.create_local_execution_context(
        server_device='/cpu:0', client_devices=['/device:CPU:0'])

    with context:
      result = mean_of_add_one([0.5, 1.5])

    self.assertEqual(result, 2.0)

  def test_error_in_client_work_names_client_and_leaves_context_usable(self):

    @fc.federated_computation(ct.type_at_clients(F32))
    def checked_sum(x):
      return intrinsics.federated_sum(
          intrinsics.federated_map(check_positive, x))

    with native.create_local_execution_context(
        max_concurrent_computation_calls=2):
      with self.assertRaisesRegex(
          computation_errors.TensorFlowExecutionError,
          r'federated_map\(check_positive\) failed for client 3: '
          r'TensorFlow computation check_positive'):
        checked_sum([1.0, 2.0, 3.0, -4.0, 5.0, -6.0])
      result = checked_sum([1.0, 2.0])

    self.assertEqual(result, 3.0)

  @parameterized.named_parameters(
      ('unknown_device', {'client_devices': ['/device:CPU:7']}, ValueError,
       r"logical device.*'/device:CPU:7'"),
      ('unknown_type', {'server_device': '/device:QPU:0'}, ValueError,
       'QPU'),
      ('no_device_type', {'server_device': '/job:worker'}, ValueError,
       'device type'),
      ('string_devices', {'client_devices': '/device:CPU:0'}, TypeError,
       'list of device names'),
      ('bool_concurrency', {'max_concurrent_computation_calls': True},
       TypeError, 'max_concurrent_computation_calls'),
      ('negative_clients', {'default_num_clients': -1},
       errors.ClientCountError, 'non-negative'),
  )
  def test_create_local_execution_context_refuses(self, kwargs, error,
                                                  message):
    with self.assertRaisesRegex(error, message):
      native.create_local_execution_context(**kwargs)


# Runs in a fresh process: logical devices must be configured before
# TensorFlow initializes its devices, which this test process already did.
_PLACEMENT_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices('CPU')[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 3)

    from tensorflow.python.eager import context as tf_context
    from tffx.backends import native
    from tffx.computations import federated_computation as fc
    from tffx.computations import intrinsics
    from tffx.computations import tensorflow_computation as tfc
    from tffx.types import computation_types as ct

    @tfc.tf_computation(np.float32, np.float32)
    def client_work(x, y):
      return tf.math.squared_difference(x, y)

    @tfc.tf_computation(np.float32)
    def server_work(x):
      return tf.math.floor(x)

    @fc.federated_computation(ct.type_at_clients(np.float32))
    def comp(x):
      total = intrinsics.federated_sum(intrinsics.federated_map(
          client_work, intrinsics.federated_zip((x, x))))
      return intrinsics.federated_map(server_work, total)

    tf_context.context().enable_run_metadata()
    with native.create_local_execution_context(
        max_concurrent_computation_calls=2, server_device='/device:CPU:0',
        client_devices=['/device:CPU:1', '/device:CPU:2']):
      result = comp([float(i) for i in range(8)])
    metadata = tf_context.context().export_run_metadata()
    devices = {}
    for function_graph in metadata.function_graphs:
      for graph in function_graph.partition_graphs:
        for node in graph.node:
          if node.op in ('SquaredDifference', 'Floor'):
            devices.setdefault(node.op, set()).add(
                tf.DeviceSpec.from_string(node.device).device_index)
    print(json.dumps({'result': float(result),
                      'devices': {k: sorted(v) for k, v in devices.items()}}))
""")


class DevicePlacementTest(absltest.TestCase):

  def test_client_work_round_robin_on_client_devices_server_on_server(self):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path),
               TF_CPP_MIN_LOG_LEVEL='3')

    completed = subprocess.run([sys.executable, '-c', _PLACEMENT_SCRIPT],
                               env=env, capture_output=True, text=True,
                               timeout=300, check=False)

    self.assertEqual(completed.returncode, 0, completed.stderr[-3000:])
    observed = json.loads(completed.stdout.strip().splitlines()[-1])
    self.assertEqual(observed['result'], 0.0)
    # TensorFlow reports where each op of each function ran.
    self.assertEqual(observed['devices'], {'SquaredDifference': [1, 2],
                                           'Floor': [0]})


if __name__ == '__main__':
  absltest.main()
