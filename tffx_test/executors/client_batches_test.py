from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.executors import client_batches
from tffx.types import computation_types as ct
from tffx.types import structure

F32 = ct.TensorType(np.float32)
VECTOR = ct.TensorType(np.float32, [2])
PAIR = ct.StructType([('a', F32), ('b', ct.StructType([VECTOR]))])
Struct = structure.Struct


class ClientBatchTest(absltest.TestCase):

  def test_members_of_stacked_tensors_are_zero_d_slices(self):
    batch = client_batches.ClientBatch(F32, 3,
                                       stacked=np.float32([1.0, 2.0, 3.0]))

    members = batch.members()

    self.assertEqual([m.shape for m in members], [()] * 3)
    self.assertEqual([float(m) for m in members], [1.0, 2.0, 3.0])
    self.assertTrue(batch.is_stacked)

  def test_members_of_stacked_structs_keep_names(self):
    stacked = Struct.named(a=np.float32([1, 2]),
                           b=Struct.unnamed(np.float32([[1, 2], [3, 4]])))
    batch = client_batches.ClientBatch(PAIR, 2, stacked=stacked)

    first, second = batch.members()

    self.assertEqual(first.names(), ['a', 'b'])
    self.assertEqual(second.a, 2.0)
    np.testing.assert_array_equal(second.b[0], [3, 4])

  def test_stacked_stacks_struct_leaves(self):
    members = [
        Struct.named(a=np.float32(i), b=Struct.unnamed(np.float32([i, -i])))
        for i in range(3)
    ]
    batch = client_batches.ClientBatch.of_members(PAIR, members)

    stacked = batch.stacked()

    np.testing.assert_array_equal(stacked.a, [0, 1, 2])
    np.testing.assert_array_equal(stacked.b[0], [[0, 0], [1, -1], [2, -2]])
    self.assertEqual(stacked.a.dtype, np.float32)

  def test_stacked_is_none_when_members_do_not_stack(self):
    ragged = client_batches.ClientBatch.of_members(
        ct.TensorType(np.float32, [None]),
        [np.float32([1]), np.float32([1, 2])])
    other_dtype = client_batches.ClientBatch.of_members(
        F32, [np.float64(1), np.float64(2)])
    datasets = client_batches.ClientBatch.of_members(
        ct.SequenceType(F32), [tf.data.Dataset.range(2)] * 2)

    self.assertIsNone(ragged.stacked())
    self.assertIsNone(other_dtype.stacked())
    self.assertIsNone(datasets.stacked())
    self.assertFalse(ragged.is_stacked)

  def test_members_of_empty_structs(self):
    batch = client_batches.ClientBatch(ct.StructType([]), 2,
                                       stacked=Struct([]))

    self.assertEqual(batch.members(), [Struct([]), Struct([])])

  def test_refuses_batch_without_values(self):
    with self.assertRaisesRegex(ValueError, 'members or their stack'):
      client_batches.ClientBatch(F32, 1)


if __name__ == '__main__':
  absltest.main()
