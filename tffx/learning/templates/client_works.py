"""`ClientWorkProcess`: the work clients do in one round of learning.

    initialize: ( -> S@SERVER)
    next:       (<S@SERVER, A@CLIENTS, {D*}@CLIENTS> ->
                 <state=S@SERVER, result=ClientResult(B, C)@CLIENTS,
                  measurements=M@SERVER>)
    get_hparams: (S -> H)        set_hparams: (<S, H> -> S)

`A` informs the work (typically the model weights broadcast to clients),
`D*` is the client data, `B` the update each client computes and `C` its
weight in a weighted aggregation. This module checks type signatures; the
client work of specific algorithms is built elsewhere.
"""

from typing import Any, NamedTuple, Optional

from tffx.computations import computation_impl
from tffx.learning.templates import hparams_base
from tffx.learning.templates import type_checks
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.templates import template_checks
from tffx.types import computation_types
from tffx.types import placements

_SIGNATURE = ('(<S@SERVER, A@CLIENTS, {D*}@CLIENTS> -> <state=S@SERVER, '
              'result=ClientResult(B, C)@CLIENTS, measurements=M@SERVER>)')


class ClientResult(NamedTuple):
  """What each client returns from `ClientWorkProcess.next`.

  Attributes:
    update: The client's update (e.g. a model delta).
    update_weight: The weight of `update` in a weighted aggregation.
  """
  update: Any
  update_weight: Any


class ClientDataTypeError(TypeError):
  """The client data argument of `next` is not a (structure of) sequence(s)."""


class ClientResultTypeError(TypeError):
  """The `result` of client work is not a `ClientResult` at CLIENTS."""


class ClientWorkProcess(measured_process.MeasuredProcess,
                        hparams_base.HparamsMixin):
  """A stateful process of the work clients do during learning.

  Type signatures:

      initialize:  ( -> S@SERVER)
      next:        (<S@SERVER, A@CLIENTS, {D*}@CLIENTS> ->
                    <state=S@SERVER, result=ClientResult(B, C)@CLIENTS,
                     measurements=M@SERVER>)
      get_hparams: (S -> H)
      set_hparams: (<S, H> -> S)

  `A` informs the client update (e.g. the model weights), `D*` is a sequence
  (or a structure of sequences) of client data, `B` the update and `C` its
  weight. The output of `next` is a `MeasuredProcessOutput` whose `result`
  has the `ClientResult` container.
  """

  def __init__(self,
               initialize_fn: computation_impl.Computation,
               next_fn: computation_impl.Computation,
               *,
               get_hparams_fn: Optional[computation_impl.Computation] = None,
               set_hparams_fn: Optional[computation_impl.Computation] = None):
    """Creates a `ClientWorkProcess`.

    Args:
      initialize_fn: A `tffx.Computation` of type `( -> S@SERVER)`.
      next_fn: A `tffx.Computation` of the type shown in the class docstring.
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
      TemplateNotMeasuredProcessOutputError: if `next_fn` does not return a
        `MeasuredProcessOutput`.
      TemplateNotFederatedError: if `initialize_fn` or `next_fn` has an
        unplaced argument or result.
      TemplateNextFnNumArgsError: if `next_fn` does not take three arguments.
      TemplatePlacementError: if a federated argument or result is not
        placed as in the signature.
      ClientDataTypeError: if the third argument of `next_fn` is not a
        sequence (or a structure of sequences) at CLIENTS.
      ClientResultTypeError: if the `result` returned by `next_fn` does not
        have the `ClientResult` container.
      GetHparamsTypeError: if `get_hparams_fn` is not `(S -> H)`.
      SetHparamsTypeError: if `set_hparams_fn` is not `(<S, H> -> S)`.
    """
    super().__init__(initialize_fn, next_fn, next_is_multi_arg=True)
    init_type = initialize_fn.type_signature
    next_type = next_fn.type_signature
    init_context = template_checks.describe('initialize_fn', init_type)
    next_context = template_checks.describe('next_fn', next_type)
    template_checks.check_federated(init_type.result,
                                    'the result of `initialize_fn`',
                                    errors.TemplateNotFederatedError,
                                    init_context)
    template_checks.check_placement(init_type.result, placements.SERVER,
                                    'the state returned by `initialize_fn`',
                                    errors.TemplatePlacementError, init_context)
    template_checks.check_next_is_federated(next_type,
                                            errors.TemplateNotFederatedError)
    template_checks.check_num_args(next_type, 3, False,
                                   errors.TemplateNextFnNumArgsError,
                                   _SIGNATURE)
    parameter = next_type.parameter
    template_checks.check_placement(parameter[1], placements.CLIENTS,
                                    'the second argument of `next_fn`',
                                    errors.TemplatePlacementError, next_context)
    template_checks.check_placement(parameter[2], placements.CLIENTS,
                                    'the client data (third argument of '
                                    '`next_fn`)', errors.TemplatePlacementError,
                                    next_context)
    if not type_checks.is_structure_of_sequences(parameter[2].member):
      raise ClientDataTypeError(
          f'Expected the client data (third argument of `next_fn`) to be a '
          f'sequence or a structure of sequences at CLIENTS, found '
          f'{parameter[2]}.{next_context}\nTip: client data are datasets, '
          f'e.g. tffx.type_at_clients(tffx.SequenceType(np.float32)).')
    output = next_type.result
    template_checks.check_placement(output.result, placements.CLIENTS,
                                    'the `result` returned by `next_fn`',
                                    errors.TemplatePlacementError, next_context)
    if not (isinstance(output.result.member, computation_types.StructType) and
            output.result.member.python_container is ClientResult):
      raise ClientResultTypeError(
          f'Expected the `result` returned by `next_fn` to be a '
          f'ClientResult(update, update_weight) at CLIENTS, found '
          f'{template_checks.with_container(output.result.member)}.'
          f'{next_context}\nTip: return '
          f'`ClientResult(update=..., update_weight=...)` from the client '
          f'computation.')
    template_checks.check_placement(output.measurements, placements.SERVER,
                                    'the `measurements` returned by `next_fn`',
                                    errors.TemplatePlacementError, next_context)
    self._init_hparams(self.state_type.member, get_hparams_fn, set_hparams_fn)
