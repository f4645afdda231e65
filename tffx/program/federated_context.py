"""`FederatedContext`: the context a federated program runs its computations in.

    check_in_federated_context()   ValueError unless the current context is
                                   a FederatedContext
    contains_only_server_placed_data(type)

A federated program runs in a federated context (e.g.
`NativeFederatedContext`), whose computations take and return values
placed at the server only: client data stays on the platform, reached
through data sources. As TensorFlow Federated's
`tff.program.FederatedContext` and helpers.
"""

import abc
from typing import Any

from tffx.computations import context_stack
from tffx.types import computation_types
from tffx.types import placements


class FederatedContext(context_stack.Context, abc.ABC):
  """A context for federated programs (an interface)."""

  @abc.abstractmethod
  def invoke(self, comp, arg: Any) -> Any:
    """Runs `comp` on `arg`; returns the result (value references)."""


def contains_only_server_placed_data(
    type_signature: computation_types.Type) -> bool:
  """Returns whether `type_signature` has only server-placed or unplaced data.

  Data is tensors and sequences, in structs or placed at `SERVER`;
  functions, placements, abstract types and anything placed at `CLIENTS`
  are not.
  """
  if isinstance(type_signature, computation_types.StructType):
    return all(contains_only_server_placed_data(t) for t in type_signature)
  if isinstance(type_signature, computation_types.FederatedType):
    return (type_signature.placement is placements.SERVER and
            contains_only_server_placed_data(type_signature.member))
  return isinstance(type_signature, (computation_types.TensorType,
                                     computation_types.SequenceType))


def check_in_federated_context() -> None:
  """Raises `ValueError` unless the current context is a `FederatedContext`."""
  context = context_stack.get_context()
  if not isinstance(context, FederatedContext):
    raise ValueError(f'Expected the current context to be a '
                     f'`tffx.program.FederatedContext`, found '
                     f'{type(context).__name__}.')
