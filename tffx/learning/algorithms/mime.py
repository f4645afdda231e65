"""Mime Lite: `build_weighted_mime_lite`, `build_unweighted_mime_lite`,
`build_mime_lite_with_optimizer_schedule`.

Mime Lite (Karimireddy et al., 2021) trains clients with the *server's*
optimizer state, frozen during local training, and updates that state at the
server from the mean full-batch gradient at the broadcast weights:

    server: optimizer state s, weights w --broadcast--> clients
    client: g = mean gradient of its loss over all its data at w
            local steps: _, w' <- base_optimizer.next(s, w', batch gradient)
                         (s itself never changes on the client)
            returns delta w - w' (weighted), g (same weight)
    server: s <- base_optimizer.next(s, zeros, mean g)      (state only)
            w <- server_optimizer(w, mean delta)            (finalizer)

Composed as FedAvg (see `fed_avg`): only the client work differs. Its state
is `(optimizer state, full-gradient aggregator state)`, as TFF's; metrics are
`<train=<the model's metrics>>` of the local training pass (the full-gradient
pass, `fed_sgd.mean_gradient`, runs on a session of its own and reports
nothing). With the schedule,
the state is `(round_num, that state)` and the optimizer state's
`learning_rate` is `learning_rate_fn(round_num)` at the start of each round.
"""

import collections
from typing import Any, Callable, Optional

import numpy as np
import tensorflow as tf

from tffx.aggregators import factory
from tffx.aggregators import factory_utils
from tffx.aggregators import mean
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.algorithms import fed_avg
from tffx.learning.algorithms import fed_avg_with_optimizer_schedule
from tffx.learning.algorithms import fed_sgd
from tffx.learning.templates import loop_builder
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

ClientWeighting = fed_avg.ClientWeighting
LoopImplementation = fed_avg.LoopImplementation
ModelWeights = model_training.ModelWeights


def _loop(use_experimental_simulation_loop: bool):
  return loop_builder.build_training_loop(
      LoopImplementation.DATASET_ITERATOR if use_experimental_simulation_loop
      else LoopImplementation.DATASET_REDUCE)


def _check_optimizer(optimizer: Any, argument: str) -> None:
  if not isinstance(optimizer, optimizer_base.Optimizer):
    raise TypeError(
        f'Expected {argument} to be a tffx.learning.optimizers.Optimizer, '
        f'found {type(optimizer).__name__}. Tip: Mime Lite runs the optimizer '
        f'with a frozen state on clients, which Keras optimizers cannot do.')


def _check_weighting(client_weighting: Any) -> None:
  if not isinstance(client_weighting, ClientWeighting):
    raise TypeError(
        f'Expected client_weighting to be a member of '
        f'tffx.learning.ClientWeighting, found {client_weighting!r}.')


def build_mime_lite_client_work(
    model: model_training.Model,
    optimizer: optimizer_base.Optimizer,
    client_weighting: ClientWeighting,
    full_gradient_aggregator: factory.WeightedAggregationFactory,
    metrics_aggregator: Optional[Callable],
    use_experimental_simulation_loop: bool
) -> client_works.ClientWorkProcess:
  """The `ClientWorkProcess` of Mime Lite (see the module docstring)."""
  metrics_aggregator = model_delta_client_work.check_metrics_aggregator(
      metrics_aggregator)
  loop = _loop(use_experimental_simulation_loop)
  weights_type, data_type = model_training.weights_and_data_types(model)
  specs = type_conversions.to_tf_spec(weights_type.trainable)

  @tensorflow_computation.tf_computation
  def initial_optimizer_state():
    return optimizer.initialize(specs)

  optimizer_state_type = initial_optimizer_state.type_signature.result

  @tensorflow_computation.tf_computation(optimizer_state_type, weights_type,
                                         data_type)
  def client_update(optimizer_state, initial_weights, dataset):
    initial_trainable = tuple(initial_weights.trainable)
    # A session of its own, so the full-gradient pass's metrics (the
    # variables of its own model, for a VariableModel) are not reported.
    gradient, _, _ = fed_sgd.mean_gradient(
        model_training.start_client(model, initial_weights),
        initial_trainable, dataset, loop)
    session = model_training.start_client(model, initial_weights)

    def step(state, batch):
      trainable, metrics_state, num_examples = state
      output, gradients = session.forward(trainable, batch, training=True,
                                          with_gradients=True)
      # The server's state is used as it is; the new state is dropped.
      _, trainable = optimizer.next(optimizer_state, trainable, gradients)
      return (tuple(trainable),
              session.update_metrics(metrics_state, batch, output),
              num_examples + model_training.example_count(batch, output))

    trainable, metrics_state, num_examples = loop(
        step, dataset, (initial_trainable, session.initial_metrics_state(),
                        tf.constant(0, tf.int64)))
    unfinalized = session.unfinalized_metrics(metrics_state, trainable)
    delta = tuple(w0 - w for w0, w in zip(initial_trainable, trainable))
    delta, weight = model_training.zero_if_not_finite(
        delta,
        model_delta_client_work.client_weight(client_weighting, unfinalized,
                                              num_examples))
    return client_works.ClientResult(delta, weight), unfinalized, gradient

  gradient_process = full_gradient_aggregator.create(weights_type.trainable,
                                                     np.float32)
  aggregate_metrics = metrics_aggregator(
      model_training.metric_finalizers(model),
      client_update.type_signature.result[1])

  @tensorflow_computation.tf_computation(optimizer_state_type,
                                         weights_type.trainable)
  def update_optimizer_state(optimizer_state, mean_gradient):
    # Only the state moves; the weights the step is applied to are unused.
    zeros = tuple(tf.zeros_like(g) for g in mean_gradient)
    new_state, _ = optimizer.next(optimizer_state, zeros, tuple(mean_gradient))
    return new_state

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_zip(
        (intrinsics.federated_eval(initial_optimizer_state, placements.SERVER),
         gradient_process.initialize()))

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_clients(weights_type),
      computation_types.type_at_clients(data_type))
  def next_fn(state, weights, client_data):
    optimizer_state, aggregator_state = state[0], state[1]
    outputs = intrinsics.federated_map(
        client_update, (intrinsics.federated_broadcast(optimizer_state),
                        weights, client_data))
    client_result = outputs[0]
    gradient_output = gradient_process.next(aggregator_state, outputs[2],
                                            client_result.update_weight)
    new_optimizer_state = intrinsics.federated_map(
        update_optimizer_state, (optimizer_state, gradient_output.result))
    measurements = intrinsics.federated_zip(
        collections.OrderedDict(train=aggregate_metrics(outputs[1])))
    return measured_process.MeasuredProcessOutput(
        intrinsics.federated_zip((new_optimizer_state, gradient_output.state)),
        client_result, measurements)

  return client_works.ClientWorkProcess(init_fn, next_fn)


def _build_mime_lite(model_fn, base_optimizer, server_optimizer, weighted,
                     client_weighting, model_distributor, model_aggregator,
                     full_gradient_aggregator, metrics_aggregator,
                     use_experimental_simulation_loop, learning_rate_fn,
                     owner: str) -> learning_process.LearningProcess:
  """Mime Lite, optionally with a learning rate schedule (`learning_rate_fn`)."""
  _check_optimizer(base_optimizer, 'base_optimizer')
  _check_optimizer(server_optimizer, 'server_optimizer')
  _check_weighting(client_weighting)
  model = model_training.resolve_model(model_fn)
  expected = (factory.WeightedAggregationFactory
              if weighted else factory.UnweightedAggregationFactory)
  default = mean.MeanFactory if weighted else mean.UnweightedMeanFactory
  aggregators = []
  for name, aggregator in (('model_aggregator', model_aggregator),
                           ('full_gradient_aggregator',
                            full_gradient_aggregator)):
    aggregator = default() if aggregator is None else aggregator
    factory.check_factory(aggregator, expected, name, owner)
    if not weighted:
      aggregator = factory_utils.as_weighted_aggregator(aggregator)
    aggregators.append(aggregator)
  model_aggregator, full_gradient_aggregator = aggregators
  client_work = build_mime_lite_client_work(model, base_optimizer,
                                            client_weighting,
                                            full_gradient_aggregator,
                                            metrics_aggregator,
                                            use_experimental_simulation_loop)
  if learning_rate_fn is not None:
    client_work = _with_learning_rate_schedule(client_work, learning_rate_fn)
  weights_type, _ = model_training.weights_and_data_types(model)
  return composers.compose_learning_process(
      model_training.build_initial_weights_fn(model),
      fed_avg.check_distributor(model_distributor, weights_type, owner),
      client_work, model_aggregator.create(weights_type.trainable, np.float32),
      finalizers.build_apply_optimizer_finalizer(server_optimizer,
                                                 weights_type))


def _with_learning_rate_schedule(
    client_work: client_works.ClientWorkProcess,
    learning_rate_fn: Callable[[Any], Any]) -> client_works.ClientWorkProcess:
  """Mime Lite's client work with state `(round_num, state)`; see module."""
  fed_avg_with_optimizer_schedule.check_learning_rate_fn(learning_rate_fn,
                                                         'learning_rate_fn')
  mime_state_type = client_work.state_type.member

  def with_learning_rate(mime_state, round_num):
    optimizer_state = collections.OrderedDict(mime_state[0])
    optimizer_state[optimizer_base.LEARNING_RATE_KEY] = (
        fed_avg_with_optimizer_schedule.learning_rate_of_round(
            learning_rate_fn, round_num))
    return (optimizer_state, mime_state[1])

  @tensorflow_computation.tf_computation(mime_state_type)
  def start(mime_state):
    round_num = tf.constant(0, tf.int32)
    return round_num, with_learning_rate(mime_state, round_num)

  @tensorflow_computation.tf_computation(np.int32, mime_state_type)
  def advance(round_num, mime_state):
    round_num += 1
    return round_num, with_learning_rate(mime_state, round_num)

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_map(start, client_work.initialize())

  weights_type, data_type = client_work.next.type_signature.parameter[1:]

  @federated_computation.federated_computation(init_fn.type_signature.result,
                                               weights_type, data_type)
  def next_fn(state, weights, client_data):
    output = client_work.next(state[1], weights, client_data)
    return measured_process.MeasuredProcessOutput(
        intrinsics.federated_map(advance, (state[0], output.state)),
        output.result, output.measurements)

  return client_works.ClientWorkProcess(init_fn, next_fn)


def build_weighted_mime_lite(
    model_fn: Any,
    base_optimizer: optimizer_base.Optimizer,
    server_optimizer: optimizer_base.Optimizer = sgdm.build_sgdm(1.0),
    client_weighting: Optional[ClientWeighting] = ClientWeighting.NUM_EXAMPLES,
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.WeightedAggregationFactory] = None,
    full_gradient_aggregator: Optional[
        factory.WeightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    use_experimental_simulation_loop: bool = False
) -> learning_process.LearningProcess:
  """Builds Mime Lite with client updates weighted by `client_weighting`.

  See the module docstring for the algorithm. The deltas and the full
  gradients are both aggregated with the clients' weights.

  Args:
    model_fn: A `FunctionalModel`, or a no-argument callable returning a
      `FunctionalModel` or a `VariableModel`.
    base_optimizer: The `Optimizer` whose state the server keeps and the
      clients train with (frozen).
    server_optimizer: The `Optimizer` applying the mean delta to the global
      weights; default SGD with learning rate 1.
    client_weighting: `ClientWeighting.NUM_EXAMPLES` (default) or `UNIFORM`.
    model_distributor: Optional `DistributionProcess`; default a broadcast.
    model_aggregator: Optional `WeightedAggregationFactory` for the deltas;
      default `MeanFactory()`.
    full_gradient_aggregator: Optional `WeightedAggregationFactory` for the
      full gradients; default `MeanFactory()`.
    metrics_aggregator: As for `build_weighted_fed_avg`.
    use_experimental_simulation_loop: Loop over client data with
      `LoopImplementation.DATASET_ITERATOR` instead of `dataset.reduce`.

  Returns:
    A `tffx.learning.templates.LearningProcess`.

  Raises:
    TypeError: if an optimizer is not a `tffx.learning.optimizers.Optimizer`
      or `client_weighting` is not a `ClientWeighting`.
    ModelFnError: for a `model_fn` of the wrong kind.
    FactoryTypeError: if an aggregator is not a weighted factory.
  """
  return _build_mime_lite(model_fn, base_optimizer, server_optimizer, True,
                          client_weighting, model_distributor,
                          model_aggregator, full_gradient_aggregator,
                          metrics_aggregator, use_experimental_simulation_loop,
                          None, 'build_weighted_mime_lite')


def build_unweighted_mime_lite(
    model_fn: Any,
    base_optimizer: optimizer_base.Optimizer,
    server_optimizer: optimizer_base.Optimizer = sgdm.build_sgdm(1.0),
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.UnweightedAggregationFactory] = None,
    full_gradient_aggregator: Optional[
        factory.UnweightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    use_experimental_simulation_loop: bool = False
) -> learning_process.LearningProcess:
  """Builds Mime Lite with every client counting equally.

  As `build_weighted_mime_lite`, with `UnweightedAggregationFactory`s
  (default `UnweightedMeanFactory()`) for the deltas and full gradients.

  Raises:
    As `build_weighted_mime_lite`; FactoryTypeError if an aggregator is not
    an unweighted factory.
  """
  return _build_mime_lite(model_fn, base_optimizer, server_optimizer, False,
                          ClientWeighting.UNIFORM, model_distributor,
                          model_aggregator, full_gradient_aggregator,
                          metrics_aggregator, use_experimental_simulation_loop,
                          None, 'build_unweighted_mime_lite')


def build_mime_lite_with_optimizer_schedule(
    model_fn: Any,
    learning_rate_fn: Callable[[int], float],
    base_optimizer: optimizer_base.Optimizer,
    server_optimizer: optimizer_base.Optimizer = sgdm.build_sgdm(1.0),
    client_weighting: Optional[ClientWeighting] = ClientWeighting.NUM_EXAMPLES,
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.WeightedAggregationFactory] = None,
    full_gradient_aggregator: Optional[
        factory.WeightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    use_experimental_simulation_loop: bool = False
) -> learning_process.LearningProcess:
  """Builds weighted Mime Lite whose learning rate follows the round number.

  In round `r` (from 0) the base optimizer's state has the learning rate
  `learning_rate_fn(r)` (traced with an int32 tensor), both for the
  clients' local steps and for the server's update of the optimizer state.
  The client work's state is `(round_num, (optimizer state, full-gradient
  aggregator state))`. The other arguments are `build_weighted_mime_lite`'s.

  Raises:
    As `build_weighted_mime_lite`; TypeError if `learning_rate_fn` is not
    callable.
  """
  return _build_mime_lite(model_fn, base_optimizer, server_optimizer, True,
                          client_weighting, model_distributor,
                          model_aggregator, full_gradient_aggregator,
                          metrics_aggregator, use_experimental_simulation_loop,
                          learning_rate_fn,
                          'build_mime_lite_with_optimizer_schedule')
