"""`LearningProcess`: an iterative process that trains a model on client data.

    initialize:        ( -> S@SERVER)
    next:              (<S@SERVER, {D*}@CLIENTS> -> <state=S@SERVER, metrics=M@SERVER>)
    get_model_weights: (S -> W)          set_model_weights: (<S, W> -> S)
    get_hparams:       (S -> H)          set_hparams:       (<S, H> -> S)

`next` returns a `LearningProcessOutput(state, metrics)`. The four unplaced
computations read or replace parts of a state outside a round (e.g. the
weights for evaluation). `compose_learning_process` (in `composers`) builds
a `LearningProcess` from the other learning templates.
"""

from typing import Any, NamedTuple, Optional

from tffx.computations import computation_impl
from tffx.learning.templates import hparams_base
from tffx.learning.templates import type_checks
from tffx.templates import errors
from tffx.templates import iterative_process
from tffx.templates import template_checks
from tffx.types import computation_types
from tffx.types import placements


class Error(TypeError):
  """Base of this module's errors, so callers can catch them all, as in TFF.

  TFF's `learning_process.Error` derives from `Exception`; this one derives
  from `TypeError` (itself an `Exception`), since every error here is about
  type signatures and code that catches `TypeError` keeps working.
  """


class LearningProcessPlacementError(Error):
  """A learning process's state, data or metrics is not placed as expected."""


class LearningProcessSequenceTypeError(Error):
  """The client data argument of `next` is not a (structure of) sequence(s)."""


class LearningProcessOutputError(Error):
  """`next` does not return a `LearningProcessOutput`."""


class GetModelWeightsTypeSignatureError(Error):
  """`get_model_weights` does not have the type `(S -> W)` for the state `S`."""


class SetModelWeightsTypeSignatureError(Error):
  """`set_model_weights` does not have the type `(<S, W> -> S)`."""


class LearningProcessOutput(NamedTuple):
  """The result of `LearningProcess.next`.

  Attributes:
    state: The new state, passed to the next call of `next`; its contents
      are details of the process.
    metrics: Values describing the round, for people and logs (e.g. the
      mean client loss, or counts of examples); not fed back.
  """
  state: Any
  metrics: Any


class LearningProcess(iterative_process.IterativeProcess,
                      hparams_base.HparamsMixin):
  """A stateful process for learning tasks that reports metrics.

  Type signatures, with `S` the state, `D*` the client data, `M` the
  metrics, `W` the model weights and `H` the hyperparameters:

      initialize:        ( -> S@SERVER)
      next:              (<S@SERVER, {D*}@CLIENTS> ->
                          <state=S@SERVER, metrics=M@SERVER>)
      get_model_weights: (S -> W)
      set_model_weights: (<S, W> -> S)
      get_hparams:       (S -> H)
      set_hparams:       (<S, H> -> S)

  The output of `next` is a `LearningProcessOutput`; `D*` is a sequence or
  a structure of sequences. For example:

      state = process.initialize()
      for _ in range(3):
        state, metrics = process.next(state, client_datasets)
      weights = process.get_model_weights(state)
  """

  def __init__(self,
               initialize_fn: computation_impl.Computation,
               next_fn: computation_impl.Computation,
               get_model_weights: computation_impl.Computation,
               set_model_weights: computation_impl.Computation,
               *,
               get_hparams_fn: Optional[computation_impl.Computation] = None,
               set_hparams_fn: Optional[computation_impl.Computation] = None):
    """Creates a `LearningProcess`.

    Args:
      initialize_fn: A `tffx.Computation` of type `( -> S@SERVER)`.
      next_fn: A `tffx.Computation` of type
        `(<S@SERVER, {D*}@CLIENTS> -> <state=S@SERVER, metrics=M@SERVER>)`
        returning a `LearningProcessOutput`.
      get_model_weights: A `tffx.Computation` of type `(S -> W)`, whose
        argument is equivalent to the unplaced state.
      set_model_weights: A `tffx.Computation` of type `(<S, W> -> S)`.
      get_hparams_fn: An optional `tffx.Computation` of type `(S -> H)`.
        Defaults to one returning an empty `OrderedDict`.
      set_hparams_fn: An optional `tffx.Computation` of type
        `(<S, H> -> S)`. Defaults to one returning the state unchanged.

    Raises:
      TypeError: if an argument is not a computation.
      TemplateInitFnParamNotEmptyError: if `initialize_fn` takes an argument.
      TemplateStateNotAssignableError: if the state returned by
        `initialize_fn` or `next_fn` does not fit the first argument of
        `next_fn`.
      LearningProcessPlacementError: if the state, the client data or the
        metrics are not placed as in the signature.
      LearningProcessOutputError: if `next_fn` does not return a
        `LearningProcessOutput`.
      TemplateNextFnNumArgsError: if `next_fn` does not take two arguments.
      LearningProcessSequenceTypeError: if the client data is not a sequence
        (or a structure of sequences).
      GetModelWeightsTypeSignatureError: if the argument of
        `get_model_weights` is not equivalent to the state.
      SetModelWeightsTypeSignatureError: if `set_model_weights` does not take
        `<S, W>` with `S` equivalent to the state, or does not return a state.
      GetHparamsTypeError: if `get_hparams_fn` is not `(S -> H)`.
      SetHparamsTypeError: if `set_hparams_fn` is not `(<S, H> -> S)`.
    """
    super().__init__(initialize_fn, next_fn)
    init_type = initialize_fn.type_signature
    next_type = next_fn.type_signature
    init_context = template_checks.describe('initialize_fn', init_type)
    next_context = template_checks.describe('next_fn', next_type)
    template_checks.check_placement(init_type.result, placements.SERVER,
                                    'the state returned by `initialize_fn`',
                                    LearningProcessPlacementError, init_context)
    output = next_type.result
    if not (isinstance(output, computation_types.StructType) and
            output.python_container is LearningProcessOutput):
      raise LearningProcessOutputError(
          f'Expected `next_fn` to return a LearningProcessOutput(state, '
          f'metrics), found the result type '
          f'{template_checks.with_container(output)}.{next_context}\nTip: '
          f'return `LearningProcessOutput(state=..., metrics=...)`.')
    template_checks.check_num_args(
        next_type, 2, False, errors.TemplateNextFnNumArgsError,
        '(<S@SERVER, {D*}@CLIENTS> -> <state=S@SERVER, metrics=M@SERVER>)')
    # The base class found the SERVER state assignable to one of the
    # arguments; with a LearningProcessOutput it must be the first one.
    state_type = next_type.parameter[0]
    if not state_type.is_assignable_from(output.state):
      raise errors.TemplateStateNotAssignableError(
          f'Expected the `state` returned by `next_fn` ({output.state}) to be '
          f'assignable to its first argument ({state_type}).{next_context}')
    data_type = next_type.parameter[1]
    template_checks.check_placement(data_type, placements.CLIENTS,
                                    'the client data (second argument of '
                                    '`next_fn`)', LearningProcessPlacementError,
                                    next_context)
    if not type_checks.is_structure_of_sequences(data_type.member):
      raise LearningProcessSequenceTypeError(
          f'Expected the client data (second argument of `next_fn`) to be a '
          f'sequence or a structure of sequences at CLIENTS, found '
          f'{data_type}.{next_context}')
    template_checks.check_placement(output.metrics, placements.SERVER,
                                    'the `metrics` returned by `next_fn`',
                                    LearningProcessPlacementError, next_context)

    state_member = state_type.member
    weights_fn_type = template_checks.check_computation(get_model_weights,
                                                        'get_model_weights')
    if (weights_fn_type.parameter is None or
        not weights_fn_type.parameter.is_equivalent_to(state_member)):
      raise GetModelWeightsTypeSignatureError(
          f'Expected `get_model_weights` to have the type (S -> W) with the '
          f'unplaced state S = {state_member}, found {weights_fn_type}.')
    set_weights_type = template_checks.check_computation(set_model_weights,
                                                         'set_model_weights')
    parameter = set_weights_type.parameter
    expected = f'(<S, W> -> S) with the unplaced state S = {state_member}'
    if (not isinstance(parameter, computation_types.StructType) or
        len(parameter) != 2 or not parameter[0].is_equivalent_to(state_member)):
      raise SetModelWeightsTypeSignatureError(
          f'Expected `set_model_weights` to have the type {expected}, found '
          f'{set_weights_type}.')
    if not parameter[1].is_assignable_from(weights_fn_type.result):
      raise SetModelWeightsTypeSignatureError(
          f'Expected the second argument of `set_model_weights` to accept the '
          f'weights returned by `get_model_weights`, {weights_fn_type.result}; '
          f'found {set_weights_type}.')
    if not state_member.is_assignable_from(set_weights_type.result):
      raise SetModelWeightsTypeSignatureError(
          f'Expected `set_model_weights` to return a state: type {expected}; '
          f'found {set_weights_type}.')
    self._state_type = state_type
    self._get_model_weights = get_model_weights
    self._set_model_weights = set_model_weights
    self._init_hparams(state_member, get_hparams_fn, set_hparams_fn)

  @property
  def next(self) -> computation_impl.Computation:
    """A `tffx.Computation` that runs one round of learning.

    Its arguments are the current state (first produced by `initialize`)
    and the client data at CLIENTS; it returns a `LearningProcessOutput`
    whose fields are at SERVER.
    """
    return self._next_fn

  @property
  def get_model_weights(self) -> computation_impl.Computation:
    """A `tffx.Computation` `(S -> W)` returning the model weights of a state.

    `S` is the unplaced state; `W` need not be a `ModelWeights`.
    """
    return self._get_model_weights

  @property
  def set_model_weights(self) -> computation_impl.Computation:
    """A `tffx.Computation` `(<S, W> -> S)` replacing the weights in a state."""
    return self._set_model_weights
