from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import tensorflow_computation
from tffx.learning.templates import loop_builder
from tffx.types import computation_types as ct

LoopImplementation = loop_builder.LoopImplementation
_DATA = ct.SequenceType(ct.TensorType(np.float32, [None]))


def _fold_fn(loop_implementation):
  """A tf_computation folding batches in order: (sum * 2 + batch sum, count)."""
  loop = loop_builder.build_training_loop(loop_implementation)

  @tensorflow_computation.tf_computation(_DATA)
  def fold(dataset):

    def step(state, batch):
      total, count = state
      return total * 2.0 + tf.reduce_sum(batch), count + 1

    return loop(step, dataset, (tf.constant(0.0), tf.constant(0)))

  return fold


class BuildTrainingLoopTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('reduce', LoopImplementation.DATASET_REDUCE),
      ('iterator', LoopImplementation.DATASET_ITERATOR),
  )
  def test_folds_batches_in_order(self, loop_implementation):
    dataset = tf.data.Dataset.from_tensor_slices(
        np.float32([1.0, 2.0, 3.0, 4.0, 5.0])).batch(2)

    total, count = _fold_fn(loop_implementation)(dataset)

    # ((0 * 2 + 3) * 2 + 7) * 2 + 5: the order of the batches matters.
    self.assertEqual(float(total), 31.0)
    self.assertEqual(int(count), 3)

  @parameterized.named_parameters(
      ('reduce', LoopImplementation.DATASET_REDUCE),
      ('iterator', LoopImplementation.DATASET_ITERATOR),
  )
  def test_empty_dataset_returns_initial_state(self, loop_implementation):
    dataset = tf.data.Dataset.from_tensor_slices(np.float32([])).batch(2)

    total, count = _fold_fn(loop_implementation)(dataset)

    self.assertEqual((float(total), int(count)), (0.0, 0))

  def test_raises_type_error_for_other_values(self):
    with self.assertRaisesRegex(TypeError, 'LoopImplementation'):
      loop_builder.build_training_loop('dataset_reduce')


if __name__ == '__main__':
  absltest.main()
