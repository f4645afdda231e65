from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.learning.models import model_weights
from tffx.types import computation_types as ct

ModelWeights = model_weights.ModelWeights


class _Model:

  def __init__(self):
    self.trainable_variables = [tf.Variable([1.0, 2.0]), tf.Variable(3.0)]
    self.non_trainable_variables = [tf.Variable(4)]


class ModelWeightsTest(absltest.TestCase):

  def test_type_has_model_weights_container(self):
    weights = ModelWeights([np.zeros([2], np.float32)], [np.int32(0)])

    weights_type = ct.to_type(
        ModelWeights([ct.TensorType(np.float32, [2])], [np.int32]))

    self.assertIs(weights_type.python_container, ModelWeights)
    self.assertEqual(str(weights_type),
                     '<trainable=<float32[2]>,non_trainable=<int32>>')
    self.assertEqual(weights.trainable[0].shape, (2,))

  def test_tf_nest_maps_over_weights(self):
    weights = ModelWeights([1.0, 2.0], [3.0])

    doubled = tf.nest.map_structure(lambda x: x * 2, weights)

    self.assertEqual(doubled, ModelWeights([2.0, 4.0], [6.0]))

  def test_from_model_reads_variables(self):
    model = _Model()

    weights = ModelWeights.from_model(model)

    self.assertLen(weights.trainable, 2)
    self.assertIs(weights.trainable[1], model.trainable_variables[1])
    self.assertIs(weights.non_trainable[0], model.non_trainable_variables[0])

  def test_from_model_raises_type_error_without_variables(self):

    with self.assertRaisesRegex(TypeError, r'non_trainable_variables'):
      ModelWeights.from_model(object())

  def test_assign_weights_to_sets_model_variables(self):
    model = _Model()
    weights = ModelWeights([np.array([5.0, 6.0], np.float32), 7.0], [8])

    weights.assign_weights_to(model)

    np.testing.assert_array_equal(model.trainable_variables[0].numpy(),
                                  [5.0, 6.0])
    self.assertEqual(model.trainable_variables[1].numpy(), 7.0)
    self.assertEqual(model.non_trainable_variables[0].numpy(), 8)

  def test_assign_weights_to_raises_value_error_on_count_mismatch(self):
    weights = ModelWeights([1.0], [8])

    with self.assertRaisesRegex(ValueError, r'Expected 2 trainable weights'):
      weights.assign_weights_to(_Model())

  def test_convert_variables_to_arrays(self):
    weights = ModelWeights.from_model(_Model())

    arrays = weights.convert_variables_to_arrays()

    self.assertIsInstance(arrays, ModelWeights)
    self.assertIsInstance(arrays.trainable[0], np.ndarray)
    np.testing.assert_array_equal(arrays.trainable[0], [1.0, 2.0])
    self.assertEqual(arrays.non_trainable[0], 4)


class _Functional:

  def __init__(self):
    self.initial_weights = ([np.zeros([2, 3], np.float32)], [np.int64(0)])


class WeightsTypeFromModelTest(absltest.TestCase):

  def test_type_of_model_variables(self):

    weights_type = model_weights.weights_type_from_model(_Model())

    self.assertIs(weights_type.python_container, ModelWeights)
    self.assertEqual(str(weights_type),
                     '<trainable=<float32[2],float32>,non_trainable=<int32>>')

  def test_type_of_initial_weights_from_callable(self):

    weights_type = model_weights.weights_type_from_model(_Functional)

    self.assertEqual(str(weights_type),
                     '<trainable=<float32[2,3]>,non_trainable=<int64>>')

  def test_raises_type_error_for_other_objects(self):
    with self.assertRaisesRegex(TypeError, 'trainable_variables'):
      model_weights.weights_type_from_model(object())


if __name__ == '__main__':
  absltest.main()
