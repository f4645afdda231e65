"""Federated Reconstruction: `build_fed_recon`.

FedRecon (Singhal et al., 2021) trains a `ReconstructionModel`, whose weights
split into global weights (trained across clients, as in FedAvg) and local
weights (never sent; rebuilt on each client every round from the model's
initial local weights). Each client, with `dataset_split_fn(dataset) ->
(support, query)`:

    1. reconstruction: on `support`, train the local trainable weights with
       `reconstruction_optimizer_fn`, the global weights frozen;
    2. update: on `query`, train the global trainable weights with
       `client_optimizer_fn`, the local weights frozen;
    3. send delta = initial - final global trainable weights, weighted by
       `client_weighting` (default: number of `query` examples).

The server applies the mean delta with `server_optimizer_fn` (composed like
FedAvg). Metrics are `<train=<metrics_fn()..., loss>>` over the `query`
batches, before each step. The client pieces (reconstruction, metrics) are
shared with `fed_recon_eval`.
"""

import collections
from typing import Any, Callable, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from tffx.aggregators import factory
from tffx.aggregators import factory_utils
from tffx.aggregators import mean
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.algorithms import fed_avg
from tffx.learning.templates import model_delta_client_work
from tffx.learning.templates import model_training
from tffx.learning.metrics import aggregator as metrics_aggregator_lib
from tffx.learning.metrics import keras_utils as metrics_keras_utils
from tffx.learning.models import functional
from tffx.learning.models import reconstruction_model
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import client_works
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import learning_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements
from tffx.types import type_conversions

ClientWeighting = fed_avg.ClientWeighting
ModelWeights = model_training.ModelWeights
ReconstructionModel = reconstruction_model.ReconstructionModel
AggregationFactory = Union[factory.WeightedAggregationFactory,
                           factory.UnweightedAggregationFactory]


class ReconstructionClient:
  """What a FedRecon client does with its model, inside a tf_computation.

  Built once per algorithm (outside any graph): `loss_fn()` gives the
  training loss, `metrics_fn()` plus a `loss` mean metric the reported
  metrics, as pure functions (`metric_fns`, `finalize_metrics`).
  """

  def __init__(self, model: ReconstructionModel, loss_fn: Callable[[], Any],
               metrics_fn: Optional[Callable[[], Sequence[Any]]]):
    if not callable(loss_fn):
      raise TypeError(
          f'Expected loss_fn to be a no-argument callable returning a Keras '
          f'loss, found {type(loss_fn).__name__}.')
    if metrics_fn is not None and not callable(metrics_fn):
      raise TypeError(
          f'Expected metrics_fn to be None or a no-argument callable '
          f'returning a list of Keras metrics, found '
          f'{type(metrics_fn).__name__}.')
    self.model = model
    with tf.init_scope():
      self._loss = loss_fn()

    def metrics_constructor():
      metrics = [] if metrics_fn is None else list(metrics_fn())
      # The per-example loss, so that the mean is over examples.
      per_example = (self._loss.call if isinstance(self._loss,
                                                   keras.losses.Loss)
                     else self._loss)
      return metrics + [
          keras.metrics.MeanMetricWrapper(per_example, name='loss')
      ]

    (self._initialize_metrics, self._update_metrics,
     self.finalize_metrics) = metrics_keras_utils.create_functional_metric_fns(
         metrics_constructor)
    global_weights = model.global_initial_weights
    self.weights_type = type_conversions.infer_type(
        ModelWeights(tuple(global_weights.trainable),
                     tuple(global_weights.non_trainable)))
    self.data_type = computation_types.SequenceType(
        computation_types.to_type(model.input_spec))

  def initial_local_weights(self) -> ModelWeights:
    local = self.model.local_initial_weights
    return ModelWeights(tuple(tf.constant(w) for w in local.trainable),
                        tuple(tf.constant(w) for w in local.non_trainable))

  def loss_and_gradients(self, global_weights: ModelWeights,
                         local_weights: ModelWeights, batch: Any,
                         watched: Sequence[tf.Tensor]):
    """`(labels, output, mean batch loss, gradients wrt watched)`."""
    x, labels = functional.split_batch(batch)
    with tf.GradientTape() as tape:
      tape.watch(watched)
      output = self.model.predict_on_batch(global_weights, local_weights, x,
                                           training=True)
      loss = self._loss(labels, output)
    gradients = tape.gradient(loss, watched)
    gradients = tuple(tf.zeros_like(w) if g is None else g
                      for w, g in zip(watched, gradients))
    return labels, output, loss, gradients

  def reconstruct(self, global_weights: ModelWeights, dataset: Any,
                  optimizer: Any) -> ModelWeights:
    """The local weights after training them on `dataset`, globals frozen."""
    local = self.initial_local_weights()
    trainable = tuple(local.trainable)
    if not trainable:
      return local

    def step(state, batch):
      trainable, optimizer_state = state
      *_, gradients = self.loss_and_gradients(
          global_weights, ModelWeights(trainable, local.non_trainable), batch,
          trainable)
      optimizer_state, trainable = optimizer.next(optimizer_state, trainable,
                                                  gradients)
      return tuple(trainable), optimizer_state

    specs = tuple(tf.TensorSpec(w.shape, w.dtype) for w in trainable)
    trainable, _ = dataset.reduce((trainable, optimizer.initialize(specs)),
                                  step)
    return ModelWeights(trainable, local.non_trainable)

  def initial_metrics_state(self):
    return self._initialize_metrics()

  def update_metrics(self, state, labels, output):
    return self._update_metrics(state, labels, output)


def _check_weighting(client_weighting: Any, model_aggregator_factory: Any):
  if client_weighting is None:
    client_weighting = ClientWeighting.NUM_EXAMPLES
  model_delta_client_work.check_client_weighting(client_weighting)
  if (isinstance(model_aggregator_factory,
                 factory.UnweightedAggregationFactory) and
      client_weighting is not ClientWeighting.UNIFORM):
    # TFF's message.
    raise ValueError(
        f'Expected `tff.learning.ClientWeighting.UNIFORM` client weighting '
        f'with unweighted aggregator, instead got {client_weighting}')
  return client_weighting


def _build_client_work(client: ReconstructionClient, client_optimizer: Any,
                       reconstruction_optimizer: Any, dataset_split_fn,
                       client_weighting, metrics_aggregator):
  """The `ClientWorkProcess` of FedRecon (see the module docstring)."""
  metrics_aggregator = model_delta_client_work.check_metrics_aggregator(
      metrics_aggregator)

  @tensorflow_computation.tf_computation(client.weights_type, client.data_type)
  def client_update(initial_weights, dataset):
    support, query = dataset_split_fn(dataset)
    initial_trainable = tuple(initial_weights.trainable)
    non_trainable = tuple(initial_weights.non_trainable)
    local = client.reconstruct(ModelWeights(initial_trainable, non_trainable),
                               support, reconstruction_optimizer)

    def step(state, batch):
      trainable, optimizer_state, metrics_state, num_examples = state
      labels, output, _, gradients = client.loss_and_gradients(
          ModelWeights(trainable, non_trainable), local, batch, trainable)
      optimizer_state, trainable = client_optimizer.next(
          optimizer_state, trainable, gradients)
      return (tuple(trainable), optimizer_state,
              client.update_metrics(metrics_state, labels, output),
              num_examples + model_training.batch_size(labels))

    specs = tuple(tf.TensorSpec(w.shape, w.dtype) for w in initial_trainable)
    trainable, _, metrics_state, num_examples = query.reduce(
        (initial_trainable, client_optimizer.initialize(specs),
         client.initial_metrics_state(), tf.constant(0, tf.int64)), step)
    unfinalized = collections.OrderedDict(metrics_state)
    if client_weighting is ClientWeighting.NUM_EXAMPLES:
      weight = tf.cast(num_examples, tf.float32)
    elif client_weighting is ClientWeighting.UNIFORM:
      weight = tf.constant(1.0)
    else:
      weight = tf.cast(client_weighting(unfinalized), tf.float32)
    delta = tuple(w0 - w for w0, w in zip(initial_trainable, trainable))
    delta, weight = model_training.zero_if_not_finite(delta, weight)
    return client_works.ClientResult(delta, weight), unfinalized

  aggregate_metrics = metrics_aggregator(
      client.finalize_metrics, client_update.type_signature.result[1])

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_value((), placements.SERVER)

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_clients(client.weights_type),
      computation_types.type_at_clients(client.data_type))
  def next_fn(state, weights, client_data):
    outputs = intrinsics.federated_map(client_update, (weights, client_data))
    measurements = intrinsics.federated_zip(
        collections.OrderedDict(train=aggregate_metrics(outputs[1])))
    return measured_process.MeasuredProcessOutput(state, outputs[0],
                                                  measurements)

  return client_works.ClientWorkProcess(init_fn, next_fn)


def build_initial_global_weights_fn(model: ReconstructionModel):
  """A tf_computation `( -> ModelWeights)` of the initial global weights."""
  initial = model.global_initial_weights

  @tensorflow_computation.tf_computation
  def initial_global_weights():
    return ModelWeights(tuple(tf.constant(w) for w in initial.trainable),
                        tuple(tf.constant(w) for w in initial.non_trainable))

  return initial_global_weights


def build_fed_recon(
    model_fn: Any,
    *,
    loss_fn: Callable[[], Any],
    metrics_fn: Optional[Callable[[], Sequence[Any]]] = None,
    server_optimizer_fn: Any = sgdm.build_sgdm(1.0),
    client_optimizer_fn: Any = sgdm.build_sgdm(0.1),
    reconstruction_optimizer_fn: Any = sgdm.build_sgdm(0.1),
    dataset_split_fn: Optional[
        reconstruction_model.ReconstructionDatasetSplitFn] = None,
    client_weighting: Optional[Any] = None,
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator_factory: Optional[AggregationFactory] = None,
    metrics_aggregator: Optional[
        Callable] = metrics_aggregator_lib.sum_then_finalize
) -> learning_process.LearningProcess:
  """Builds Federated Reconstruction (see the module docstring).

  Args:
    model_fn: A `tffx.learning.models.ReconstructionModel`, or a no-argument
      callable returning one.
    loss_fn: A no-argument callable returning a Keras loss
      (`fn(y_true, y_pred)`), used for both stages and reported as `loss`.
    metrics_fn: Optional no-argument callable returning a list of Keras
      metrics, computed on the post-reconstruction batches.
    server_optimizer_fn: The server `Optimizer` (or a no-argument callable
      returning one); default SGD with learning rate 1.
    client_optimizer_fn: The `Optimizer` of the global weights on clients;
      default SGD with learning rate 0.1.
    reconstruction_optimizer_fn: The `Optimizer` of the local weights;
      default SGD with learning rate 0.1.
    dataset_split_fn: `fn(dataset) -> (reconstruction, post_reconstruction)`;
      default `ReconstructionModel.build_dataset_split_fn(
      split_dataset=True)` (alternate batches).
    client_weighting: `ClientWeighting` or `fn(unfinalized_metrics)`;
      default (None) `NUM_EXAMPLES` of the post-reconstruction data.
    model_distributor: Optional `DistributionProcess` of the global weights.
    model_aggregator_factory: Optional weighted or unweighted aggregation
      factory; default `MeanFactory()`.
    metrics_aggregator: `fn(finalizer, unfinalized_type)`; default
      `sum_then_finalize`.

  Returns:
    A `tffx.learning.templates.LearningProcess` over the global weights.

  Raises:
    TypeError: if `model_fn` does not give a `ReconstructionModel`, or an
      argument is of the wrong kind.
    ValueError: if the aggregator is unweighted and `client_weighting` is
      not `UNIFORM`.
  """
  model = reconstruction_model.check_reconstruction_model(model_fn)
  client_weighting = _check_weighting(client_weighting,
                                      model_aggregator_factory)
  if model_aggregator_factory is None:
    model_aggregator_factory = mean.MeanFactory()
  factory.check_aggregation_factory(model_aggregator_factory,
                                    'model_aggregator_factory',
                                    'build_fed_recon')
  if isinstance(model_aggregator_factory, factory.UnweightedAggregationFactory):
    model_aggregator_factory = factory_utils.as_weighted_aggregator(
        model_aggregator_factory)
  if dataset_split_fn is None:
    dataset_split_fn = ReconstructionModel.build_dataset_split_fn(
        split_dataset=True)
  client = ReconstructionClient(model, loss_fn, metrics_fn)
  client_work = _build_client_work(
      client,
      model_training.resolve_optimizer(client_optimizer_fn,
                                       'client_optimizer_fn'),
      model_training.resolve_optimizer(reconstruction_optimizer_fn,
                                       'reconstruction_optimizer_fn'),
      dataset_split_fn, client_weighting, metrics_aggregator)
  weights_type = client.weights_type
  return composers.compose_learning_process(
      build_initial_global_weights_fn(model),
      fed_avg.check_distributor(model_distributor, weights_type,
                                'build_fed_recon'), client_work,
      model_aggregator_factory.create(weights_type.trainable, np.float32),
      finalizers.build_apply_optimizer_finalizer(
          model_training.resolve_optimizer(server_optimizer_fn,
                                           'server_optimizer_fn'),
          weights_type))
