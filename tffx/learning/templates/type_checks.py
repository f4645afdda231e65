"""Type checks shared by the learning templates.

Learning processes train on client datasets: a value `{D*}@CLIENTS` whose
member is a sequence, or a (nested) struct of sequences, of tensors; this
module checks such types. It also holds the placement checks that more than
one learning template runs in the same order (`check_federated_process`).
The checks of a single template stay in its module.
"""

from typing import Optional

from tffx.computations import computation_impl
from tffx.templates import errors
from tffx.templates import template_checks
from tffx.types import computation_types
from tffx.types import placements


class ClientSequenceTypeError(TypeError):
  """A type is not a structure of sequences placed at CLIENTS."""


def is_structure_of_sequences(type_spec: computation_types.Type) -> bool:
  """Whether `type_spec` is a sequence, or a nested struct of only sequences.

  An empty struct holds no sequence and is refused.
  """
  if isinstance(type_spec, computation_types.SequenceType):
    return True
  if isinstance(type_spec, computation_types.StructType) and len(type_spec):
    return all(is_structure_of_sequences(t) for t in type_spec)
  return False


def check_is_client_placed_structure_of_sequences(
    type_spec: computation_types.Type,
    error_message: Optional[str] = None) -> None:
  """Checks that `type_spec` is `{D*}@CLIENTS` (or a struct of sequences there).

  Args:
    type_spec: A `tffx.Type`.
    error_message: The message of the error; a default names the type.

  Raises:
    ClientSequenceTypeError: if `type_spec` is not placed at CLIENTS or its
      member is not a structure of sequences.
  """
  if (isinstance(type_spec, computation_types.FederatedType) and
      type_spec.placement is placements.CLIENTS and
      is_structure_of_sequences(type_spec.member)):
    return
  if error_message is None:
    error_message = (
        f'Expected a federated type placed at CLIENTS whose member is a '
        f'sequence or a structure of sequences (client datasets), found '
        f'{type_spec}.')
  raise ClientSequenceTypeError(error_message)


def check_federated_process(initialize_fn: computation_impl.Computation,
                            next_fn: computation_impl.Computation,
                            num_args: int, signature: str) -> str:
  """Checks the placements a learning `MeasuredProcess` starts with.

  In this order: the result of `initialize_fn` is federated; every argument
  and output field of `next_fn` is federated; the state returned by
  `initialize_fn` is at SERVER; `next_fn` takes exactly `num_args`
  arguments.

  Args:
    initialize_fn: The template's `initialize_fn`, already checked to be a
      computation.
    next_fn: The template's `next_fn`, already checked to be a computation.
    num_args: The number of arguments `next_fn` must take.
    signature: The expected signature of `next_fn`, for the message.

  Returns:
    The line naming `next_fn` and its type, for the messages of the checks
    the template runs next.

  Raises:
    TemplateNotFederatedError: if the result of `initialize_fn`, or a part
      of `next_fn`, is unplaced.
    TemplatePlacementError: if the state is not placed at SERVER.
    TemplateNextFnNumArgsError: if `next_fn` does not take `num_args`
      arguments.
  """
  init_type = initialize_fn.type_signature
  next_type = next_fn.type_signature
  init_context = template_checks.describe('initialize_fn', init_type)
  template_checks.check_federated(init_type.result,
                                  'the result of `initialize_fn`',
                                  errors.TemplateNotFederatedError,
                                  init_context)
  template_checks.check_next_is_federated(next_type,
                                          errors.TemplateNotFederatedError)
  template_checks.check_placement(init_type.result, placements.SERVER,
                                  'the state returned by `initialize_fn`',
                                  errors.TemplatePlacementError, init_context)
  template_checks.check_num_args(next_type, num_args, False,
                                 errors.TemplateNextFnNumArgsError, signature)
  return template_checks.describe('next_fn', next_type)
