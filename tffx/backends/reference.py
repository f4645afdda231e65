"""The reference backend: execution contexts backed by the reference executor.

    with tffx.backends.reference.create_reference_execution_context(
        default_num_clients=3):
      comp(...)

    tffx.backends.reference.set_reference_execution_context()  # the default

The reference executor is slow and simple on purpose (see
`tffx.executors.reference_executor`); use it to check results, not to train.
"""

from tffx.computations import context_stack
from tffx.executors import execution_context
from tffx.executors import reference_executor


def create_reference_execution_context(
    default_num_clients: int = 0) -> execution_context.ExecutionContext:
  """Returns an execution context that runs on the reference executor.

  Args:
    default_num_clients: The number of clients of a computation whose
      argument has no client values to count.

  Raises:
    ClientCountError: if `default_num_clients` is negative.
  """
  return execution_context.ExecutionContext(
      reference_executor.ReferenceExecutor,
      default_num_clients=default_num_clients)


def set_reference_execution_context(default_num_clients: int = 0) -> None:
  """Makes a reference execution context the default for every thread.

  Args:
    default_num_clients: As in `create_reference_execution_context`.
  """
  context_stack.set_default_context(
      create_reference_execution_context(default_num_clients))
