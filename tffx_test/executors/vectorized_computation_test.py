import os
import subprocess
import sys
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import native
from tffx.backends import reference
from tffx.computations import building_blocks as bb
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.executors import client_graph_split
from tffx.executors import client_strategy
from tffx.executors import execution_context
from tffx.executors import tensorflow_runner
from tffx.executors import thread_pool_executor
from tffx.executors import vectorized_computation
from tffx.learning.algorithms import fed_avg
from tffx.learning.algorithms import fed_eval
from tffx.learning.algorithms import fed_prox
from tffx.learning.algorithms import fed_sgd
from tffx.learning.optimizers import sgdm
from tffx.types import computation_types as ct
from tffx.types import structure
from tffx_test.learning.algorithms import test_models

VectorizedComputation = vectorized_computation.VectorizedComputation
# Power-law-like sizes with partial last batches (batch size 4), an empty
# client and one that has a single partial batch.
_SIZES = [1, 13, 2, 0, 40, 7, 9, 4, 26, 5, 3]
_BATCH_SIZE = 4
_RTOL = 1e-5


def setUpModule():
  # Two logical CPUs, before TensorFlow initializes its devices (when other
  # test files ran first in this process, the device test runs in a fresh
  # one).
  cpu = tf.config.list_physical_devices('CPU')[0]
  try:
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
  except RuntimeError:
    pass


def _processes():
  model = test_models.build_softmax_regression
  client_sgd = sgdm.build_sgdm(learning_rate=0.3)
  return {
      'fed_avg_weighted': lambda: fed_avg.build_weighted_fed_avg(
          model(), client_optimizer_fn=client_sgd),
      'fed_avg_unweighted': lambda: fed_avg.build_unweighted_fed_avg(
          model(), client_optimizer_fn=sgdm.build_sgdm(0.3, momentum=0.9)),
      'fed_prox': lambda: fed_prox.build_weighted_fed_prox(
          model(), proximal_strength=0.5, client_optimizer_fn=client_sgd),
      'fed_sgd': lambda: fed_sgd.build_fed_sgd(model()),
      'fed_eval': lambda: fed_eval.build_fed_eval(model()),
  }


def _tensorflow_blocks(block):
  if isinstance(block, bb.TensorFlow):
    return [block]
  return [b for child in block.children() for b in _tensorflow_blocks(child)]


def _client_work_block(process) -> bb.TensorFlow:
  """The process's TensorFlow block that takes a client's dataset."""
  blocks = [
      b for b in _tensorflow_blocks(process.next.to_building_block())
      if any(isinstance(t, ct.SequenceType)
             for t in client_graph_split._leaves(b.type_signature.parameter))
  ]
  assert len(blocks) == 1, blocks
  return blocks[0]


def _datasets(sizes, pipeline: str = 'sliced'):
  arrays = test_models.client_arrays(len(sizes), sizes)
  datasets = test_models.client_datasets(arrays, _BATCH_SIZE)
  if pipeline == 'mapped':  # Not read by the fast path: tf.data reads it.
    datasets = [d.map(lambda e: e) for d in datasets]
  return datasets


def _value(type_spec: ct.Type, dataset, rng) -> object:
  """A value of `type_spec` with `dataset` for its sequence leaf."""
  if isinstance(type_spec, ct.SequenceType):
    return dataset
  if isinstance(type_spec, ct.StructType):
    return structure.Struct([(n, _value(t, dataset, rng))
                             for n, t in type_spec.items()])
  if type_spec.dtype.kind == 'f':
    if not type_spec.shape:  # Hyperparameters such as a learning rate.
      return np.asarray(0.2, type_spec.dtype)
    return rng.normal(scale=0.5, size=type_spec.shape).astype(type_spec.dtype)
  return np.zeros(type_spec.shape, type_spec.dtype)


def _client_arguments(block, datasets, shared: bool) -> list:
  """One argument per client; tensor leaves shared by all or per client."""
  rng = np.random.default_rng(7)
  parameter = block.type_signature.parameter
  if shared:
    common = _value(parameter, None, rng)
    return [_with_dataset(common, parameter, d) for d in datasets]
  return [_value(parameter, d, rng) for d in datasets]


def _with_dataset(value, type_spec, dataset):
  if isinstance(type_spec, ct.SequenceType):
    return dataset
  if isinstance(type_spec, ct.StructType):
    return structure.Struct([(n, _with_dataset(v, t, dataset))
                             for (n, v), t in zip(value.items(), type_spec)])
  return value  # The same object for every client.


def _reference_round(process, datasets):
  """The process's initial state and its next round on the reference."""
  with reference.create_reference_execution_context():
    state = process.initialize()
    return state, process.next(state, datasets)


def _spy_on_vectorized_calls():
  return mock.patch.object(VectorizedComputation, '__call__', autospec=True,
                           side_effect=VectorizedComputation.__call__)


def _leaves(value):
  if isinstance(value, structure.Struct):
    return [leaf for v in value for leaf in _leaves(v)]
  return [np.asarray(value)]


class VectorizedComputationTest(parameterized.TestCase):

  def assert_close(self, actual, expected):
    actual, expected = _leaves(actual), _leaves(expected)
    self.assertLen(actual, len(expected))
    for a, e in zip(actual, expected):
      self.assertEqual(a.shape, e.shape)
      self.assertEqual(a.dtype, e.dtype)
      np.testing.assert_allclose(a, e, rtol=_RTOL, atol=_RTOL * max(
          1.0, float(np.max(np.abs(e), initial=0.0))))

  def assert_same_round(self, actual, expected):
    self.assert_close(structure.from_container(actual.state, True),
                      structure.from_container(expected.state, True))
    self.assert_close(structure.from_container(actual.metrics, True),
                      structure.from_container(expected.metrics, True))

  @parameterized.product(
      algorithm=list(_processes()),
      shared=[True, False],
      pipeline=['sliced', 'mapped'])
  def test_each_client_equals_per_client_run_learning_client_work(
      self, algorithm, shared, pipeline):
    block = _client_work_block(_processes()[algorithm]())
    args = _client_arguments(block, _datasets(_SIZES, pipeline), shared)
    runner = tensorflow_runner.load(block)

    vectorized = vectorized_computation.analyse(block)
    stacked = vectorized(args)

    self.assertIsInstance(vectorized, VectorizedComputation)
    for i, arg in enumerate(args):
      member = structure.map_structure(lambda leaf: leaf[i], stacked) if (
          isinstance(stacked, structure.Struct)) else stacked[i]
      self.assert_close(member, runner(arg))

  @parameterized.named_parameters(
      ('weighted', 'fed_avg_weighted'), ('unweighted', 'fed_avg_unweighted'),
      ('prox', 'fed_prox'), ('sgd', 'fed_sgd'), ('eval', 'fed_eval'))
  def test_round_equals_reference_backend_uneven_clients(self, algorithm):
    process = _processes()[algorithm]()
    datasets = _datasets(_SIZES)
    state, expected = _reference_round(process, datasets)

    with native.create_local_execution_context(
        vectorize_clients=True), _spy_on_vectorized_calls() as call:
      actual = process.next(state, datasets)

    self.assertGreater(call.call_count, 0)
    self.assert_same_round(actual, expected)

  def test_no_vectorized_call_when_turned_off(self):
    process = _processes()['fed_avg_weighted']()
    datasets = _datasets(_SIZES)

    with native.create_local_execution_context(
        vectorize_clients=False), _spy_on_vectorized_calls() as call:
      process.next(process.initialize(), datasets)

    self.assertEqual(call.call_count, 0)

  def test_one_call_per_device_over_its_share_two_logical_cpus(self):
    if len(tf.config.list_logical_devices('CPU')) < 2:
      # TensorFlow was initialized before setUpModule: rerun this test alone.
      name = f'{type(self).__name__}.{self._testMethodName}'
      env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
      process = subprocess.run(
          [sys.executable, '-m', __name__, name], env=env, check=False,
          capture_output=True, text=True, timeout=600)
      self.assertEqual(process.returncode, 0, process.stderr[-3000:])
      self.assertIn('OK', process.stderr)
      return
    devices = ['/device:CPU:0', '/device:CPU:1']
    process = _processes()['fed_avg_weighted']()
    datasets = _datasets(_SIZES)
    state, expected = _reference_round(process, datasets)

    with native.create_local_execution_context(
        client_devices=devices), _spy_on_vectorized_calls() as call:
      actual = process.next(state, datasets)

    self.assertLen(tf.config.list_logical_devices('CPU'), 2)
    # The client update's calls (the weighted mean's multiply by the
    # weights runs client by client: too few clients for a dataset-free
    # computation).
    calls = sorted((c.args[2], len(c.args[1])) for c in call.call_args_list
                   if c.args[0].name == 'client_update')
    self.assertEqual(calls, [(devices[0], 5), (devices[1], 6)])
    self.assert_same_round(actual, expected)

  def test_calls_hold_at_most_max_clients_per_call(self):
    block = _client_work_block(_processes()['fed_avg_weighted']())
    args = _client_arguments(block, _datasets(_SIZES), shared=True)
    runner = tensorflow_runner.load(block)
    vectorized = vectorized_computation.analyse(block, max_clients_per_call=3)

    with mock.patch.object(vectorized, '_phases',
                           side_effect=vectorized._phases) as phases:
      stacked = vectorized(args)

    # One call (one dataset read) per part of at most 3 clients.
    self.assertEqual([len(c.args[0]) for c in phases.call_args_list],
                     [3, 3, 3, 2])
    for i in (0, 4, 10):
      member = structure.map_structure(lambda leaf, i=i: leaf[i], stacked)
      self.assert_close(member, runner(args[i]))

  def test_executor_calls_hold_at_most_max_clients_per_vectorized_call(self):
    process = _processes()['fed_avg_weighted']()
    datasets = _datasets(_SIZES)
    state, expected = _reference_round(process, datasets)
    context = execution_context.ExecutionContext(
        lambda: thread_pool_executor.ThreadPoolExecutor(
            max_clients_per_vectorized_call=4))

    with context, _spy_on_vectorized_calls() as call:
      actual = process.next(state, datasets)

    sizes = [len(c.args[1]) for c in call.call_args_list
             if c.args[0].name == 'client_update']
    self.assertNotEmpty(sizes)
    self.assertLessEqual(max(sizes), 4)
    self.assert_same_round(actual, expected)

  def test_executor_refuses_nonpositive_max_clients_per_vectorized_call(self):
    with self.assertRaises(ValueError):
      thread_pool_executor.ThreadPoolExecutor(
          max_clients_per_vectorized_call=0)

  def test_function_asks_for_vectorized_form_once(self):
    block = _client_work_block(_processes()['fed_eval']())
    vectorize = mock.Mock(return_value=None)
    fn = client_strategy.TensorFlowFunction(block, lambda arg: arg,
                                            vectorize=vectorize)

    results = [fn.vectorized(), fn.vectorized()]

    self.assertEqual(results, [None, None])
    vectorize.assert_called_once_with()
    self.assertIsNone(client_strategy.TensorFlowFunction(
        block, lambda arg: arg).vectorized())

  def test_phase_table_rows_hold_each_phase_reads_of_schedule(self):
    specs = [tf.TensorSpec([None, 3, 2], tf.float32),
             tf.TensorSpec([], tf.int32)]
    # Phase 0: clients 0..2, 4 and 1 rows each; phase 1: client 1, 2 and
    # 1 rows (rows counted per component, clients after clients).
    schedule = [np.array([0, 1, 2, 1], np.int32),
                np.array([0, 3, 4], np.int32),
                np.array([[4, 1], [2, 1]], np.int32),
                np.array([[0, 0], [12, 3], [14, 4]], np.int32)]

    clients, table = vectorized_computation._phase_table(specs, schedule)
    widths = vectorized_computation._phase_widths(specs)

    np.testing.assert_array_equal(clients, schedule[0])
    self.assertEqual(table.dtype, np.int32)
    self.assertEqual(table.shape, (2, sum(widths)))
    fields = [np.split(row, np.cumsum(widths)[:-1]) for row in table]
    self.assertEqual([f.tolist() for f in fields[0]],
                     [[0], [3], [0, 0, 0], [12, -1, -1], [3, 4, 3, 2],
                      [0], [3], [3]])
    self.assertEqual([f.tolist() for f in fields[1]],
                     [[3], [1], [12, 0, 0], [2, -1, -1], [1, 2, 3, 2],
                      [3], [1], [1]])

  def test_tensor_only_computation_vectorizes(self):

    @tensorflow_computation.tf_computation(
        ct.TensorType(np.float32, [3]), ct.TensorType(np.float32, [3, 2]))
    def project(x, m):
      return tf.nn.softmax(tf.linalg.matvec(m, x, transpose_a=True))

    block = project.to_building_block()
    rng = np.random.default_rng(0)
    m = rng.normal(size=(3, 2)).astype(np.float32)
    args = [structure.Struct([('x', rng.normal(size=3).astype(np.float32)),
                              ('m', m)]) for _ in range(6)]
    runner = tensorflow_runner.load(block)

    stacked = vectorized_computation.analyse(block)(args)

    for i, arg in enumerate(args):
      self.assert_close(stacked[i], runner(arg))

  def test_returns_none_when_client_tensors_do_not_stack(self):

    @tensorflow_computation.tf_computation(ct.TensorType(np.float32, [None]))
    def total(x):
      return tf.reduce_sum(x)

    vectorized = vectorized_computation.analyse(total.to_building_block())

    result = vectorized([np.ones(2, np.float32), np.ones(3, np.float32)])

    self.assertIsNone(result)

  def test_reason_names_stateful_op(self):

    @tensorflow_computation.tf_computation(np.float32)
    def noisy(x):
      return x + tf.random.uniform([])

    result = vectorized_computation.analyse(noisy.to_building_block())

    self.assertIsInstance(result, vectorized_computation.NotVectorizable)
    self.assertIn('stateful op RandomUniform', result.reason)

  def test_reason_names_two_datasets(self):
    sequence = ct.SequenceType(np.float32)

    @tensorflow_computation.tf_computation(sequence, sequence)
    def both(a, b):
      return a.reduce(0.0, tf.add) + b.reduce(0.0, tf.add)

    result = vectorized_computation.analyse(both.to_building_block())

    self.assertIsInstance(result, vectorized_computation.NotVectorizable)
    self.assertIn('2 dataset parameters', result.reason)

  def test_reason_names_op_pfor_cannot_vectorize(self):

    @tensorflow_computation.tf_computation(ct.TensorType(np.int32, [4]))
    def distinct(x):
      return tf.size(tf.unique(x).y)

    result = vectorized_computation.analyse(distinct.to_building_block())

    self.assertIsInstance(result, vectorized_computation.NotVectorizable)
    self.assertIn('Unique', result.reason)

  def test_map_falls_back_and_logs_reason_once_stateful_op(self):

    @tensorflow_computation.tf_computation(np.float32)
    def printed(x):
      with tf.control_dependencies([tf.print(x)]):
        return x + 1.0

    @federated_computation.federated_computation(
        ct.type_at_clients(np.float32))
    def program(x):
      return intrinsics.federated_map(printed, x)

    with native.create_local_execution_context(), self.assertLogs(
        level='INFO') as logs, mock.patch.object(
            VectorizedComputation, '__call__', autospec=True) as call:
      first = program([1.0, 2.0, 3.0])
      second = program([4.0, 5.0])

    self.assertEqual(call.call_count, 0)
    self.assertEqual([float(v) for v in first], [2.0, 3.0, 4.0])
    self.assertEqual([float(v) for v in second], [5.0, 6.0])
    reasons = [r for r in logs.output if 'not vectorized' in r]
    self.assertLen(reasons, 1)
    self.assertIn('PrintV2', reasons[0])


if __name__ == '__main__':
  absltest.main()
