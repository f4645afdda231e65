"""Type checks for the client data of learning computations.

Learning processes train on client datasets: a value `{D*}@CLIENTS` whose
member is a sequence, or a (nested) struct of sequences, of tensors.
"""

from typing import Optional

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
