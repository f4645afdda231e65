import collections

from absl.testing import absltest
import keras
import numpy as np
import tensorflow as tf

import tffx
from tffx.learning.models import model_weights
from tffx.learning.models import reconstruction_model

ReconstructionModel = reconstruction_model.ReconstructionModel
ModelWeights = model_weights.ModelWeights
_SPEC = collections.OrderedDict(x=tf.TensorSpec([None, 2], tf.float32),
                                y=tf.TensorSpec([None], tf.int32))


def _keras_model():
  user = keras.layers.Dense(3, name='user')
  shared = keras.layers.Dense(2, name='shared')
  normalization = keras.layers.BatchNormalization(name='norm')
  model = keras.Sequential(
      [keras.Input((2,)), user, normalization, shared])
  return model, user, shared, normalization


class ReconstructionModelTest(absltest.TestCase):

  def test_predict_puts_global_and_local_weights_in_keras_order(self):
    keras_model, user, shared, normalization = _keras_model()
    model = ReconstructionModel.from_keras_model_and_layers(
        keras_model, global_layers=[shared, normalization],
        local_layers=[user], input_spec=_SPEC)
    x = np.arange(8, dtype=np.float32).reshape(4, 2)

    output = model.predict_on_batch(model.global_initial_weights,
                                    model.local_initial_weights, x,
                                    training=False)

    np.testing.assert_allclose(output, keras_model(x, training=False),
                               rtol=1e-6)
    self.assertLen(model.global_initial_weights.trainable, 4)
    self.assertLen(model.global_initial_weights.non_trainable, 2)
    self.assertLen(model.local_initial_weights.trainable, 2)

  def test_predict_uses_the_given_local_weights(self):
    keras_model, user, shared, normalization = _keras_model()
    model = ReconstructionModel.from_keras_model_and_variables(
        keras_model,
        global_trainable_variables=(shared.trainable_variables +
                                    normalization.trainable_variables),
        global_non_trainable_variables=normalization.non_trainable_variables,
        local_trainable_variables=user.trainable_variables,
        local_non_trainable_variables=[], input_spec=_SPEC)
    zeros = ModelWeights(
        tuple(np.zeros_like(w) for w in model.local_initial_weights.trainable),
        ())
    x = np.ones([1, 2], np.float32)

    output = model.predict_on_batch(model.global_initial_weights, zeros, x,
                                    training=False)

    # A zero user layer feeds 0 to normalization (mean 0, variance 1), whose
    # output beta = 0 then gives the shared layer's bias, which is 0.
    np.testing.assert_allclose(output, np.zeros([1, 2]), atol=1e-6)
    self.assertIs(
        ReconstructionModel.get_local_variables(model).trainable[0],
        user.trainable_variables[0])
    self.assertIs(model.local_trainable_variables[1],
                  user.trainable_variables[1])
    self.assertFalse(ReconstructionModel.has_only_global_variables(model))

  def test_raises_value_error_for_variable_neither_global_nor_local(self):
    keras_model, user, shared, _ = _keras_model()

    with self.assertRaisesRegex(ValueError, 'must include all trainable'):
      ReconstructionModel.from_keras_model_and_layers(
          keras_model, global_layers=[shared], local_layers=[user],
          input_spec=_SPEC)

  def test_raises_value_error_for_variable_both_global_and_local(self):
    keras_model, user, shared, normalization = _keras_model()

    with self.assertRaisesRegex(ValueError, 'must be disjoint'):
      ReconstructionModel.from_keras_model_and_layers(
          keras_model, global_layers=[shared, normalization, user],
          local_layers=[user], input_spec=_SPEC)

  def test_split_fn_alternates_batches_repeats_and_caps_steps(self):
    dataset = tf.data.Dataset.range(5)
    split = ReconstructionModel.build_dataset_split_fn(
        recon_epochs=2, post_recon_epochs=1, post_recon_steps_max=1,
        split_dataset=True)

    recon, post = split(dataset)

    self.assertEqual(list(recon.as_numpy_iterator()), [0, 2, 4, 0, 2, 4])
    self.assertEqual(list(post.as_numpy_iterator()), [1])

  def test_split_fn_without_split_gives_whole_dataset_to_both(self):
    recon, post = ReconstructionModel.build_dataset_split_fn()(
        tf.data.Dataset.range(3))

    self.assertEqual(list(recon.as_numpy_iterator()), [0, 1, 2])
    self.assertEqual(list(post.as_numpy_iterator()), [0, 1, 2])

  def test_split_fn_raises_value_error_for_zero_epochs(self):
    with self.assertRaises(ValueError):
      ReconstructionModel.build_dataset_split_fn(recon_epochs=0)

  def test_raises_type_error_for_model_not_keras(self):
    with self.assertRaises(TypeError):
      ReconstructionModel.from_keras_model_and_layers(
          object(), global_layers=[], local_layers=[], input_spec=_SPEC)

  def test_is_exported_in_tff_learning_models(self):
    self.assertIs(tffx.learning.models.ReconstructionModel, ReconstructionModel)
    self.assertIs(tffx.learning.models.ReconstructionDatasetSplitFn,
                  reconstruction_model.ReconstructionDatasetSplitFn)


if __name__ == '__main__':
  absltest.main()
