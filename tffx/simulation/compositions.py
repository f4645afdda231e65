"""Building client datasets on the clients: `compose_dataset_computation_with_*`.

    dataset_computation:  (T -> U*)                 e.g. client id -> dataset
    computation:          (<..., {U*}@CLIENTS, ...> -> V)
    composed:             (<..., {T}@CLIENTS, ...> -> V)

The composed computation maps `dataset_computation` over the client values
(`federated_map`) and calls `computation` on the datasets, so a simulation
passes client ids (cheap) instead of datasets built by the driver. As
TensorFlow Federated's functions of the same names; the iterative and
learning process versions compose with the process's `next`.
"""

from typing import Any, List, Optional

from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.learning.templates import learning_process
from tffx.simulation import errors
from tffx.templates import iterative_process
from tffx.types import computation_types
from tffx.types import placements


def _check_dataset_computation(dataset_computation: Any) -> None:
  if not isinstance(dataset_computation, computation_impl.Computation):
    raise TypeError(f'Expected dataset_computation to be a tffx.Computation, '
                    f'found {type(dataset_computation).__name__}.')
  signature = dataset_computation.type_signature
  if not isinstance(signature.result, computation_types.SequenceType):
    raise TypeError(f'Expected dataset_computation to return a '
                    f'tffx.SequenceType, found {signature.result}.')
  if signature.parameter is None:
    raise TypeError(f'Expected dataset_computation to take an argument (e.g. '
                    f'a client id); its type is {signature}.')


def _is_dataset_parameter(param_type: computation_types.Type,
                          dataset_type: computation_types.Type) -> bool:
  return (isinstance(param_type, computation_types.FederatedType) and
          param_type.placement is placements.CLIENTS and
          param_type.member.is_assignable_from(dataset_type))


def _is_federated_sequence(param_type: computation_types.Type) -> bool:
  return (isinstance(param_type, computation_types.FederatedType) and
          isinstance(param_type.member, computation_types.SequenceType))


def _find_dataset_parameter(param_type, dataset_type, path, matches,
                            sequences):
  """Returns `param_type` with the dataset parameter path(s) recorded.

  Appends to `matches` the index path of each element assignable from
  `{dataset_type}@CLIENTS`, and to `sequences` every federated sequence type
  found, descending into structs.
  """
  if _is_federated_sequence(param_type):
    sequences.append(param_type)
  if _is_dataset_parameter(param_type, dataset_type):
    matches.append(path)
  elif isinstance(param_type, computation_types.StructType):
    for index, element_type in enumerate(param_type):
      _find_dataset_parameter(element_type, dataset_type, path + [index],
                              matches, sequences)


def _replace_at(param_type: computation_types.Type, path: List[int],
                new_type: computation_types.Type) -> computation_types.Type:
  """Returns `param_type` with the element at index path `path` replaced."""
  if not path:
    return new_type
  elements = list(param_type.items())
  name, element_type = elements[path[0]]
  elements[path[0]] = (name, _replace_at(element_type, path[1:], new_type))
  return computation_types.StructType(elements)


def _map_at(value: Any, path: List[int], dataset_computation) -> Any:
  """Returns `value` with `federated_map(dataset_computation, .)` at `path`."""
  if not path:
    return intrinsics.federated_map(dataset_computation, value)
  return [
      _map_at(value[i], path[1:], dataset_computation) if i == path[0] else
      value[i] for i in range(len(value))
  ]


def compose_dataset_computation_with_computation(
    dataset_computation: computation_impl.Computation,
    computation_body: computation_impl.Computation,
) -> computation_impl.Computation:
  """Returns `computation_body` taking `dataset_computation`'s arguments.

  Args:
    dataset_computation: A computation `(T -> U*)`.
    computation_body: A computation whose argument is, or contains (in a
      possibly nested struct), exactly one `{U*}@CLIENTS` parameter.

  Returns:
    A federated computation whose argument is that of `computation_body`
    with the dataset parameter replaced by `{T}@CLIENTS`.

  Raises:
    TypeError: if an argument is not a computation, `dataset_computation`
      takes no argument or returns no sequence.
    SequenceTypeNotFoundError: if `computation_body` takes no federated
      sequence.
    SequenceTypeNotAssignableError: if it takes federated sequences, but
      none assignable from `U*`.
    MultipleMatchingSequenceTypesError: if it takes several.
  """
  _check_dataset_computation(dataset_computation)
  if not isinstance(computation_body, computation_impl.Computation):
    raise TypeError(f'Expected computation_body to be a tffx.Computation, '
                    f'found {type(computation_body).__name__}.')
  dataset_type = dataset_computation.type_signature.result
  body_parameter = computation_body.type_signature.parameter
  matches, sequences = [], []
  if body_parameter is not None:
    _find_dataset_parameter(body_parameter, dataset_type, [], matches,
                            sequences)
  if len(matches) > 1:
    raise errors.MultipleMatchingSequenceTypesError(
        f'Expected computation_body to take exactly one parameter of type '
        f'{{{dataset_type}}}@CLIENTS, found {len(matches)} in its parameter '
        f'{body_parameter}.')
  if not matches and sequences:
    raise errors.SequenceTypeNotAssignableError(
        f'No parameter of computation_body accepts the datasets of '
        f'dataset_computation ({dataset_type}); its federated sequence '
        f'parameters are {", ".join(str(s) for s in sequences)}.')
  if not matches:
    raise errors.SequenceTypeNotFoundError(
        f'Expected computation_body to take a federated dataset '
        f'{{{dataset_type}}}@CLIENTS, found the parameter {body_parameter}.')
  path = matches[0]
  new_parameter = _replace_at(
      body_parameter, path,
      computation_types.FederatedType(
          dataset_computation.type_signature.parameter, placements.CLIENTS))

  @federated_computation.federated_computation(new_parameter)
  def composed(arg):
    return computation_body(_map_at(arg, path, dataset_computation))

  return composed


def compose_dataset_computation_with_iterative_process(
    dataset_computation: computation_impl.Computation,
    process: iterative_process.IterativeProcess,
) -> iterative_process.IterativeProcess:
  """Returns `process` whose `next` builds its datasets on the clients.

  `next`: `<S, {U*}@CLIENTS> -> <S, V>` becomes `<S, {T}@CLIENTS> -> <S, V>`
  (see `compose_dataset_computation_with_computation`).

  Raises:
    TypeError: if `process` is not an `IterativeProcess`, its `initialize`
      returns a sequence, or as `compose_dataset_computation_with_computation`.
  """
  _check_dataset_computation(dataset_computation)
  if not isinstance(process, iterative_process.IterativeProcess):
    raise TypeError(f'Expected a tffx.templates.IterativeProcess, found '
                    f'{type(process).__name__}.')
  init_result = process.initialize.type_signature.result
  if _contains_sequence(init_result):
    raise TypeError(f'Expected initialize to return no dataset; its result '
                    f'type is {init_result}.')
  return iterative_process.IterativeProcess(
      process.initialize,
      compose_dataset_computation_with_computation(dataset_computation,
                                                   process.next))


def _contains_sequence(type_spec: Optional[computation_types.Type]) -> bool:
  if isinstance(type_spec, computation_types.SequenceType):
    return True
  if isinstance(type_spec, computation_types.FederatedType):
    return _contains_sequence(type_spec.member)
  if isinstance(type_spec, computation_types.StructType):
    return any(_contains_sequence(t) for t in type_spec)
  return False


def compose_dataset_computation_with_learning_process(
    dataset_computation: computation_impl.Computation,
    process: learning_process.LearningProcess,
) -> iterative_process.IterativeProcess:
  """As `compose_dataset_computation_with_iterative_process`, for a learning process.

  The result is an `IterativeProcess` (as in TFF: its `next` takes no
  datasets, so it is not a `LearningProcess`) that also has the learning
  process's public attributes (`get_model_weights`, `set_model_weights`,
  `get_hparams`, ...).

  Raises:
    TypeError: if `process` is not a `LearningProcess`, or as
      `compose_dataset_computation_with_iterative_process`.
  """
  if not isinstance(process, learning_process.LearningProcess):
    raise TypeError(f'Expected a tffx.learning.templates.LearningProcess, '
                    f'found {type(process).__name__}.')
  composed = compose_dataset_computation_with_iterative_process(
      dataset_computation, process)
  for name in dir(process):
    if not name.startswith('_') and not hasattr(composed, name):
      setattr(composed, name, getattr(process, name))
  return composed
