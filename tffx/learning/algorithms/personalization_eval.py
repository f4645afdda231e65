"""Evaluation of personalization strategies: `build_personalization_eval_computation`.

A federated computation (not a process): the server's model weights are
broadcast; each client evaluates them on its `test_data` (the baseline) and
runs every personalization strategy, which fine-tunes from those weights on
`train_data` and evaluates on `test_data`; the metrics of at most
`max_num_clients` clients, sampled uniformly without replacement, are
collected at the server:

    (<model_weights@SERVER, <train_data={x*}, test_data={x*}>@CLIENTS>
        -> <baseline_metrics=<m=float32[?],...>, strategy=<...>, ...>@SERVER)

Client datasets are unbatched (elements are the model's batches without
their first dimension); strategies batch them as they like. Row `i` of
every metric comes from the same client.
"""

import collections
from typing import Any, Callable, Mapping

import tensorflow as tf

from tffx.aggregators import sampling
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.algorithms import errors
from tffx.learning.templates import model_training
from tffx.learning.models import functional
from tffx.types import computation_types

ModelWeights = model_training.ModelWeights
_BASELINE_KEY = 'baseline_metrics'


def _without_batch_dimension(spec: Any) -> Any:
  """`spec` (TensorSpecs) with the first dimension of each tensor removed.

  Raises:
    ValueError: if a tensor has rank 0 (TFF's message).
  """

  def drop_first(tensor_spec):
    if tensor_spec.shape.rank is None or tensor_spec.shape.rank == 0:
      raise ValueError('Provided shape must have rank 1 or higher.')
    return tf.TensorSpec(tensor_spec.shape[1:], tensor_spec.dtype)

  return tf.nest.map_structure(drop_first, spec)


def build_personalization_eval_computation(
    model_fn: Any,
    personalize_fn_dict: Mapping[str, Callable[[], Callable[..., Any]]],
    baseline_evaluate_fn: Callable[..., Any],
    max_num_clients: int = 100):
  """Builds the federated computation of the module docstring.

  Args:
    model_fn: A `tffx.learning.models.FunctionalModel`, or a no-argument
      callable returning one.
    personalize_fn_dict: An `OrderedDict` from strategy names to no-argument
      callables, each returning `fn(model, model_weights, train_data,
      test_data) -> metrics`: `model` is the `FunctionalModel`,
      `model_weights` the broadcast `ModelWeights` (tensors) to start from,
      the datasets are unbatched, and `metrics` an `OrderedDict` (possibly
      nested) of scalar tensors.
    baseline_evaluate_fn: `fn(model, model_weights, test_data) -> metrics`,
      evaluating the broadcast weights.
    max_num_clients: The largest number of clients whose metrics are
      collected, a positive int (default 100).

  Returns:
    A `tffx.federated_computation` of the type in the module docstring.

  Raises:
    TypeError: if `personalize_fn_dict` is not an `OrderedDict` of
      callables, `baseline_evaluate_fn` is not callable, or
      `max_num_clients` is not an int.
    ValueError: if `baseline_metrics` is a strategy name, or
      `max_num_clients` is not positive.
    ModelFnError: if `model_fn` does not give a `FunctionalModel`.
  """
  model = model_training.resolve_model(model_fn)
  if not isinstance(model, functional.FunctionalModel):
    raise errors.ModelFnError(
        f'Expected model_fn to be a tffx.learning.models.FunctionalModel or '
        f'a no-argument callable returning one, found a callable returning '
        f'a VariableModel. Tip: personalization strategies are functions of '
        f'a FunctionalModel; build one with '
        f'tffx.learning.models.functional_model_from_keras.')
  if not isinstance(personalize_fn_dict, collections.OrderedDict):
    raise TypeError(
        f'Expected personalize_fn_dict to be a collections.OrderedDict, found '
        f'{type(personalize_fn_dict).__name__}.')
  if _BASELINE_KEY in personalize_fn_dict:
    # TFF's message.
    raise ValueError(
        'baseline_metrics should not be used as a key in personalize_fn_dict.')
  not_callable = [n for n, f in personalize_fn_dict.items() if not callable(f)]
  if not_callable or not all(isinstance(n, str) for n in personalize_fn_dict):
    raise TypeError(
        f'Expected personalize_fn_dict to map strategy names (str) to '
        f'no-argument callables, found {list(personalize_fn_dict)} with '
        f'{not_callable} not callable.')
  if not callable(baseline_evaluate_fn):
    raise TypeError(
        f'Expected baseline_evaluate_fn to be callable, found '
        f'{type(baseline_evaluate_fn).__name__}.')
  if isinstance(max_num_clients, bool) or not isinstance(max_num_clients, int):
    raise TypeError(f'Expected max_num_clients to be an int, found '
                    f'{type(max_num_clients).__name__}.')
  if max_num_clients <= 0:
    raise ValueError('max_num_clients must be a positive integer.')

  weights_type, _ = model_training.weights_and_data_types(model)
  element_type = computation_types.SequenceType(
      computation_types.to_type(_without_batch_dimension(model.input_spec)))
  client_input_type = computation_types.to_type(
      collections.OrderedDict(train_data=element_type, test_data=element_type))

  @tensorflow_computation.tf_computation(weights_type, client_input_type)
  def client_metrics(model_weights, client_input):
    model_weights = ModelWeights(tuple(model_weights.trainable),
                                 tuple(model_weights.non_trainable))
    train_data = client_input['train_data']
    test_data = client_input['test_data']
    metrics = collections.OrderedDict()
    metrics[_BASELINE_KEY] = baseline_evaluate_fn(model, model_weights,
                                                  test_data)
    for name, build_strategy in personalize_fn_dict.items():
      metrics[name] = build_strategy()(model, model_weights, train_data,
                                       test_data)
    return metrics

  @federated_computation.federated_computation(
      computation_types.type_at_server(weights_type),
      computation_types.type_at_clients(client_input_type))
  def personalization_eval(server_model_weights, federated_client_input):
    metrics = intrinsics.federated_map(
        client_metrics,
        (intrinsics.federated_broadcast(server_model_weights),
         federated_client_input))
    return sampling.federated_sample(metrics, max_num_clients)

  return personalization_eval
