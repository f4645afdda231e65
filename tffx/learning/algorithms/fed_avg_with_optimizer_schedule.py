"""FedAvg with a client learning rate scheduled by round number.

`build_weighted_fed_avg_with_optimizer_schedule` is FedAvg (see `fed_avg`)
whose clients, in round `r` (counted from 0), train with
`client_optimizer_fn(client_learning_rate_fn(r))`. The client work wraps
FedAvg's (`model_delta_client_work`): its state is the round number, and each
round it computes the learning rate at the server and hands the inner client
work the optimizer's hyperparameters with that learning rate:

    initialize: ( -> int32@SERVER)                      round 0
    next: (<r@SERVER, ModelWeights@CLIENTS, {batch*}@CLIENTS> ->
           <state=r+1@SERVER, result=ClientResult(delta, num_examples)@CLIENTS,
            measurements=<train=<...>, client_learning_rate=float32>@SERVER>)

Clients are weighted by their number of examples, as in TFF.
"""

import collections
from typing import Any, Callable, Optional

import numpy as np
import tensorflow as tf

from tffx.aggregators import factory
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.algorithms import fed_avg
from tffx.learning.templates import model_delta_client_work
from tffx.learning.templates import model_training
from tffx.learning.optimizers import optimizer as optimizer_base
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

LoopImplementation = fed_avg.LoopImplementation


def check_learning_rate_fn(learning_rate_fn: Any, argument: str) -> None:
  """Raises TypeError unless `learning_rate_fn` is callable."""
  if not callable(learning_rate_fn):
    raise TypeError(
        f'Expected {argument} to be a function from the round number (an '
        f'int32 tensor) to a learning rate, found '
        f'{type(learning_rate_fn).__name__}.')


def learning_rate_of_round(learning_rate_fn: Callable[[Any], Any],
                           round_num: Any) -> tf.Tensor:
  """`learning_rate_fn(round_num)` as a float32 tensor (while tracing)."""
  return tf.cast(learning_rate_fn(tf.cast(round_num, tf.int32)), tf.float32)


def build_scheduled_client_work(
    model: Any, client_learning_rate_fn: Callable[[Any], Any],
    client_optimizer_fn: Callable[[float], Any],
    metrics_aggregator: Optional[Callable],
    loop_implementation: LoopImplementation
) -> client_works.ClientWorkProcess:
  """The client work of the module docstring."""
  check_learning_rate_fn(client_learning_rate_fn, 'client_learning_rate_fn')
  if not callable(client_optimizer_fn):
    raise TypeError(
        f'Expected client_optimizer_fn to be a function from a learning rate '
        f'to a tffx.learning.optimizers.Optimizer, found '
        f'{type(client_optimizer_fn).__name__}.')
  optimizer = model_training.resolve_optimizer(client_optimizer_fn(1.0),
                                               'client_optimizer_fn(1.0)')
  inner = model_delta_client_work.build_model_delta_client_work(
      model, optimizer, fed_avg.ClientWeighting.NUM_EXAMPLES,
      metrics_aggregator=metrics_aggregator,
      loop_implementation=loop_implementation)
  weights_type, data_type = inner.next.type_signature.parameter[1:]
  specs = type_conversions.to_tf_spec(weights_type.member.trainable)

  @tensorflow_computation.tf_computation(np.int32)
  def client_learning_rate(round_num):
    return learning_rate_of_round(client_learning_rate_fn, round_num)

  @tensorflow_computation.tf_computation(np.int32)
  def hparams_of_round(round_num):
    hparams = collections.OrderedDict(
        optimizer.get_hparams(optimizer.initialize(specs)))
    hparams[optimizer_base.LEARNING_RATE_KEY] = learning_rate_of_round(
        client_learning_rate_fn, round_num)
    return hparams

  @tensorflow_computation.tf_computation(np.int32)
  def add_one(round_num):
    return round_num + 1

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_value(np.int32(0), placements.SERVER)

  @federated_computation.federated_computation(init_fn.type_signature.result,
                                               weights_type, data_type)
  def next_fn(round_num, weights, client_data):
    hparams = intrinsics.federated_map(hparams_of_round, round_num)
    output = inner.next(hparams, weights, client_data)
    measurements = intrinsics.federated_zip(
        collections.OrderedDict(
            train=output.measurements.train,
            client_learning_rate=intrinsics.federated_map(
                client_learning_rate, round_num)))
    return measured_process.MeasuredProcessOutput(
        intrinsics.federated_map(add_one, round_num), output.result,
        measurements)

  return client_works.ClientWorkProcess(init_fn, next_fn)


def build_weighted_fed_avg_with_optimizer_schedule(
    model_fn: Any,
    client_learning_rate_fn: Callable[[Any], Any],
    client_optimizer_fn: Callable[[float], Any],
    server_optimizer_fn: Any = sgdm.build_sgdm(learning_rate=1.0),
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.WeightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    use_experimental_simulation_loop: bool = False
) -> learning_process.LearningProcess:
  """Builds FedAvg whose client learning rate follows the round number.

  Round `r` (from 0) trains clients with
  `client_optimizer_fn(client_learning_rate_fn(r))`; the rest is
  `build_weighted_fed_avg` with clients weighted by their examples. Metrics:

      <distributor=<>, client_work=<train=<the model's metrics>,
       client_learning_rate=float32>, aggregator=<...>,
       finalizer=<update_non_finite=int32>>

  Args:
    model_fn: A `FunctionalModel`, or a no-argument callable returning a
      `FunctionalModel` or a `VariableModel`.
    client_learning_rate_fn: `fn(round_num) -> learning rate`, traced with
      an int32 tensor (so use TensorFlow operations, e.g. `tf.where`).
    client_optimizer_fn: `fn(learning_rate) -> Optimizer`; its other
      hyperparameters are those of `client_optimizer_fn(1.0)`.
    server_optimizer_fn: The server `Optimizer` (or a no-argument callable
      returning one); default SGD with learning rate 1.
    model_distributor: Optional `DistributionProcess`; default a broadcast.
    model_aggregator: Optional `WeightedAggregationFactory`; default
      `MeanFactory()`.
    metrics_aggregator: As for `build_weighted_fed_avg`.
    use_experimental_simulation_loop: Loop over client data with
      `LoopImplementation.DATASET_ITERATOR` instead of `dataset.reduce`.

  Returns:
    A `tffx.learning.templates.LearningProcess`.

  Raises:
    ModelFnError, OptimizerFnError: for arguments of the wrong kind.
    FactoryTypeError: if `model_aggregator` is not a weighted factory.
    TypeError: if `client_learning_rate_fn` or `client_optimizer_fn` is not
      callable, or for a wrong distributor or metrics aggregator.
  """
  owner = 'build_weighted_fed_avg_with_optimizer_schedule'
  model = model_training.resolve_model(model_fn)
  server_optimizer = model_training.resolve_optimizer(server_optimizer_fn,
                                                      'server_optimizer_fn')
  model_aggregator = fed_avg.check_model_aggregator(model_aggregator, True,
                                                    owner)
  loop = (LoopImplementation.DATASET_ITERATOR
          if use_experimental_simulation_loop else
          LoopImplementation.DATASET_REDUCE)
  client_work = build_scheduled_client_work(model, client_learning_rate_fn,
                                            client_optimizer_fn,
                                            metrics_aggregator, loop)
  weights_type, _ = model_training.weights_and_data_types(model)
  return composers.compose_learning_process(
      model_training.build_initial_weights_fn(model),
      fed_avg.check_distributor(model_distributor, weights_type, owner),
      client_work, model_aggregator.create(weights_type.trainable, np.float32),
      finalizers.build_apply_optimizer_finalizer(server_optimizer,
                                                 weights_type))
