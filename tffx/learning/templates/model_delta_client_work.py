"""Client work that trains locally and returns the model delta (FedAvg).

Each client starts from the broadcast weights `w0`, takes one optimizer step
per batch of its data, and returns `ClientResult(update=w0 - w, weight)`: the
delta points against the descent direction, so a server optimizer treats it
as a gradient (SGD with learning rate 1 then yields the weighted mean of the
client models). With a proximal strength `mu` (FedProx), each step's
gradient gets `mu * (w - w0)`, the gradient of `mu/2 * ||w - w0||^2`.

    initialize: ( -> H@SERVER)          H: the client optimizer's hparams
    next: (<H@SERVER, ModelWeights@CLIENTS, {batch*}@CLIENTS> ->
           <state=H@SERVER, result=ClientResult(delta, weight)@CLIENTS,
            measurements=<train=<the model's metrics>>@SERVER>)
    get_hparams: (H -> H)     set_hparams: (<H, H> -> H)

The hparams are broadcast each round, so `set_hparams` between rounds
changes how clients train. A client whose delta is not finite sends zeros
with weight 0. This module builds the `ClientWorkProcess` (also as
`build_functional_model_delta_client_work`, TFF's variable-free variant);
composing it into an algorithm is `fed_avg`'s job.
"""

import collections
from typing import Any, Callable, Optional

import tensorflow as tf

from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.metrics import aggregator as metrics_aggregator_lib
from tffx.learning.models import functional
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.learning.templates import client_weight_lib
from tffx.learning.templates import client_works
from tffx.learning.templates import errors
from tffx.learning.templates import loop_builder
from tffx.learning.templates import model_training
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements
from tffx.types import type_conversions

ClientWeighting = client_weight_lib.ClientWeighting
ModelWeights = model_training.ModelWeights


def check_client_weighting(client_weighting: Any) -> None:
  """Raises `ClientWeightingError` unless a `ClientWeighting` or a callable."""
  if not (isinstance(client_weighting, ClientWeighting) or
          callable(client_weighting)):
    raise errors.ClientWeightingError(
        f'Expected client_weighting to be a tffx.learning.ClientWeighting or '
        f'a function of the unfinalized metrics, found {client_weighting!r}.')


def client_weight(client_weighting: Any, unfinalized: Any,
                  num_examples: tf.Tensor) -> tf.Tensor:
  """A client's float32 weight, from its example count or its metrics."""
  if client_weighting is ClientWeighting.NUM_EXAMPLES:
    return tf.cast(num_examples, tf.float32)
  if client_weighting is ClientWeighting.UNIFORM:
    return tf.constant(1.0)
  return tf.cast(client_weighting(unfinalized), tf.float32)


def check_metrics_aggregator(metrics_aggregator: Any) -> Callable:
  """The metrics aggregator, `sum_then_finalize` when None.

  Raises:
    TypeError: if it is not callable.
  """
  if metrics_aggregator is None:
    return metrics_aggregator_lib.sum_then_finalize
  if not callable(metrics_aggregator):
    raise TypeError(
        f'Expected metrics_aggregator to be a function of (metric_finalizers, '
        f'unfinalized_metrics_type) returning a federated computation, found '
        f'{type(metrics_aggregator).__name__}. Tip: use '
        f'tffx.learning.metrics.sum_then_finalize.')
  return metrics_aggregator


def build_model_delta_client_work(
    model_fn: Any,
    optimizer: Any,
    client_weighting: Any,
    metrics_aggregator: Optional[Callable] = None,
    *,
    loop_implementation: loop_builder.LoopImplementation = (
        loop_builder.LoopImplementation.DATASET_REDUCE),
    proximal_strength: Optional[float] = None
) -> client_works.ClientWorkProcess:
  """Returns the `ClientWorkProcess` of local training (see module docstring).

  Args:
    model_fn: A `FunctionalModel`, or a no-argument callable returning a
      `FunctionalModel` or a `VariableModel`.
    optimizer: The client `Optimizer`, or a no-argument callable returning
      one.
    client_weighting: A `ClientWeighting`, or `fn(unfinalized_metrics)`
      returning a client's weight.
    metrics_aggregator: `fn(metric_finalizers, unfinalized_metrics_type)`
      returning a federated computation `({U}@CLIENTS -> F@SERVER)`;
      defaults to `tffx.learning.metrics.sum_then_finalize`.
    loop_implementation: How clients loop over their data.
    proximal_strength: None for plain local training; a non-negative float
      `mu` for the proximal term of FedProx (kept even when 0).

  Raises:
    ModelFnError, OptimizerFnError, ClientWeightingError: for arguments of
      the wrong kind.
    TypeError: if `metrics_aggregator` or `loop_implementation` is of the
      wrong kind.
  """
  model = model_training.resolve_model(model_fn)
  optimizer = model_training.resolve_optimizer(optimizer,
                                               'client_optimizer_fn')
  check_client_weighting(client_weighting)
  metrics_aggregator = check_metrics_aggregator(metrics_aggregator)
  loop = loop_builder.build_training_loop(loop_implementation)
  weights_type, data_type = model_training.weights_and_data_types(model)
  specs = type_conversions.to_tf_spec(weights_type.trainable)

  @tensorflow_computation.tf_computation
  def initial_hparams():
    return optimizer.get_hparams(optimizer.initialize(specs))

  hparams_type = initial_hparams.type_signature.result

  @tensorflow_computation.tf_computation(weights_type, data_type, hparams_type)
  def client_update(initial_weights, dataset, hparams):
    initial_trainable = tuple(initial_weights.trainable)
    session = model_training.start_client(model, initial_weights)

    def step(state, batch):
      trainable, optimizer_state, metrics_state, num_examples = state
      output, gradients = session.forward(trainable, batch, training=True,
                                          with_gradients=True)
      if proximal_strength is not None:
        gradients = tuple(
            g + tf.cast(proximal_strength, w.dtype) * (w - w0)
            for g, w, w0 in zip(gradients, trainable, initial_trainable))
      optimizer_state, trainable = optimizer.next(optimizer_state, trainable,
                                                  gradients)
      metrics_state = session.update_metrics(metrics_state, batch, output)
      return (tuple(trainable), optimizer_state, metrics_state,
              num_examples + model_training.example_count(batch, output))

    optimizer_state = optimizer.set_hparams(optimizer.initialize(specs),
                                            hparams)
    trainable, _, metrics_state, num_examples = loop(
        step, dataset, (initial_trainable, optimizer_state,
                        session.initial_metrics_state(),
                        tf.constant(0, tf.int64)))
    unfinalized = session.unfinalized_metrics(metrics_state, trainable)
    delta = tuple(w0 - w for w0, w in zip(initial_trainable, trainable))
    delta, weight = model_training.zero_if_not_finite(
        delta, client_weight(client_weighting, unfinalized, num_examples))
    return client_works.ClientResult(delta, weight), unfinalized

  aggregate_metrics = metrics_aggregator(
      model_training.metric_finalizers(model),
      client_update.type_signature.result[1])

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_eval(initial_hparams, placements.SERVER)

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_clients(weights_type),
      computation_types.type_at_clients(data_type))
  def next_fn(state, weights, client_data):
    outputs = intrinsics.federated_map(
        client_update,
        (weights, client_data, intrinsics.federated_broadcast(state)))
    measurements = intrinsics.federated_zip(
        collections.OrderedDict(train=aggregate_metrics(outputs[1])))
    return measured_process.MeasuredProcessOutput(state, outputs[0],
                                                  measurements)

  @tensorflow_computation.tf_computation(hparams_type)
  def get_hparams_fn(state):
    return state

  @tensorflow_computation.tf_computation(hparams_type, hparams_type)
  def set_hparams_fn(state, hparams):
    del state  # The state is the hyperparameters.
    return hparams

  return client_works.ClientWorkProcess(
      init_fn, next_fn, get_hparams_fn=get_hparams_fn,
      set_hparams_fn=set_hparams_fn)



def build_functional_model_delta_client_work(
    *,
    model: Any,
    optimizer: Any,
    client_weighting: Any,
    metrics_aggregator: Optional[Callable] = None,
    loop_implementation: loop_builder.LoopImplementation = (
        loop_builder.LoopImplementation.DATASET_REDUCE)
) -> client_works.ClientWorkProcess:
  """`build_model_delta_client_work` for a `FunctionalModel` (TFF's name).

  The same client work, restricted as in TFF to a `FunctionalModel` and a
  tffx `Optimizer`, so the client graphs hold no `tf.Variable`.

  Raises:
    ModelFnError: if `model` is not a `FunctionalModel`.
    OptimizerFnError: if `optimizer` is not an `Optimizer`.
    ClientWeightingError, TypeError: as `build_model_delta_client_work`.
  """
  if not isinstance(model, functional.FunctionalModel):
    raise errors.ModelFnError(
        f'Expected model to be a tffx.learning.models.FunctionalModel, found '
        f'{type(model).__name__}. Tip: for a model_fn, use '
        f'build_model_delta_client_work.')
  if not isinstance(optimizer, optimizer_base.Optimizer):
    raise errors.OptimizerFnError(
        f'Expected optimizer to be a tffx.learning.optimizers.Optimizer, '
        f'found {type(optimizer).__name__}.')
  return build_model_delta_client_work(
      model, optimizer, client_weighting, metrics_aggregator,
      loop_implementation=loop_implementation)
