import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import tensorflow_computation
from tffx.learning.templates import errors
from tffx.learning.templates import model_training
from tffx.learning.models import functional
from tffx.learning.models import model_weights
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models

ModelWeights = model_weights.ModelWeights


class ResolveTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('model', test_models.build_softmax_regression()),
      ('callable', test_models.build_softmax_regression),
  )
  def test_resolve_model_accepts_model_or_callable(self, model_fn):

    model = model_training.resolve_model(model_fn)

    self.assertIsInstance(model, functional.FunctionalModel)

  @parameterized.named_parameters(
      ('not_callable', 3),
      ('returns_other', lambda: 'model'),
  )
  def test_resolve_model_raises_model_fn_error(self, model_fn):
    with self.assertRaisesRegex(errors.ModelFnError,
                                'FunctionalModel or a? ?VariableModel'):
      model_training.resolve_model(model_fn)

  @parameterized.named_parameters(
      ('optimizer', sgdm.build_sgdm(0.3)),
      ('callable', lambda: sgdm.build_sgdm(0.3)),
  )
  def test_resolve_optimizer_accepts_optimizer_or_callable(self, optimizer_fn):

    optimizer = model_training.resolve_optimizer(optimizer_fn, 'opt')

    self.assertAlmostEqual(
        float(optimizer.get_hparams(optimizer.initialize(()))['learning_rate']),
        0.3, places=6)

  def test_resolve_optimizer_raises_naming_argument(self):
    with self.assertRaisesRegex(errors.OptimizerFnError, 'server_optimizer_fn'):
      model_training.resolve_optimizer(lambda: 0.1, 'server_optimizer_fn')


class TrainingHelpersTest(absltest.TestCase):

  def test_initial_weights_fn_returns_model_weights(self):
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3)
    model = test_models.build_softmax_regression(kernel)

    initial = model_training.build_initial_weights_fn(model)

    self.assertEqual(
        str(initial.type_signature),
        '( -> <trainable=<float32[4,3],float32[3]>,non_trainable=<>>)')
    np.testing.assert_array_equal(initial().trainable[0], kernel)

  def test_gradients_of_unused_weights_are_zeros(self):
    model = functional.FunctionalModel(
        ((np.ones([4, 3], np.float32), np.ones([2], np.float32)), ()),
        lambda w, x, training: tf.matmul(x, w.trainable[0]),
        lambda output, label, sample_weight=None: tf.reduce_sum(output),
        input_spec=test_models.INPUT_SPEC)

    @tensorflow_computation.tf_computation
    def gradients():
      weights = ModelWeights(
          tuple(tf.constant(w) for w in model.initial_weights.trainable), ())
      session = model_training.start_client(model, weights)
      _, grads = session.forward(
          weights.trainable,
          collections.OrderedDict(x=tf.ones([2, 4]),
                                  y=tf.zeros([2], tf.int32)),
          training=True, with_gradients=True)
      return grads

    kernel_gradient, unused_gradient = gradients()

    np.testing.assert_array_equal(kernel_gradient, np.full([4, 3], 2.0))
    np.testing.assert_array_equal(unused_gradient, [0.0, 0.0])

  def test_zero_if_not_finite(self):

    finite = model_training.zero_if_not_finite(
        (tf.constant([1.0, 2.0]),), tf.constant(3.0))
    infinite = model_training.zero_if_not_finite(
        (tf.constant([1.0, np.inf]),), tf.constant(3.0))

    np.testing.assert_array_equal(finite[0][0], [1.0, 2.0])
    self.assertEqual(float(finite[1]), 3.0)
    np.testing.assert_array_equal(infinite[0][0], [0.0, 0.0])
    self.assertEqual(float(infinite[1]), 0.0)


if __name__ == '__main__':
  absltest.main()
