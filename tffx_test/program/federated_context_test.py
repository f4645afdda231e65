from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.backends import native
from tffx.computations import context_stack
from tffx.program import federated_context
from tffx.types import computation_types as ct


class _Context(federated_context.FederatedContext):

  def invoke(self, comp, arg):
    return comp, arg


class CheckInFederatedContextTest(absltest.TestCase):

  def test_passes_in_federated_context(self):
    with context_stack.with_context(_Context()):
      federated_context.check_in_federated_context()

  def test_raises_value_error_outside(self):
    with context_stack.with_context(native.create_local_execution_context()):
      with self.assertRaises(ValueError):
        federated_context.check_in_federated_context()


class ContainsOnlyServerPlacedDataTest(absltest.TestCase):

  def test_server_and_unplaced_data_is_accepted(self):
    self.assertTrue(
        federated_context.contains_only_server_placed_data(
            ct.StructType([ct.type_at_server(np.int32),
                           ct.SequenceType(np.float32),
                           ct.TensorType(tf.string)])))

  def test_clients_and_functions_are_refused(self):
    self.assertFalse(
        federated_context.contains_only_server_placed_data(
            ct.StructType([ct.type_at_server(np.int32),
                           ct.type_at_clients(np.int32)])))
    self.assertFalse(
        federated_context.contains_only_server_placed_data(
            ct.FunctionType(np.int32, np.int32)))


if __name__ == '__main__':
  absltest.main()
