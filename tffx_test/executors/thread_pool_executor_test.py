"""Tests of what is particular to the thread-pool executor.

Its results are checked against the reference executor on the reference's
own suites in `differential_test`; here: streaming, reuse, concurrency,
errors, and the executor's options.
"""

import os
import threading
import weakref

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.computations import errors as computation_errors
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.executors import thread_pool_executor
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure
from tffx_test.executors import test_utils

F32 = ct.TensorType(np.float32)
I32 = ct.TensorType(np.int32)


def _call(uri, arg_block, result_type):
  intrinsic = bb.Intrinsic(
      uri, ct.FunctionType(arg_block.type_signature, result_type))
  return bb.Call(intrinsic, arg_block)


def _lambda(parameter_type, body):
  return bb.Lambda('x', parameter_type,
                   body(bb.Reference('x', parameter_type)))


def _map(fn, value, member_type):
  return _call('federated_map', bb.Struct([fn, value]),
               ct.type_at_clients(member_type))


def _at_clients(members, member_type, all_equal=False):
  return federated_value.FederatedValue(
      ct.FederatedType(member_type, placements.CLIENTS, all_equal),
      [np.asarray(m, dtype=member_type.dtype) for m in members])


def _executor(test, **kwargs):
  kwargs.setdefault('load_tensorflow', test_utils.load)
  executor = thread_pool_executor.ThreadPoolExecutor(**kwargs)
  test.addCleanup(executor.close)
  return executor


class _CallLog:
  """A stand-in's record of its calls, safe to update from pool threads."""

  def __init__(self):
    self.lock = threading.Lock()
    self.arguments = []
    self.threads = set()

  def add(self, argument):
    with self.lock:
      self.arguments.append(argument)
      self.threads.add(threading.get_ident())


class ThreadPoolExecutorTest(parameterized.TestCase):

  def test_mean_of_map_holds_a_bounded_number_of_mapped_values(self):
    threads, num_clients = 2, 300
    alive = []  # Weak references to every mapped value.
    most_alive = [0]
    lock = threading.Lock()

    def add_one(x):
      with lock:
        most_alive[0] = max(most_alive[0],
                            sum(r() is not None for r in alive))
        result = np.asarray(x + np.float32(1))
        alive.append(weakref.ref(result))
      return result

    fn = test_utils.python_tf_block(add_one, F32, F32, 'tracked_add_one')
    block = _lambda(ct.type_at_clients(F32), lambda x: _call(
        'federated_mean', _map(fn, x, F32), ct.type_at_server(F32)))
    executor = _executor(self, max_concurrent_computation_calls=threads,
                         clients_per_chunk=1)

    result = executor.run(block, _at_clients(range(num_clients), F32),
                          num_clients)

    self.assertEqual(result.members[0], np.float32(num_clients / 2 + 0.5))
    self.assertLen(alive, num_clients)
    # In flight: one value per thread, plus the one being added.
    self.assertLessEqual(most_alive[0], threads + 1)

  def test_map_consumed_twice_is_computed_once_per_client(self):
    log = _CallLog()

    def double(x):
      log.add(x)
      return x * np.float32(2)

    fn = test_utils.python_tf_block(double, F32, F32, 'logged_double')
    block = _lambda(ct.type_at_clients(F32), lambda x: bb.Block(
        [('doubled', _map(fn, x, F32))],
        bb.Struct([
            _call('federated_sum', bb.Reference('doubled',
                                                ct.type_at_clients(F32)),
                  ct.type_at_server(F32)),
            _call('federated_max', bb.Reference('doubled',
                                                ct.type_at_clients(F32)),
                  ct.type_at_server(F32)),
        ])))
    executor = _executor(self, max_concurrent_computation_calls=2,
                         clients_per_chunk=2)

    total, largest = executor.run(block, _at_clients([1, 2, 3, 4, 5], F32), 5)

    self.assertEqual(total.members[0], 30.0)
    self.assertEqual(largest.members[0], 10.0)
    self.assertCountEqual(log.arguments, [1, 2, 3, 4, 5])

  def test_map_used_inside_a_lambda_is_computed_once_per_client(self):
    log = _CallLog()

    def double(x):
      log.add(x)
      return x * np.float32(2)

    fn = test_utils.python_tf_block(double, F32, F32, 'logged_double')
    clients = ct.type_at_clients(F32)
    # `total` may run any number of times, so `doubled` is kept.
    total = bb.Lambda('unused', I32, _call(
        'federated_sum', bb.Reference('doubled', clients),
        ct.type_at_server(F32)))
    block = _lambda(clients, lambda x: bb.Block(
        [('doubled', _map(fn, x, F32)), ('total', total)],
        bb.Struct([
            bb.Call(bb.Reference('total', total.type_signature),
                    bb.Literal(np.int32(i))) for i in range(3)
        ])))
    executor = _executor(self, max_concurrent_computation_calls=2,
                         clients_per_chunk=1)

    result = executor.run(block, _at_clients([1, 2, 3], F32), 3)

    self.assertEqual([r.members[0] for r in result], [12.0] * 3)
    self.assertCountEqual(log.arguments, [1, 2, 3])

  def test_map_that_nothing_consumes_is_not_computed(self):
    log = _CallLog()
    fn = test_utils.python_tf_block(log.add, F32, F32, 'logged')
    block = _lambda(ct.type_at_clients(F32), lambda x: bb.Block(
        [('unused', _map(fn, x, F32))],
        _call('federated_sum', x, ct.type_at_server(F32))))
    executor = _executor(self)

    result = executor.run(block, _at_clients([1, 2], F32), 2)

    self.assertEqual(result.members[0], 3.0)
    self.assertEmpty(log.arguments)

  def test_federated_eval_at_clients_calls_function_once_per_client(self):
    log = _CallLog()

    def seven(unused_arg):
      log.add(None)
      return np.int32(7)

    fn = test_utils.python_tf_block(seven, None, I32, 'seven')
    block = bb.Lambda(None, None, _call('federated_eval_at_clients', fn,
                                        ct.type_at_clients(I32)))
    executor = _executor(self, max_concurrent_computation_calls=2,
                         clients_per_chunk=1)

    result = executor.run(block, None, 4)

    self.assertEqual(list(result.members), [7] * 4)
    self.assertLen(log.arguments, 4)

  def test_federated_map_all_equal_calls_function_once(self):
    log = _CallLog()

    def add_one(x):
      log.add(x)
      return x + np.float32(1)

    fn = test_utils.python_tf_block(add_one, F32, F32, 'logged_add_one')
    param = ct.type_at_clients(F32, all_equal=True)
    block = _lambda(param, lambda x: _call(
        'federated_map_all_equal', bb.Struct([fn, x]), param))
    executor = _executor(self)

    result = executor.run(block, _at_clients([1, 1, 1], F32, True), 3)

    self.assertEqual(list(result.members), [2.0] * 3)
    self.assertLen(log.arguments, 1)

  def test_federated_aggregate_merges_chunk_accumulators_in_order(self):
    merges = _CallLog()
    # Accumulators are lists of client values, to check the merge order.
    accumulate = test_utils.python_tf_block(
        lambda a: np.append(a[0], a[1]).astype(np.int32),
        ct.StructType([ct.TensorType(np.int32, [None]), I32]),
        ct.TensorType(np.int32, [None]), 'append')

    def concatenate(a):
      merges.add(None)
      return np.concatenate([a[0], a[1]])

    merge = test_utils.python_tf_block(
        concatenate,
        ct.StructType([ct.TensorType(np.int32, [None])] * 2),
        ct.TensorType(np.int32, [None]), 'concatenate')
    report = test_utils.python_tf_block(lambda a: a, ct.TensorType(
        np.int32, [None]), ct.TensorType(np.int32, [None]), 'identity')
    zero = bb.Literal(np.zeros([0], np.int32),
                      ct.TensorType(np.int32, [None]))
    block = _lambda(ct.type_at_clients(I32), lambda x: _call(
        'federated_aggregate', bb.Struct([x, zero, accumulate, merge, report]),
        ct.type_at_server(ct.TensorType(np.int32, [None]))))
    executor = _executor(self, max_concurrent_computation_calls=2,
                         clients_per_chunk=2)

    result = executor.run(block, _at_clients([5, 4, 3, 2, 1], I32), 5)

    np.testing.assert_array_equal(result.members[0], [5, 4, 3, 2, 1])
    self.assertLen(merges.arguments, 2)  # Three chunks: [5, 4] [3, 2] [1].

  def test_client_work_runs_on_several_threads_at_once(self):
    threads = 2
    barrier = threading.Barrier(threads, timeout=30)
    log = _CallLog()
    active, most_active = [0], [0]

    def wait_for_each_other(x):
      log.add(x)
      with log.lock:
        active[0] += 1
        most_active[0] = max(most_active[0], active[0])
      if x < threads:
        barrier.wait()  # Breaks (and fails the test) unless both run.
      with log.lock:
        active[0] -= 1
      return x

    fn = test_utils.python_tf_block(wait_for_each_other, F32, F32, 'meet')
    block = _lambda(ct.type_at_clients(F32), lambda x: _call(
        'federated_sum', _map(fn, x, F32), ct.type_at_server(F32)))
    executor = _executor(self, max_concurrent_computation_calls=threads,
                         clients_per_chunk=1)

    result = executor.run(block, _at_clients(range(40), F32), 40)

    self.assertEqual(result.members[0], sum(range(40)))
    self.assertLen(log.threads, threads)
    self.assertLessEqual(most_active[0], threads)

  def test_client_error_names_client_and_computation(self):

    @tfc.tf_computation(np.int32)
    def twelve_over(x):
      return tf.raw_ops.Div(x=tf.constant(12), y=x)

    block = _lambda(ct.type_at_clients(I32), lambda x: _call(
        'federated_sum', _map(twelve_over.to_building_block(), x, I32),
        ct.type_at_server(I32)))
    executor = _executor(self, max_concurrent_computation_calls=2,
                         clients_per_chunk=4)

    # The batched call fails for the whole chunk and raises, naming the
    # chunk's clients; nothing is retried client by client.
    with self.assertRaisesRegex(
        computation_errors.TensorFlowExecutionError,
        r'federated_map\(twelve_over\) failed for clients 4-7 \(one batched '
        r'call\): .*twelve_over.*Integer division by zero'):
      executor.run(block, _at_clients([1, 2, 3, 4, 6, 0, 0, 1], I32), 8)
    result = executor.run(block, _at_clients([1, 2, 3, 4], I32), 4)

    self.assertEqual(result.members[0], 12 + 6 + 4 + 3)

  @parameterized.named_parameters(('one_per_chunk', 1), ('three_per_chunk', 3))
  def test_error_of_first_failing_client_is_raised(self, clients_per_chunk):

    def fail_on_odd(x):
      if x % 2:
        raise ValueError(f'odd value {x}')
      return x

    fn = test_utils.python_tf_block(fail_on_odd, I32, I32, 'fail_on_odd')
    block = _lambda(ct.type_at_clients(I32), lambda x: _map(fn, x, I32))
    executor = _executor(self, max_concurrent_computation_calls=2,
                         clients_per_chunk=clients_per_chunk)

    with self.assertRaisesRegex(ValueError, r'client 4: odd value 9'):
      executor.run(block, _at_clients([0, 2, 4, 6, 9, 11, 13], I32), 7)

  def test_map_mean_of_many_clients_equals_reference_exactly(self):

    @tfc.tf_computation(np.float32)
    def scale(x):
      return x * 1.1 + 0.3

    block = _lambda(ct.type_at_clients(F32), lambda x: _call(
        'federated_mean', _map(scale.to_building_block(), x, F32),
        ct.type_at_server(F32)))
    rng = np.random.default_rng(0)
    arg = _at_clients(rng.normal(size=3000) * 1000, F32)
    executor = _executor(self, max_concurrent_computation_calls=2)

    result = executor.run(block, arg, 3000)

    expected = reference_executor.ReferenceExecutor().run(block, arg, 3000)
    test_utils.assert_same_result(self, result, expected)

  def test_zip_then_map_over_structs(self):
    member = ct.StructType([('a', F32), ('b', I32)])
    total = test_utils.python_tf_block(
        lambda s: s.a + s.b.astype(np.float32), member, F32, 'total')
    param = ct.StructType([('a', ct.type_at_clients(F32)),
                           ('b', ct.type_at_clients(I32))])
    block = _lambda(param, lambda x: _map(
        total,
        _call('federated_zip_at_clients', x, ct.type_at_clients(member)),
        F32))
    arg = structure.Struct.named(a=_at_clients([0.5, 1.5, 2.5], F32),
                                 b=_at_clients([1, 2, 3], I32))
    executor = _executor(self, clients_per_chunk=2)

    result = executor.run(block, arg, 3)

    self.assertEqual(list(result.members), [1.5, 3.5, 5.5])

  def test_tensorflow_blocks_load_once_across_clients_and_runs(self):
    loaded = []

    def load(block):
      loaded.append(block.name)
      return test_utils.load(block)

    fn = test_utils.python_tf_block(lambda x: x, F32, F32, 'identity')
    block = _lambda(ct.type_at_clients(F32), lambda x: _call(
        'federated_sum', _map(fn, x, F32), ct.type_at_server(F32)))
    executor = _executor(self, load_tensorflow=load, clients_per_chunk=1)

    for _ in range(3):
      executor.run(block, _at_clients(range(5), F32), 5)

    self.assertEqual(loaded, [fn.name])

  def test_run_after_close_raises(self):
    executor = thread_pool_executor.ThreadPoolExecutor()
    executor.close()

    with self.assertRaisesRegex(RuntimeError, 'closed'):
      executor.run(bb.Lambda(None, None, bb.Literal(np.int32(1))), None, 0)

  @parameterized.named_parameters(('none', None), ('no_limit', -1))
  def test_default_concurrency_is_one_call_per_core(self, value):
    executor = _executor(self, max_concurrent_computation_calls=value)

    self.assertEqual(executor.max_concurrent_computation_calls,
                     os.cpu_count())

  def test_refuses_non_positive_clients_per_chunk(self):
    with self.assertRaisesRegex(ValueError, 'clients_per_chunk'):
      thread_pool_executor.ThreadPoolExecutor(clients_per_chunk=0)


if __name__ == '__main__':
  absltest.main()
