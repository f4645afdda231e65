"""Federated evaluation: `build_fed_eval`.

A `LearningProcess` that never changes the model: each round, clients run the
global model (`training=False`) over their data and report unfinalized
metrics, which a metrics aggregation process sums and finalizes at SERVER.
Evaluate trained weights by putting them into the state first:

    evaluation = build_fed_eval(model_fn)
    state = evaluation.set_model_weights(evaluation.initialize(), weights)
    state, metrics = evaluation.next(state, client_datasets)
    metrics['client_work']['eval']['current_round_metrics']['loss']

Metrics, as in TFF:

    <distributor=<>,
     client_work=<eval=<current_round_metrics=<the model's metrics>,
                        total_rounds_metrics=<... summed over all rounds>>>,
     aggregator=<>, finalizer=<>>

Metrics are summed over clients and then finalized, so e.g. the `loss` of
a `from_keras_model` model is the mean over all examples of all clients and
equals a centralized evaluation of the same weights.
"""

import collections
from typing import Any, Optional

import tensorflow as tf

from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.templates import loop_builder
from tffx.learning.algorithms import fed_avg
from tffx.learning.templates import model_training
from tffx.learning.metrics import aggregator as metrics_aggregator_lib
from tffx.learning.templates import client_works
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import learning_process
from tffx.templates import aggregation_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements

LoopImplementation = loop_builder.LoopImplementation
_EMPTY = computation_types.StructType([])


def check_metrics_process(process: Any, unfinalized_type) -> None:
  """Raises TypeError unless `process` takes `{U}@CLIENTS` as documented."""
  expected = (f'a tffx.templates.MeasuredProcess with next: (<S@SERVER, '
              f'{{{unfinalized_type}}}@CLIENTS> -> <state=S@SERVER, '
              f'result=<current_round_metrics, total_rounds_metrics>@SERVER, '
              f'measurements=M@SERVER>)')
  if not isinstance(process, measured_process.MeasuredProcess):
    raise TypeError(f'Expected metrics_aggregation_process to be {expected}, '
                    f'found {type(process).__name__}.')
  next_type = process.next.type_signature
  parameter, result = next_type.parameter, next_type.result
  clients_type = computation_types.type_at_clients(unfinalized_type)
  if not (isinstance(parameter, computation_types.StructType) and
          len(parameter) == 2 and
          parameter[1].is_assignable_from(clients_type) and
          isinstance(result.result, computation_types.FederatedType) and
          result.result.placement is placements.SERVER and
          isinstance(result.result.member, computation_types.StructType) and
          len(result.result.member) == 2):
    raise TypeError(f'Expected metrics_aggregation_process to be {expected}, '
                    f'found next: {next_type}.')


def build_empty_aggregator() -> aggregation_process.AggregationProcess:
  """Aggregates the empty updates (and weights) of evaluation into `<>`.

  Weighted, as the composed learning process requires.
  """

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_value((), placements.SERVER)

  @federated_computation.federated_computation(
      init_fn.type_signature.result, computation_types.type_at_clients(_EMPTY),
      computation_types.type_at_clients(_EMPTY))
  def next_fn(state, update, weight):
    del update, weight  # Evaluation sends no update.
    empty = intrinsics.federated_value((), placements.SERVER)
    return measured_process.MeasuredProcessOutput(state, empty, empty)

  return aggregation_process.AggregationProcess(init_fn, next_fn)


def build_fed_eval(
    model_fn: Any,
    model_distributor: Optional[distributors.DistributionProcess] = None,
    metrics_aggregation_process: Optional[
        measured_process.MeasuredProcess] = None,
    loop_implementation: LoopImplementation = LoopImplementation.DATASET_REDUCE
) -> learning_process.LearningProcess:
  """Builds a `LearningProcess` that evaluates the model on client data.

  Args:
    model_fn: A `FunctionalModel`, or a no-argument callable returning a
      `FunctionalModel` or a `VariableModel`.
    model_distributor: Optional `DistributionProcess`; default a broadcast.
    metrics_aggregation_process: Optional process summing and finalizing
      the unfinalized metrics, with the signature of the processes of
      `tffx.learning.metrics.SumThenFinalizeFactory` (whose process is the
      default): its result is `(current_round_metrics,
      total_rounds_metrics)`.
    loop_implementation: How clients loop over their data.

  Returns:
    A `tffx.learning.templates.LearningProcess` whose `next` leaves the
    model weights unchanged.

  Raises:
    ModelFnError: if `model_fn` is not a model or a callable returning one.
    TypeError: for a wrong distributor, metrics process or loop.
  """
  model = model_training.resolve_model(model_fn)
  loop = loop_builder.build_training_loop(loop_implementation)
  weights_type, data_type = model_training.weights_and_data_types(model)

  @tensorflow_computation.tf_computation(weights_type, data_type)
  def client_eval(weights, dataset):
    trainable = tuple(weights.trainable)
    session = model_training.start_client(model, weights)

    def step(state, batch):
      metrics_state, num_batches = state
      output, _ = session.forward(trainable, batch, training=False,
                                  with_gradients=False)
      return (session.update_metrics(metrics_state, batch, output),
              num_batches + 1)

    metrics_state, num_batches = loop(
        step, dataset, (session.initial_metrics_state(),
                        tf.constant(0, tf.int64)))
    return (client_works.ClientResult((), ()),
            session.unfinalized_metrics(metrics_state, num_batches))

  client_work = build_eval_client_work(
      client_eval, weights_type, data_type,
      model_training.metric_finalizers(model), metrics_aggregation_process)
  return composers.compose_learning_process(
      model_training.build_initial_weights_fn(model),
      fed_avg.check_distributor(model_distributor, weights_type,
                                'build_fed_eval'), client_work,
      build_empty_aggregator(),
      finalizers.build_identity_finalizer(weights_type, update_type=_EMPTY))


def build_eval_client_work(
    client_eval: Any, weights_type: Any, data_type: Any,
    metric_finalizers: Any,
    metrics_aggregation_process: Optional[Any] = None
) -> client_works.ClientWorkProcess:
  """The client work of an evaluation: `client_eval` on every client.

  `client_eval` maps (weights, data) to an empty `ClientResult` and the
  client's unfinalized metrics; `metrics_aggregation_process` (by default
  a sum then `metric_finalizers`) aggregates them into the `eval`
  measurements, current round and total, and keeps its state as the client
  work's.
  """
  unfinalized_type = client_eval.type_signature.result[1]
  if metrics_aggregation_process is None:
    metrics_aggregation_process = metrics_aggregator_lib.SumThenFinalizeFactory(
        metric_finalizers).create(unfinalized_type)
  check_metrics_process(metrics_aggregation_process, unfinalized_type)

  @federated_computation.federated_computation
  def init_fn():
    return metrics_aggregation_process.initialize()

  # The process's state type, not its initial state's: a sampling
  # process's state grows from an empty sample.
  @federated_computation.federated_computation(
      metrics_aggregation_process.state_type,
      computation_types.type_at_clients(weights_type),
      computation_types.type_at_clients(data_type))
  def next_fn(state, weights, client_data):
    outputs = intrinsics.federated_map(client_eval, (weights, client_data))
    aggregated = metrics_aggregation_process.next(state, outputs[1])
    measurements = intrinsics.federated_zip(
        collections.OrderedDict(
            eval=collections.OrderedDict(
                current_round_metrics=aggregated.result[0],
                total_rounds_metrics=aggregated.result[1])))
    return measured_process.MeasuredProcessOutput(aggregated.state, outputs[0],
                                                  measurements)

  return client_works.ClientWorkProcess(init_fn, next_fn)
