"""`Executor`: the interface every executor implements.

An executor evaluates a function-typed building block on an argument that is
already an executor value, for a given number of clients:

    ExecutionContext.invoke(comp, python_arg)
        |  value_conversions: Python -> executor value, count clients
        v
    executor.run(comp_block, arg_value, num_clients) -> result value
        |  value_conversions: executor value -> Python
        v
    Python result

Executor values are described in `federated_value` (numpy arrays, `Struct`s,
`tf.data.Dataset`s, `FederatedValue`s). The execution context does the
conversions at the edges, so an executor never sees Python containers and
every executor (reference, thread pool, remote) plugs into the same context.

This module declares the interface and the check of `num_clients` that
every executor makes.
"""

from typing import Any

from tffx.computations import building_blocks
from tffx.executors import errors


class Executor:
  """Evaluates computations on executor values.

  Subclasses implement `run`; `close` releases resources (threads,
  connections) and is a no-op by default.
  """

  def run(self, comp: building_blocks.ComputationBuildingBlock, arg: Any,
          num_clients: int) -> Any:
    """Evaluates `comp` on `arg` with `num_clients` clients.

    Args:
      comp: A building block of function type: a `Lambda`, a `TensorFlow`
        block, or any block that evaluates to a function.
      arg: The argument as an executor value, matching the parameter type of
        `comp`; None when `comp` takes no parameter. Values placed at CLIENTS
        have `num_clients` members.
      num_clients: The number of clients, used by intrinsics that create
        client values (`federated_broadcast`, `federated_value_at_clients`,
        `federated_eval_at_clients`, ...). Zero is allowed.

    Returns:
      The result as an executor value of `comp`'s result type.
    """
    raise NotImplementedError

  def close(self) -> None:
    """Releases the executor's resources; `run` may not be called afterwards."""


def check_num_clients(num_clients: int) -> None:
  """Refuses a negative number of clients (ClientCountError)."""
  if num_clients < 0:
    raise errors.ClientCountError(
        f'Expected a non-negative number of clients, found {num_clients}.')
