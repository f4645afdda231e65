import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.aggregators import errors as aggregator_errors
from tffx.aggregators import mean
from tffx.learning.templates import loop_builder
from tffx.learning.algorithms import fed_sgd
from tffx.learning.models import model_weights
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models

LoopImplementation = loop_builder.LoopImplementation
ModelWeights = model_weights.ModelWeights
_KERNEL = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(4, 3)
_BIAS = np.float32([0.1, 0.0, -0.1])


def _tape_gradient(x, y):
  """The gradient of the mean cross-entropy at (_KERNEL, _BIAS), eagerly."""
  kernel, bias = tf.Variable(_KERNEL), tf.Variable(_BIAS)
  with tf.GradientTape() as tape:
    logits = tf.matmul(x, kernel) + bias
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                       logits=logits))
  return [g.numpy() for g in tape.gradient(loss, [kernel, bias])]


def _set_weights(process):
  return process.set_model_weights(process.initialize(),
                                   ModelWeights((_KERNEL, _BIAS), ()))


class FedSgdTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('reduce', LoopImplementation.DATASET_REDUCE),
      ('iterator', LoopImplementation.DATASET_ITERATOR),
  )
  def test_one_client_one_batch_is_a_centralized_gradient_step(self, loop):
    [(x, y)] = test_models.client_arrays(1, 8)
    process = fed_sgd.build_fed_sgd(test_models.build_softmax_regression(),
                                    loop_implementation=loop)

    state, metrics = process.next(_set_weights(process),
                                  [test_models.to_dataset(x, y, 8)])

    kernel_gradient, bias_gradient = _tape_gradient(x, y)
    new_kernel, new_bias = process.get_model_weights(state).trainable
    # The default server optimizer is SGD with learning rate 0.1.
    np.testing.assert_allclose(new_kernel, _KERNEL - 0.1 * kernel_gradient,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_bias, _BIAS - 0.1 * bias_gradient,
                               rtol=1e-5, atol=1e-6)
    self.assertEqual(metrics['client_work']['train']['num_batches'], 1)

  def test_clients_with_several_batches_give_the_gradient_over_all_examples(
      self):
    arrays = test_models.client_arrays(2, [7, 3])
    process = fed_sgd.build_fed_sgd(test_models.build_softmax_regression(),
                                    server_optimizer_fn=sgdm.build_sgdm(1.0))

    state, _ = process.next(_set_weights(process),
                            test_models.client_datasets(arrays, 2))

    x = np.concatenate([x for x, _ in arrays])
    y = np.concatenate([y for _, y in arrays])
    kernel_gradient, _ = _tape_gradient(x, y)
    np.testing.assert_allclose(
        process.get_model_weights(state).trainable[0],
        _KERNEL - kernel_gradient, rtol=1e-5, atol=1e-6)

  def test_server_learning_rate_is_a_hyperparameter(self):
    arrays = test_models.client_arrays(2, 4)
    process = fed_sgd.build_fed_sgd(test_models.build_softmax_regression())
    state = _set_weights(process)

    frozen = process.set_hparams(
        state,
        collections.OrderedDict(
            client_work=collections.OrderedDict(),
            finalizer=collections.OrderedDict(learning_rate=0.0)))
    after, _ = process.next(frozen, test_models.client_datasets(arrays, 4))

    self.assertEqual(
        str(process.get_hparams.type_signature.result),
        '<client_work=<>,finalizer=<learning_rate=float32>>')
    np.testing.assert_array_equal(
        process.get_model_weights(after).trainable[0], _KERNEL)

  def test_raises_factory_type_error_for_unweighted_aggregator(self):
    with self.assertRaises(aggregator_errors.FactoryTypeError):
      fed_sgd.build_fed_sgd(test_models.build_softmax_regression(),
                            model_aggregator=mean.UnweightedMeanFactory())


if __name__ == '__main__':
  absltest.main()
