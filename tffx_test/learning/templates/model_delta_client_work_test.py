import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import tffx
from tffx.aggregators import mean
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.learning.templates import client_weight_lib
from tffx.learning.templates import errors
from tffx.learning.templates import model_delta_client_work
from tffx.learning.models import model_weights
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import client_works
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import model_training
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx_test.learning.algorithms import test_models

ClientWeighting = client_weight_lib.ClientWeighting
ModelWeights = model_weights.ModelWeights
_ZEROS = ModelWeights((np.zeros([4, 3], np.float32), np.zeros(3, np.float32)),
                      ())


def _build(**overrides):
  arguments = dict(model_fn=test_models.build_softmax_regression(),
                   optimizer=sgdm.build_sgdm(0.5),
                   client_weighting=ClientWeighting.NUM_EXAMPLES)
  arguments.update(overrides)
  return model_delta_client_work.build_model_delta_client_work(**arguments)


def _run(client_work, datasets, state=None):
  if state is None:
    state = client_work.initialize()
  return client_work.next(state, [_ZEROS] * len(datasets), datasets)


class ModelDeltaClientWorkTest(parameterized.TestCase):

  def test_type_signature(self):

    client_work = _build()

    self.assertIsInstance(client_work, client_works.ClientWorkProcess)
    self.assertEqual(
        str(client_work.next.type_signature),
        '(<state=<learning_rate=float32>@SERVER,weights={<trainable=<'
        'float32[4,3],float32[3]>,non_trainable=<>>}@CLIENTS,client_data='
        '{<x=float32[?,4],y=int32[?]>*}@CLIENTS> -> <state=<learning_rate='
        'float32>@SERVER,result={<update=<float32[4,3],float32[3]>,'
        'update_weight=float32>}@CLIENTS,measurements=<train=<accuracy='
        'float32,loss=float32,num_examples=int64,num_batches=int64>>@SERVER>)')

  def test_update_is_initial_minus_trained_weights(self):
    arrays = test_models.client_arrays(2, [5, 3])

    output = _run(_build(), test_models.client_datasets(arrays, 2))

    for (x, y), result in zip(arrays, output.result):
      kernel, bias = test_models.numpy_local_sgd(np.zeros([4, 3]), np.zeros(3),
                                                 x, y, 2, 0.5)
      np.testing.assert_allclose(result.update[0], -kernel, rtol=1e-4,
                                 atol=1e-6)
      np.testing.assert_allclose(result.update[1], -bias, rtol=1e-4, atol=1e-6)
      self.assertEqual(result.update_weight, len(y))

  @parameterized.named_parameters(
      ('uniform', ClientWeighting.UNIFORM, [1.0, 1.0]),
      ('num_examples', ClientWeighting.NUM_EXAMPLES, [5.0, 3.0]),
      ('function', lambda metrics: metrics['num_batches'] * 10, [30.0, 20.0]),
  )
  def test_update_weight_follows_client_weighting(self, weighting, expected):
    arrays = test_models.client_arrays(2, [5, 3])

    output = _run(_build(client_weighting=weighting),
                  test_models.client_datasets(arrays, 2))

    self.assertEqual([float(r.update_weight) for r in output.result], expected)

  def test_non_finite_update_gets_zero_weight(self):
    x = np.full([4, 4], np.nan, np.float32)
    y = np.zeros([4], np.int32)

    output = _run(_build(), [test_models.to_dataset(x, y, 2)])

    [result] = output.result
    self.assertEqual(result.update_weight, 0.0)
    np.testing.assert_array_equal(result.update[0], np.zeros([4, 3]))

  def test_set_hparams_changes_client_learning_rate(self):
    arrays = test_models.client_arrays(1, 4)
    client_work = _build()

    state = client_work.set_hparams(
        client_work.initialize(),
        collections.OrderedDict(learning_rate=0.0))
    output = _run(client_work, test_models.client_datasets(arrays, 2), state)

    self.assertEqual(
        client_work.get_hparams(state), collections.OrderedDict(
            learning_rate=0.0))
    np.testing.assert_array_equal(output.result[0].update[0], np.zeros([4, 3]))

  def test_metrics_aggregator_receives_finalizer_and_type(self):
    arrays = test_models.client_arrays(2, [5, 3])
    received = []

    def count_clients(finalizer, unfinalized_type):
      received.append((finalizer, unfinalized_type))

      @federated_computation.federated_computation(
          ct.type_at_clients(unfinalized_type))
      def aggregate(unfinalized):
        del unfinalized
        return intrinsics.federated_sum(
            intrinsics.federated_value(1, placements.CLIENTS))

      return aggregate

    output = _run(_build(metrics_aggregator=count_clients),
                  test_models.client_datasets(arrays, 2))

    [(finalizer, unfinalized_type)] = received
    self.assertTrue(callable(finalizer))
    self.assertEqual(
        str(unfinalized_type),
        '<accuracy=<float32,float32>,loss=<float32,float32>,num_examples=int64,'
        'num_batches=int64>')
    self.assertEqual(output.measurements['train'], 2)

  @parameterized.named_parameters(
      ('client_weighting', dict(client_weighting=2),
       errors.ClientWeightingError),
      ('optimizer', dict(optimizer='sgd'), errors.OptimizerFnError),
      ('metrics_aggregator', dict(metrics_aggregator='sum'), TypeError),
  )
  def test_raises_for_wrong_argument(self, overrides, error):
    with self.assertRaises(error) as cm:
      _build(**overrides)

    self.assertIs(type(cm.exception), error)



class FunctionalModelDeltaClientWorkTest(absltest.TestCase):

  def test_one_step_matches_numpy_local_sgd(self):
    arrays = test_models.client_arrays(2, [6, 4], seed=3)
    client_work = model_delta_client_work.build_functional_model_delta_client_work(
        model=test_models.build_softmax_regression(),
        optimizer=sgdm.build_sgdm(0.3),
        client_weighting=ClientWeighting.NUM_EXAMPLES)

    output = _run(client_work, test_models.client_datasets(arrays, 3))

    for (x, y), result in zip(arrays, output.result):
      kernel, bias = test_models.numpy_local_sgd(np.zeros([4, 3]), np.zeros(3),
                                                 x, y, 3, 0.3)
      np.testing.assert_allclose(result.update[0], -kernel, rtol=1e-4,
                                 atol=1e-6)
      np.testing.assert_allclose(result.update[1], -bias, rtol=1e-4, atol=1e-6)
      self.assertEqual(result.update_weight, len(y))
    self.assertEqual(float(output.measurements['train']['num_examples']), 10)

  def test_composed_fed_avg_matches_numpy_and_loss_falls(self):
    model = test_models.build_softmax_regression()
    weights_type, _ = model_training.weights_and_data_types(model)
    client_work = model_delta_client_work.build_functional_model_delta_client_work(
        model=model, optimizer=sgdm.build_sgdm(0.5),
        client_weighting=ClientWeighting.NUM_EXAMPLES)
    process = composers.compose_learning_process(
        model_training.build_initial_weights_fn(model),
        distributors.build_broadcast_process(weights_type), client_work,
        mean.MeanFactory().create(weights_type.trainable, np.float32),
        finalizers.build_apply_optimizer_finalizer(sgdm.build_sgdm(1.0),
                                                   weights_type))
    arrays = test_models.client_arrays(3, [10, 6, 4])
    datasets = test_models.client_datasets(arrays, 2)

    state = process.initialize()
    losses = []
    for _ in range(6):
      state, metrics = process.next(state, datasets)
      losses.append(float(metrics['client_work']['train']['loss']))
      if len(losses) == 1:
        first_weights = process.get_model_weights(state)

    trained = [test_models.numpy_local_sgd(np.zeros([4, 3]), np.zeros(3), x,
                                           y, 2, 0.5) for x, y in arrays]
    counts = np.array([len(y) for _, y in arrays], np.float64)
    expected_kernel = sum(c * k for c, (k, _) in zip(counts, trained)) / 20
    expected_bias = sum(c * b for c, (_, b) in zip(counts, trained)) / 20
    np.testing.assert_allclose(first_weights.trainable[0], expected_kernel,
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(first_weights.trainable[1], expected_bias,
                               rtol=1e-4, atol=1e-6)
    self.assertLess(losses[-1], 0.5 * losses[0])

  def test_raises_model_fn_error_for_a_model_fn(self):
    with self.assertRaises(errors.ModelFnError):
      model_delta_client_work.build_functional_model_delta_client_work(
          model=test_models.SoftmaxRegressionVariableModel,
          optimizer=sgdm.build_sgdm(0.5),
          client_weighting=ClientWeighting.NUM_EXAMPLES)

  def test_raises_optimizer_fn_error_for_an_optimizer_fn(self):
    with self.assertRaises(errors.OptimizerFnError):
      model_delta_client_work.build_functional_model_delta_client_work(
          model=test_models.build_softmax_regression(),
          optimizer=lambda: sgdm.build_sgdm(0.5),
          client_weighting=ClientWeighting.NUM_EXAMPLES)

  def test_builders_are_exported_as_tffs_template_names(self):
    self.assertIs(tffx.learning.templates.build_model_delta_client_work,
                  model_delta_client_work.build_model_delta_client_work)
    self.assertIs(
        tffx.learning.templates.build_functional_model_delta_client_work,
        model_delta_client_work.build_functional_model_delta_client_work)


if __name__ == '__main__':
  absltest.main()
