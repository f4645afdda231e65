import collections

from absl.testing import absltest
import numpy as np

from tffx.backends import native
from tffx.computations import context_stack
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.program import federated_context
from tffx.program import native_platform
from tffx.program import value_reference
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
_add = tensorflow_computation.tf_computation(lambda x, y: x + y, np.int32,
                                             np.int32)


@fc(ct.type_at_server(np.int32), ct.type_at_clients(np.int32))
def _train(state, values):
  total = intrinsics.federated_sum(values)
  return (intrinsics.federated_map(_add, (state, total)),
          collections.OrderedDict(total=total))


@fc
def _initialize():
  return intrinsics.federated_value(np.int32(10), placements.SERVER)


@fc(ct.type_at_clients(np.int32))
def _identity_at_clients(values):
  return values


class NativeFederatedContextTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.context = native_platform.NativeFederatedContext(
        native.create_local_execution_context())

  def test_results_are_references_and_references_go_back_in(self):
    with context_stack.with_context(self.context):
      federated_context.check_in_federated_context()
      state = _initialize()
      state, metrics = _train(state, [1, 2, 3])

    self.assertIsInstance(state, native_platform.NativeValueReference)
    self.assertEqual(state.type_signature, ct.TensorType(np.int32))
    self.assertEqual(state.get_value(), 16)
    self.assertIsInstance(metrics['total'],
                          value_reference.MaterializableValueReference)
    self.assertEqual(
        value_reference.materialize_value(metrics),
        collections.OrderedDict(total=6))

  def test_refuses_computation_returning_client_values(self):
    with context_stack.with_context(self.context):
      with self.assertRaises(ValueError):
        _identity_at_clients([1, 2])

  def test_refuses_async_context(self):
    with self.assertRaises(TypeError):
      native_platform.NativeFederatedContext(
          native.create_async_local_cpp_execution_context())

  def test_reference_refuses_federated_type(self):
    with self.assertRaises(TypeError):
      native_platform.NativeValueReference(1, ct.type_at_server(np.int32))


if __name__ == '__main__':
  absltest.main()
