"""Federated Averaging: `build_weighted_fed_avg`, `build_unweighted_fed_avg`.

One round (McMahan et al., 2017), composed from the learning templates:

    global weights --broadcast--> clients train locally (client optimizer)
        --> deltas (w0 - w), weights --model_aggregator (mean)--> mean delta
        --> server optimizer step: w <- server_opt(w, mean delta)

With the default server optimizer (SGD, learning rate 1) the new global
model is the weighted mean of the client models. State, metrics and
hyperparameters are those of `compose_learning_process`:

    metrics = <distributor=<>, client_work=<train=<the model's metrics>>,
               aggregator=<aggregator measurements>,
               finalizer=<update_non_finite>>

The model's metrics are those it reports (a `from_keras_model` model:
its metrics, `loss`, `num_examples`, `num_batches`). A round whose mean
update is not finite keeps the weights (`update_non_finite` is 1).
    hparams = <client_work=<client optimizer hparams>,
               finalizer=<server optimizer hparams>>

`build_model_delta_process` is the shared builder (FedProx uses it too);
`check_distributor` the shared check of a distributor (FedSGD, evaluation).
"""

from typing import Any, Callable, Optional

import numpy as np

from tffx.aggregators import factory
from tffx.aggregators import factory_utils
from tffx.aggregators import mean
from tffx.learning.templates import client_weight_lib
from tffx.learning.templates import loop_builder
from tffx.learning.templates import model_delta_client_work
from tffx.learning.templates import model_training
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import learning_process

ClientWeighting = client_weight_lib.ClientWeighting
LoopImplementation = loop_builder.LoopImplementation


def check_distributor(model_distributor, weights_type, owner: str):
  """The model distributor, a broadcast of `weights_type` when None.

  Raises:
    TypeError: if it is not a `DistributionProcess`.
  """
  if model_distributor is None:
    return distributors.build_broadcast_process(weights_type)
  if not isinstance(model_distributor, distributors.DistributionProcess):
    raise TypeError(
        f'{owner} expects model_distributor to be a tffx.learning.templates.'
        f'DistributionProcess, found {type(model_distributor).__name__}.')
  return model_distributor


def check_model_aggregator(model_aggregator, weighted: bool, owner: str):
  """The model aggregator, a (weighted or unweighted) mean when None.

  Raises:
    FactoryTypeError: if it is not a factory of that kind.
  """
  if model_aggregator is None:
    model_aggregator = (mean.MeanFactory() if weighted else
                        mean.UnweightedMeanFactory())
  factory.check_factory(
      model_aggregator, factory.WeightedAggregationFactory
      if weighted else factory.UnweightedAggregationFactory,
      'model_aggregator', owner)
  return model_aggregator


def build_model_delta_process(
    model_fn: Any,
    client_optimizer_fn: Any,
    server_optimizer_fn: Any,
    weighted: bool,
    client_weighting: Optional[Any],
    model_distributor: Optional[distributors.DistributionProcess],
    model_aggregator: Optional[factory.AggregationFactory],
    metrics_aggregator: Optional[Callable],
    loop_implementation: LoopImplementation,
    proximal_strength: Optional[float],
    owner: str) -> learning_process.LearningProcess:
  """The learning process of FedAvg-like algorithms (see the module docstring).

  If `weighted`, `model_aggregator` must be a `WeightedAggregationFactory`
  (default `MeanFactory`) and `client_weighting` None means NUM_EXAMPLES;
  else it must be an `UnweightedAggregationFactory` (default
  `UnweightedMeanFactory`) and `client_weighting` is ignored. `owner` names
  the public builder in messages.
  """
  model = model_training.resolve_model(model_fn)
  server_optimizer = model_training.resolve_optimizer(server_optimizer_fn,
                                                      'server_optimizer_fn')
  if not weighted:
    client_weighting = ClientWeighting.UNIFORM
  elif client_weighting is None:
    client_weighting = ClientWeighting.NUM_EXAMPLES
  model_aggregator = check_model_aggregator(model_aggregator, weighted, owner)
  if not weighted:
    # The composed learning process takes weighted aggregators only.
    model_aggregator = factory_utils.as_weighted_aggregator(model_aggregator)
  client_work = model_delta_client_work.build_model_delta_client_work(
      model, client_optimizer_fn, client_weighting,
      metrics_aggregator=metrics_aggregator,
      loop_implementation=loop_implementation,
      proximal_strength=proximal_strength)
  weights_type, _ = model_training.weights_and_data_types(model)
  aggregator = factory.create_process(model_aggregator, weights_type.trainable,
                                      np.float32)
  return composers.compose_learning_process(
      model_training.build_initial_weights_fn(model),
      check_distributor(model_distributor, weights_type, owner), client_work,
      aggregator,
      finalizers.build_apply_optimizer_finalizer(server_optimizer,
                                                 weights_type))


def build_weighted_fed_avg(
    model_fn: Any,
    client_optimizer_fn: Any,
    server_optimizer_fn: Any = sgdm.build_sgdm(learning_rate=1.0),
    client_weighting: Any = ClientWeighting.NUM_EXAMPLES,
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.WeightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    loop_implementation: LoopImplementation = LoopImplementation.DATASET_REDUCE
) -> learning_process.LearningProcess:
  """Builds Federated Averaging with client updates weighted in the mean.

  Args:
    model_fn: A `tffx.learning.models.FunctionalModel`, or a no-argument
      callable returning a `FunctionalModel` (called once) or a
      `VariableModel` (TFF's legacy models, and Keras models wrapped by
      `from_keras_model`; called again in every client graph).
    client_optimizer_fn: The clients' `tffx.learning.optimizers.Optimizer`,
      or a no-argument callable returning one.
    server_optimizer_fn: The server's optimizer (or callable), applied to
      the mean delta; default SGD with learning rate 1.
    client_weighting: `ClientWeighting.NUM_EXAMPLES` (default; also for
      None), `UNIFORM`, or `fn(unfinalized_metrics)` returning a client's
      weight (a number).
    model_distributor: Optional `DistributionProcess` of the weights;
      default a broadcast.
    model_aggregator: Optional `tffx.aggregators.WeightedAggregationFactory`
      for the deltas; default `MeanFactory()`.
    metrics_aggregator: Optional `fn(metric_finalizers, unfinalized_type)`
      returning a federated computation; default
      `tffx.learning.metrics.sum_then_finalize`.
    loop_implementation: `LoopImplementation.DATASET_REDUCE` (default) or
      `DATASET_ITERATOR`.

  Returns:
    A `tffx.learning.templates.LearningProcess`.

  Raises:
    ModelFnError, OptimizerFnError, ClientWeightingError: for arguments of
      the wrong kind.
    FactoryTypeError: if `model_aggregator` is not a weighted factory.
    TypeError: for a wrong distributor, metrics aggregator or loop.
  """
  return build_model_delta_process(
      model_fn, client_optimizer_fn, server_optimizer_fn, True,
      client_weighting, model_distributor, model_aggregator, metrics_aggregator,
      loop_implementation, None, 'build_weighted_fed_avg')


def build_unweighted_fed_avg(
    model_fn: Any,
    client_optimizer_fn: Any,
    server_optimizer_fn: Any = sgdm.build_sgdm(learning_rate=1.0),
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.UnweightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    loop_implementation: LoopImplementation = LoopImplementation.DATASET_REDUCE
) -> learning_process.LearningProcess:
  """Builds Federated Averaging with every client's update counting equally.

  The arguments are those of `build_weighted_fed_avg`, without
  `client_weighting`; `model_aggregator` is an
  `UnweightedAggregationFactory` (default `UnweightedMeanFactory()`), e.g.
  one with differential privacy.

  Raises:
    As `build_weighted_fed_avg`; FactoryTypeError if `model_aggregator` is
    not an unweighted factory.
  """
  return build_model_delta_process(
      model_fn, client_optimizer_fn, server_optimizer_fn, False, None,
      model_distributor, model_aggregator, metrics_aggregator,
      loop_implementation, None, 'build_unweighted_fed_avg')
