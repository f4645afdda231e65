"""Tests of the interpreter's handler table, its analysis and client errors.

Each handler's results are compared across strategies in `differential_test`
and the remote tests.
"""

from absl.testing import absltest
import numpy as np

from tffx.computations import building_blocks as bb
from tffx.computations import intrinsic_defs
from tffx.executors import federated_value
from tffx.executors import thread_pool_executor
from tffx.executors import interpreter
from tffx.executors import ir_analysis
from tffx.types import computation_types as ct
from tffx_test.executors import test_utils

I32 = ct.TensorType(np.int32)


class _TwoArgumentError(Exception):
  """An error class that cannot be built from a message alone."""

  def __init__(self, code, message):
    super().__init__(f'[{code}] {message}')


def _map_block(fn):
  param = ct.type_at_clients(I32)
  intrinsic = bb.Intrinsic('federated_map', ct.FunctionType(
      ct.StructType([fn.type_signature, param]), param))
  return bb.Lambda('x', param, bb.Call(intrinsic, bb.Struct(
      [fn, bb.Reference('x', param)])))


def _run_map(test, fn, values):
  executor = thread_pool_executor.ThreadPoolExecutor(
      max_concurrent_computation_calls=2, clients_per_chunk=1,
      load_tensorflow=test_utils.load)
  test.addCleanup(executor.close)
  arg = federated_value.FederatedValue(ct.type_at_clients(I32),
                                       [np.int32(v) for v in values])
  return executor.run(_map_block(fn), arg, len(values))


class InterpreterTest(absltest.TestCase):

  def test_table_handles_every_intrinsic(self):
    self.assertEqual(set(interpreter.HANDLERS), set(intrinsic_defs.BY_URI))

  def test_analysis_counts_uses_once_per_computation(self):
    x = bb.Reference('x', I32)
    inner = bb.Lambda('y', I32, bb.Reference('a', I32))
    block = bb.Lambda('x', I32, bb.Block(
        [('a', x), ('b', bb.Struct([x, x]))],
        bb.Struct([bb.Reference('a', I32), inner,
                   bb.Reference('b', ct.StructType([I32, I32]))])))

    analysis = ir_analysis.analyse(block)

    self.assertIs(ir_analysis.analyse(block), analysis)
    self.assertEqual(analysis.parameter_uses(block), 3)
    # `a` is also used inside a Lambda: unknown; `b` once.
    self.assertEqual(analysis.local_uses(block.result), [None, 1])
    self.assertEqual(analysis.parameter_uses(inner), 0)

  def test_client_error_keeps_its_class_and_names_client(self):

    def reject_three(x):
      if x == 3:
        raise LookupError('three')
      return x

    fn = test_utils.python_tf_block(reject_three, I32, I32, 'reject_three')

    with self.assertRaisesRegex(
        LookupError, r'federated_map\(python_reject_three_\d+\) failed for '
        r'client 2: three') as raised:
      _run_map(self, fn, [1, 2, 3, 4])
    self.assertIsInstance(raised.exception.__cause__, LookupError)

  def test_client_error_of_other_constructor_gets_a_note(self):

    def reject(x):
      raise _TwoArgumentError(7, f'no {x}')

    fn = test_utils.python_tf_block(reject, I32, I32, 'reject')

    with self.assertRaisesRegex(_TwoArgumentError, r'\[7\] no 5') as raised:
      _run_map(self, fn, [5])
    self.assertRegex(raised.exception.__notes__[0],
                     r'federated_map\(python_reject_\d+\) failed for client 0')


if __name__ == '__main__':
  absltest.main()
