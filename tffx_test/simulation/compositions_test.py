import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.templates import learning_process
from tffx.simulation import compositions
from tffx.simulation import errors
from tffx.templates import iterative_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation

_DATA = ct.SequenceType(np.float32)
_STATE = ct.type_at_server(np.float32)


@tf_computation(np.int32)
def _range_dataset(n):
  """Client `n` has the dataset 0.0, 1.0, ..., n - 1."""
  return tf.data.Dataset.range(tf.cast(n, tf.int64)).map(
      lambda x: tf.cast(x, tf.float32))


_dataset_sum = tf_computation(
    lambda ds: ds.reduce(np.float32(0), lambda a, x: a + x), _DATA)
_add = tf_computation(lambda x, y: x + y, np.float32, np.float32)


def _total(datasets):
  return intrinsics.federated_sum(
      intrinsics.federated_map(_dataset_sum, datasets))


@fc(ct.type_at_clients(_DATA))
def _sum_of_datasets(datasets):
  return _total(datasets)


@fc(_STATE, ct.type_at_clients(_DATA))
def _next(state, datasets):
  return intrinsics.federated_map(_add, (state, _total(datasets))), _total(
      datasets)


_initialize = fc(lambda: intrinsics.federated_value(np.float32(1.0),
                                                    placements.SERVER))


class ComposeWithComputationTest(absltest.TestCase):

  def test_single_dataset_parameter_becomes_dataset_argument(self):
    composed = compositions.compose_dataset_computation_with_computation(
        _range_dataset, _sum_of_datasets)

    self.assertEqual(composed.type_signature.parameter,
                     ct.type_at_clients(np.int32))
    # 0+1+2 + 0+1+2+3 = 9
    self.assertAlmostEqual(composed([3, 4]), 9.0)

  def test_dataset_in_nested_struct_is_replaced(self):

    @fc(collections.OrderedDict(
        scale=_STATE, inner=[np.int32, ct.type_at_clients(_DATA)]))
    def scaled_sum(arg):
      return intrinsics.federated_map(_add, (arg.scale, _total(arg.inner[1])))

    composed = compositions.compose_dataset_computation_with_computation(
        _range_dataset, scaled_sum)

    self.assertEqual(composed.type_signature.parameter.inner[1],
                     ct.type_at_clients(np.int32))
    self.assertAlmostEqual(
        composed(collections.OrderedDict(scale=10.0, inner=[0, [2, 3]])),
        10.0 + 1.0 + 3.0)

  def test_raises_sequence_type_not_found_without_sequences(self):
    with self.assertRaises(errors.SequenceTypeNotFoundError):
      compositions.compose_dataset_computation_with_computation(
          _range_dataset, fc(lambda x: x, ct.type_at_clients(np.float32)))

  def test_raises_sequence_type_not_assignable_for_other_sequences(self):
    other = fc(lambda s, x: s, _STATE,
               ct.type_at_clients(ct.SequenceType(np.int32)))

    with self.assertRaises(errors.SequenceTypeNotAssignableError):
      compositions.compose_dataset_computation_with_computation(
          _range_dataset, other)

  def test_raises_multiple_matching_for_two_dataset_parameters(self):
    two = fc(lambda a, b: _total(a), ct.type_at_clients(_DATA),
             ct.type_at_clients(_DATA))

    with self.assertRaises(errors.MultipleMatchingSequenceTypesError):
      compositions.compose_dataset_computation_with_computation(
          _range_dataset, two)

  def test_raises_type_error_for_dataset_computation_without_sequence(self):
    with self.assertRaises(TypeError):
      compositions.compose_dataset_computation_with_computation(
          _add, _sum_of_datasets)


class ComposeWithProcessTest(absltest.TestCase):

  def test_iterative_process_next_takes_dataset_arguments(self):
    process = iterative_process.IterativeProcess(_initialize, _next)

    composed = compositions.compose_dataset_computation_with_iterative_process(
        _range_dataset, process)
    state, total = composed.next(composed.initialize(), [2, 3])

    self.assertIsInstance(composed, iterative_process.IterativeProcess)
    self.assertEqual(composed.next.type_signature.parameter[1],
                     ct.type_at_clients(np.int32))
    self.assertAlmostEqual(total, 1.0 + 3.0)
    self.assertAlmostEqual(state, 1.0 + 4.0)

  def test_learning_process_keeps_model_weight_functions(self):
    next_fn = fc(
        lambda s, d: learning_process.LearningProcessOutput(
            intrinsics.federated_map(_add, (s, _total(d))), _total(d)),
        _STATE, ct.type_at_clients(_DATA))
    process = learning_process.LearningProcess(
        _initialize, next_fn, fc(lambda s: s, np.float32),
        fc(lambda s, w: w, np.float32, np.float32))

    composed = compositions.compose_dataset_computation_with_learning_process(
        _range_dataset, process)
    output = composed.next(composed.initialize(), [4])

    self.assertAlmostEqual(output.state, 1.0 + 6.0)
    self.assertIs(composed.get_model_weights, process.get_model_weights)
    self.assertIs(composed.set_model_weights, process.set_model_weights)

  def test_learning_process_refuses_iterative_process(self):
    with self.assertRaises(TypeError):
      compositions.compose_dataset_computation_with_learning_process(
          _range_dataset, iterative_process.IterativeProcess(_initialize,
                                                             _next))


if __name__ == '__main__':
  absltest.main()
