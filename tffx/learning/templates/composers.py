"""`compose_learning_process`: a `LearningProcess` from four learning templates.

One round of the composed `next`:

    state.global_model_weights --> distributor --> weights@CLIENTS
                                                       |
                        client data@CLIENTS --> client_work --> ClientResult@CLIENTS
                                                                  |
                                        aggregator <-- update (, update_weight)
                                             |
    state.global_model_weights --> finalizer <-- aggregated update@SERVER
                                       |
                                 new global_model_weights@SERVER

Each component keeps its own state in `LearningAlgorithmState` and reports
its measurements under its name in the metrics. This module checks that the
components fit and traces the composition; it runs nothing.
"""

import collections
from typing import Any, NamedTuple

from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.learning.templates import client_works
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import learning_process
from tffx.templates import aggregation_process
from tffx.templates import template_checks
from tffx.types import computation_types
from tffx.types import errors as type_errors
from tffx.types import placements


class LearningAlgorithmState(NamedTuple):
  """The state of a composed learning process.

  Attributes:
    global_model_weights: The weights of the global model being trained.
    distributor: The state of the distributor.
    client_work: The state of the client work.
    aggregator: The state of the aggregator.
    finalizer: The state of the finalizer.
  """
  global_model_weights: Any
  distributor: Any
  client_work: Any
  aggregator: Any
  finalizer: Any


def _check_assignable(target, source, what: str) -> None:
  if not target.is_assignable_from(source):
    raise type_errors.TypeNotAssignableError(
        f'The components do not fit: expected {what}. Expected {target} to be '
        f'assignable from {source}.', target, source)


def _validate(initial_model_weights_fn, model_weights_distributor, client_work,
              model_update_aggregator, model_finalizer):
  """Checks the argument classes, then that each output fits the next input."""
  init_type = template_checks.check_computation(initial_model_weights_fn,
                                                'initial_model_weights_fn')
  if init_type.parameter is not None:
    raise TypeError(
        f'Expected initial_model_weights_fn to take no argument, found '
        f'{init_type}.')
  template_checks.check_unplaced_type(init_type.result,
                                      'the initial model weights')
  for name, value, cls in (
      ('model_weights_distributor', model_weights_distributor,
       distributors.DistributionProcess),
      ('client_work', client_work, client_works.ClientWorkProcess),
      ('model_update_aggregator', model_update_aggregator,
       aggregation_process.AggregationProcess),
      ('model_finalizer', model_finalizer, finalizers.FinalizerProcess)):
    if not isinstance(value, cls):
      raise TypeError(f'Expected {name} to be a {cls.__name__}, found '
                      f'{type(value).__name__}.')

  weights_type = computation_types.type_at_server(init_type.result)
  distributor_next = model_weights_distributor.next.type_signature
  client_next = client_work.next.type_signature
  aggregator_next = model_update_aggregator.next.type_signature
  finalizer_next = model_finalizer.next.type_signature
  _check_assignable(distributor_next.parameter[1], weights_type,
                    'the distributor to accept the initial model weights')
  _check_assignable(client_next.parameter[1], distributor_next.result.result,
                    'the client work to accept what the distributor sends')
  client_result = client_next.result.result.member
  _check_assignable(aggregator_next.parameter[1].member, client_result.update,
                    'the aggregator to accept the client update')
  if not model_update_aggregator.is_weighted:
    # TFF's message; its tests match on it.
    raise TypeError(
        f'Provided model_update_aggregator must be weighted. Found the '
        f'unweighted next: {aggregator_next}.\nTip: wrap an unweighted '
        f'factory with tffx.aggregators.as_weighted_aggregator before '
        f'creating the process.')
  _check_assignable(aggregator_next.parameter[2].member,
                    client_result.update_weight,
                    'the weighted aggregator to accept the update weight')
  _check_assignable(finalizer_next.parameter[1], weights_type,
                    'the finalizer to accept the global model weights')
  _check_assignable(finalizer_next.parameter[2],
                    aggregator_next.result.result,
                    'the finalizer to accept the aggregated update')
  _check_assignable(weights_type, finalizer_next.result.result,
                    'the finalizer to return new global model weights')


def compose_learning_process(
    initial_model_weights_fn: computation_impl.Computation,
    model_weights_distributor: distributors.DistributionProcess,
    client_work: client_works.ClientWorkProcess,
    model_update_aggregator: aggregation_process.AggregationProcess,
    model_finalizer: finalizers.FinalizerProcess
) -> learning_process.LearningProcess:
  """Composes learning templates into a `LearningProcess`.

  The composed process has the state `LearningAlgorithmState@SERVER` and:

      initialize: ( -> LearningAlgorithmState@SERVER)
      next: (<LearningAlgorithmState@SERVER, {D*}@CLIENTS> ->
             <state=LearningAlgorithmState@SERVER,
              metrics=<distributor=..,client_work=..,aggregator=..,
                       finalizer=..>@SERVER>)

  `next` runs the distributor on the global weights, the client work on
  what it sends and the client data, the aggregator on the client updates
  and their weights, and the finalizer on
  the global weights and the aggregate (see the module docstring).
  `get_model_weights`/`set_model_weights` read and replace
  `global_model_weights`; `get_hparams` returns
  `OrderedDict(client_work=..., finalizer=...)` from the components'
  `get_hparams`, and `set_hparams` passes each part to the component's
  `set_hparams`.

  As in TFF, the aggregator must be weighted (`next` takes state, updates
  and weights); wrap an unweighted factory with
  `tffx.aggregators.as_weighted_aggregator` to ignore the weights.

  Args:
    initial_model_weights_fn: A no-argument `tffx.Computation` returning the
      unplaced initial model weights `W`.
    model_weights_distributor: A `DistributionProcess` for `W`.
    client_work: A `ClientWorkProcess` taking what the distributor sends.
    model_update_aggregator: A weighted `AggregationProcess` of the client
      updates.
    model_finalizer: A `FinalizerProcess` taking `W` and the aggregate and
      returning `W`.

  Returns:
    A `LearningProcess`.

  Raises:
    TypeError: if an argument is of the wrong class, the aggregator is not
      weighted, or `initial_model_weights_fn` takes an argument or returns a
      placed value.
    TypeNotAssignableError: if the output of a component does not fit the
      input of the next one (the message names them).
  """
  _validate(initial_model_weights_fn, model_weights_distributor, client_work,
            model_update_aggregator, model_finalizer)
  client_data_type = client_work.next.type_signature.parameter[2]

  @federated_computation.federated_computation
  def init_fn():
    initial_weights = intrinsics.federated_eval(initial_model_weights_fn,
                                                placements.SERVER)
    return intrinsics.federated_zip(
        LearningAlgorithmState(initial_weights,
                               model_weights_distributor.initialize(),
                               client_work.initialize(),
                               model_update_aggregator.initialize(),
                               model_finalizer.initialize()))

  # From the components' state types, not their initial states' types: a
  # state may grow (a sampling process's sample starts empty).
  server_state_type = computation_types.type_at_server(
      computation_types.to_type(
          LearningAlgorithmState(
              initial_model_weights_fn.type_signature.result,
              *(component.state_type.member
                for component in (model_weights_distributor, client_work,
                                  model_update_aggregator, model_finalizer)))))

  @federated_computation.federated_computation(server_state_type,
                                               client_data_type)
  def next_fn(state, client_data):
    distributor_output = model_weights_distributor.next(
        state.distributor, state.global_model_weights)
    client_output = client_work.next(state.client_work,
                                     distributor_output.result, client_data)
    aggregator_output = model_update_aggregator.next(
        state.aggregator, client_output.result.update,
        client_output.result.update_weight)
    finalizer_output = model_finalizer.next(state.finalizer,
                                            state.global_model_weights,
                                            aggregator_output.result)
    new_state = intrinsics.federated_zip(
        LearningAlgorithmState(finalizer_output.result,
                               distributor_output.state, client_output.state,
                               aggregator_output.state, finalizer_output.state))
    metrics = intrinsics.federated_zip(
        collections.OrderedDict(
            distributor=distributor_output.measurements,
            client_work=client_output.measurements,
            aggregator=aggregator_output.measurements,
            finalizer=finalizer_output.measurements))
    return learning_process.LearningProcessOutput(new_state, metrics)

  state_type = next_fn.type_signature.parameter[0].member

  # Federated computations over unplaced values: they call the components'
  # computations whether those are TensorFlow or federated computations.
  @federated_computation.federated_computation(state_type)
  def get_model_weights(state):
    return state.global_model_weights

  @federated_computation.federated_computation(
      state_type, state_type.global_model_weights)
  def set_model_weights(state, model_weights):
    return LearningAlgorithmState(model_weights, state.distributor,
                                  state.client_work, state.aggregator,
                                  state.finalizer)

  @federated_computation.federated_computation(state_type)
  def get_hparams(state):
    return collections.OrderedDict(
        client_work=client_work.get_hparams(state.client_work),
        finalizer=model_finalizer.get_hparams(state.finalizer))

  @federated_computation.federated_computation(
      state_type, get_hparams.type_signature.result)
  def set_hparams(state, hparams):
    return LearningAlgorithmState(
        state.global_model_weights, state.distributor,
        client_work.set_hparams(state.client_work, hparams['client_work']),
        state.aggregator,
        model_finalizer.set_hparams(state.finalizer, hparams['finalizer']))

  return learning_process.LearningProcess(
      init_fn,
      next_fn,
      get_model_weights,
      set_model_weights,
      get_hparams_fn=get_hparams,
      set_hparams_fn=set_hparams)
