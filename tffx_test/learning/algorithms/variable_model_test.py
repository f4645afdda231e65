"""The algorithms with TFF's legacy `VariableModel` (a `model_fn` building one)."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.learning.templates import loop_builder
from tffx.learning.algorithms import errors
from tffx.learning.algorithms import fed_avg
from tffx.learning.algorithms import fed_eval
from tffx.learning.algorithms import fed_prox
from tffx.learning.algorithms import fed_sgd
from tffx.learning.models import model_weights
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models

LoopImplementation = loop_builder.LoopImplementation
_INITIAL_KERNEL = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0


def _model_fn():
  return test_models.SoftmaxRegressionVariableModel(_INITIAL_KERNEL)


class _TfFunctionModel(test_models.SoftmaxRegressionVariableModel):
  """The same model with its methods in `tf.function`s, as TFF's tutorials."""

  @tf.function
  def forward_pass(self, batch_input, training=True):
    return super().forward_pass(batch_input, training)

  @tf.function
  def report_local_unfinalized_metrics(self):
    return super().report_local_unfinalized_metrics()


def _tf_function_model_fn():
  return _TfFunctionModel(_INITIAL_KERNEL)


def _trainable(process, state):
  return [np.asarray(w) for w in process.get_model_weights(state).trainable]


class VariableModelFedAvgTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('weighted_reduce', True, LoopImplementation.DATASET_REDUCE),
      ('weighted_iterator', True, LoopImplementation.DATASET_ITERATOR),
      ('unweighted', False, LoopImplementation.DATASET_REDUCE),
  )
  def test_one_round_is_mean_of_numpy_client_models(self, weighted, loop):
    counts = [7, 3]
    arrays = test_models.client_arrays(2, counts)
    builder = (fed_avg.build_weighted_fed_avg if weighted else
               fed_avg.build_unweighted_fed_avg)
    process = builder(_model_fn, sgdm.build_sgdm(0.5),
                      loop_implementation=loop)

    state, metrics = process.next(process.initialize(),
                                  test_models.client_datasets(arrays, 3))

    client_models = [
        test_models.numpy_local_sgd(_INITIAL_KERNEL, np.zeros(3), x, y, 3, 0.5)
        for x, y in arrays
    ]
    expected = [
        np.average([m[i] for m in client_models], axis=0,
                   weights=counts if weighted else [1, 1]) for i in range(2)
    ]
    for actual, wanted in zip(_trainable(process, state), expected):
      np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-5)
    self.assertEqual(int(metrics['client_work']['train']['num_examples']), 10)

  def test_tf_function_methods_train_like_plain_ones(self):
    arrays = test_models.client_arrays(2, [7, 3])
    data = test_models.client_datasets(arrays, 3)
    plain = fed_avg.build_weighted_fed_avg(_model_fn, sgdm.build_sgdm(0.5))
    wrapped = fed_avg.build_weighted_fed_avg(_tf_function_model_fn,
                                             sgdm.build_sgdm(0.5))

    plain_state, plain_metrics = plain.next(plain.initialize(), data)
    wrapped_state, wrapped_metrics = wrapped.next(wrapped.initialize(), data)

    for p, w in zip(_trainable(plain, plain_state),
                    _trainable(wrapped, wrapped_state)):
      np.testing.assert_allclose(w, p, rtol=1e-6)
    self.assertAlmostEqual(
        float(wrapped_metrics['client_work']['train']['loss']),
        float(plain_metrics['client_work']['train']['loss']), places=6)

  def test_metrics_are_the_models_own_finalized_after_the_sum(self):
    arrays = test_models.client_arrays(2, [5, 3])
    process = fed_avg.build_weighted_fed_avg(_model_fn, sgdm.build_sgdm(0.0))

    _, metrics = process.next(process.initialize(),
                              test_models.client_datasets(arrays, 2))

    train = metrics['client_work']['train']
    self.assertEqual(list(train), ['accuracy', 'loss', 'num_examples'])
    x = np.concatenate([a[0] for a in arrays])
    y = np.concatenate([a[1] for a in arrays])
    # With learning rate 0 the model never moves: the metrics are those of
    # the initial model over all examples of all clients.
    loss, accuracy = test_models.numpy_loss_and_accuracy(
        _INITIAL_KERNEL, np.zeros(3), x, y)
    self.assertAlmostEqual(float(train['loss']), loss, places=5)
    self.assertAlmostEqual(float(train['accuracy']), accuracy, places=5)
    self.assertEqual(
        str(process.next.type_signature.result.metrics.member.client_work),
        '<train=<accuracy=float32,loss=float32,num_examples=int64>>')

  def test_non_trainable_weights_stay_at_server_values(self):
    arrays = test_models.client_arrays(2, [6, 4])
    process = fed_avg.build_weighted_fed_avg(_model_fn, sgdm.build_sgdm(0.1))
    state = process.initialize()

    for _ in range(2):
      state, _ = process.next(state, test_models.client_datasets(arrays, 2))

    # Clients count their batches in the non-trainable variable; as in TFF
    # only the trainable delta goes back, so the server keeps its value.
    non_trainable = process.get_model_weights(state).non_trainable
    self.assertLen(non_trainable, 1)
    self.assertEqual(int(non_trainable[0]), 0)
    self.assertEqual(
        str(process.initialize.type_signature.result.member
            .global_model_weights),
        '<trainable=<float32[4,3],float32[3]>,non_trainable=<int32>>')

  def test_loss_decreases_over_rounds(self):
    arrays = test_models.client_arrays(3, 30, seed=1)
    data = test_models.client_datasets(arrays, 10)
    process = fed_avg.build_weighted_fed_avg(
        test_models.SoftmaxRegressionVariableModel, sgdm.build_sgdm(0.1))
    state = process.initialize()
    losses = []

    for _ in range(5):
      state, metrics = process.next(state, data)
      losses.append(float(metrics['client_work']['train']['loss']))

    self.assertLess(losses[-1], 0.7 * losses[0])

  def test_fed_prox_with_zero_strength_is_fed_avg(self):
    arrays = test_models.client_arrays(2, [6, 4])
    data = test_models.client_datasets(arrays, 3)
    prox = fed_prox.build_weighted_fed_prox(
        _model_fn, proximal_strength=0.0,
        client_optimizer_fn=sgdm.build_sgdm(0.5))
    avg = fed_avg.build_weighted_fed_avg(_model_fn, sgdm.build_sgdm(0.5))

    prox_state, _ = prox.next(prox.initialize(), data)
    avg_state, _ = avg.next(avg.initialize(), data)

    for p, a in zip(_trainable(prox, prox_state), _trainable(avg, avg_state)):
      np.testing.assert_allclose(p, a, rtol=1e-6)

  def test_weights_type_from_model_fn_is_the_process_weights_type(self):
    process = fed_avg.build_weighted_fed_avg(_model_fn, sgdm.build_sgdm(0.1))

    weights_type = model_weights.weights_type_from_model(_model_fn)

    self.assertEqual(
        weights_type,
        process.initialize.type_signature.result.member.global_model_weights)

  @parameterized.named_parameters(
      ('instance', test_models.SoftmaxRegressionVariableModel()),
      ('returns_other', lambda: 3),
  )
  def test_raises_model_fn_error(self, model_fn):

    with self.assertRaises(errors.ModelFnError):
      fed_avg.build_weighted_fed_avg(model_fn, sgdm.build_sgdm(0.1))


class VariableModelFedEvalAndSgdTest(absltest.TestCase):

  def test_fed_eval_reports_numpy_metrics_of_given_weights(self):
    arrays = test_models.client_arrays(3, [4, 6, 5])
    evaluation = fed_eval.build_fed_eval(_model_fn)
    kernel = np.ones([4, 3], np.float32) * np.array([1.0, -1.0, 0.5],
                                                      np.float32)
    state = evaluation.initialize()
    weights = evaluation.get_model_weights(state)
    state = evaluation.set_model_weights(
        state, weights._replace(trainable=(kernel, np.zeros(3, np.float32))))

    _, metrics = evaluation.next(state, test_models.client_datasets(arrays, 4))

    current = metrics['client_work']['eval']['current_round_metrics']
    x = np.concatenate([a[0] for a in arrays])
    y = np.concatenate([a[1] for a in arrays])
    loss, accuracy = test_models.numpy_loss_and_accuracy(kernel, np.zeros(3),
                                                         x, y)
    self.assertAlmostEqual(float(current['loss']), loss, places=5)
    self.assertAlmostEqual(float(current['accuracy']), accuracy, places=5)
    self.assertEqual(int(current['num_examples']), 15)

  def test_fed_sgd_step_is_numpy_mean_gradient(self):
    arrays = test_models.client_arrays(2, [6, 2])
    process = fed_sgd.build_fed_sgd(_model_fn, sgdm.build_sgdm(1.0))

    state, _ = process.next(process.initialize(),
                            test_models.client_datasets(arrays, 3))

    # One full-batch SGD step (learning rate 1) over all examples.
    x = np.concatenate([a[0] for a in arrays])
    y = np.concatenate([a[1] for a in arrays])
    kernel, bias = test_models.numpy_local_sgd(_INITIAL_KERNEL, np.zeros(3), x,
                                               y, len(y), 1.0)
    actual = _trainable(process, state)
    np.testing.assert_allclose(actual[0], kernel, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(actual[1], bias, rtol=1e-4, atol=1e-5)


if __name__ == '__main__':
  absltest.main()
