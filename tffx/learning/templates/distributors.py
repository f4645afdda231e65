"""`DistributionProcess`: how the server sends a value to the clients.

    initialize: ( -> S@SERVER)
    next:       (<S@SERVER, V@SERVER> ->
                 <state=S@SERVER, result=V'@CLIENTS, measurements=M@SERVER>)
    get_hparams: (S -> H)        set_hparams: (<S, H> -> S)

`V'` may differ from `V` (e.g. a compressed model), although a plain
broadcast keeps it. `build_broadcast_process` builds the plain broadcast.
"""

from typing import Optional

from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.learning.templates import hparams_base
from tffx.learning.templates import type_checks
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.templates import template_checks
from tffx.types import computation_types
from tffx.types import placements

_SIGNATURE = ("(<S@SERVER, V@SERVER> -> <state=S@SERVER, result=V'@CLIENTS, "
              'measurements=M@SERVER>)')


class DistributionProcess(measured_process.MeasuredProcess,
                          hparams_base.HparamsMixin):
  """A stateful process that distributes a SERVER value to the CLIENTS.

  Type signatures:

      initialize:  ( -> S@SERVER)
      next:        (<S@SERVER, V@SERVER> ->
                    <state=S@SERVER, result=V'@CLIENTS, measurements=M@SERVER>)
      get_hparams: (S -> H)
      set_hparams: (<S, H> -> S)

  The output of `next` is a `MeasuredProcessOutput`. `V'` need not be `V`.
  """

  def __init__(self,
               initialize_fn: computation_impl.Computation,
               next_fn: computation_impl.Computation,
               *,
               get_hparams_fn: Optional[computation_impl.Computation] = None,
               set_hparams_fn: Optional[computation_impl.Computation] = None):
    """Creates a `DistributionProcess`.

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
      TemplateNextFnNumArgsError: if `next_fn` does not take two arguments.
      TemplatePlacementError: if a federated argument or result is not
        placed as in the signature.
      GetHparamsTypeError: if `get_hparams_fn` is not `(S -> H)`.
      SetHparamsTypeError: if `set_hparams_fn` is not `(<S, H> -> S)`.
    """
    super().__init__(initialize_fn, next_fn, next_is_multi_arg=True)
    next_context = type_checks.check_federated_process(
        initialize_fn, next_fn, 2, _SIGNATURE)
    next_type = next_fn.type_signature
    template_checks.check_placement(next_type.parameter[1], placements.SERVER,
                                    'the value to distribute (second argument '
                                    'of `next_fn`)',
                                    errors.TemplatePlacementError, next_context)
    output = next_type.result
    template_checks.check_placement(output.result, placements.CLIENTS,
                                    'the `result` returned by `next_fn`',
                                    errors.TemplatePlacementError, next_context)
    template_checks.check_placement(output.measurements, placements.SERVER,
                                    'the `measurements` returned by `next_fn`',
                                    errors.TemplatePlacementError, next_context)
    self._init_hparams(self.state_type.member, get_hparams_fn, set_hparams_fn)


def _contains_sequence(type_spec: computation_types.Type) -> bool:
  if isinstance(type_spec, computation_types.SequenceType):
    return True
  return any(_contains_sequence(t) for t in type_spec.children())


def build_broadcast_process(value_type) -> DistributionProcess:
  """Returns a `DistributionProcess` that broadcasts values of `value_type`.

  The process has an empty state and reports empty measurements:

      initialize: ( -> <>@SERVER)
      next: (<<>@SERVER, V@SERVER> ->
             <state=<>@SERVER, result=V@CLIENTS, measurements=<>@SERVER>)

  Args:
    value_type: The unplaced type `V` of the value to broadcast (or a spec
      that converts to it).

  Raises:
    TypeError: if `value_type` is not an unplaced type of tensors and
      structs (federated, function and sequence types are refused, as in TFF).
  """
  value_type = template_checks.check_unplaced_type(value_type,
                                                  'the value_type to broadcast')
  if _contains_sequence(value_type):
    raise TypeError(
        f'Expected the value_type to broadcast to be a tensor or a struct of '
        f'tensors, found {value_type}, which holds a sequence.\nTip: '
        f'broadcast the model weights and keep datasets as client data.')

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_value((), placements.SERVER)

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_server(value_type))
  def next_fn(state, value):
    empty_measurements = intrinsics.federated_value((), placements.SERVER)
    return measured_process.MeasuredProcessOutput(
        state, intrinsics.federated_broadcast(value), empty_measurements)

  return DistributionProcess(init_fn, next_fn)
