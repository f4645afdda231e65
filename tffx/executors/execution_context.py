"""`ExecutionContext`: runs computations called with Python values on executors.

    comp(python_arg)
      -> context_stack.get_context().invoke(comp, python_arg)
           count_clients + to_executor_value     (value_conversions)
           executor.run(block, arg_value, num_clients)
           to_python_value(result, result type)  (value_conversions)

The context is generic: it takes a factory of `executor_base.Executor`s, so
the reference, thread-pool and remote executors all share it. It is also a
context manager that makes itself the current context:

    with ExecutionContext(ReferenceExecutor, default_num_clients=3):
      comp(...)

Leaving the `with` block only uninstalls the context (it may be entered
again); `close()` releases the executor (threads, worker connections), and
a later `invoke` creates a new one from the factory.

This module does not choose an executor (see `tffx.backends`).
"""

import threading
from typing import Any, Callable

from tffx.computations import context_stack
from tffx.executors import errors
from tffx.executors import executor_base
from tffx.executors import value_conversions


class ExecutionContext(context_stack.Context):
  """Runs computations on an executor, converting Python values at the edges.

  The number of clients is the length of the client values in the argument
  (lists for `{T}@CLIENTS` parameters); a computation with no such argument
  runs with `default_num_clients` clients.

  Args:
    executor_factory: A callable of no arguments that returns an `Executor`;
      an executor class will do. It is called once, on the first `invoke`.
    default_num_clients: The number of clients when the argument does not
      say; a non-negative int.

  Raises:
    ClientCountError: if `default_num_clients` is negative.
  """

  def __init__(self, executor_factory: Callable[[], executor_base.Executor],
               default_num_clients: int = 0):
    if not callable(executor_factory):
      raise TypeError(f'Expected a callable that returns an Executor, found '
                      f'{executor_factory!r}.')
    if (not isinstance(default_num_clients, int) or
        isinstance(default_num_clients, bool) or default_num_clients < 0):
      raise errors.ClientCountError(
          f'Expected default_num_clients to be a non-negative int, found '
          f'{default_num_clients!r}.')
    self._executor_factory = executor_factory
    self._default_num_clients = default_num_clients
    self._executor = None
    self._lock = threading.Lock()
    self._entered = threading.local()

  @property
  def default_num_clients(self) -> int:
    return self._default_num_clients

  @property
  def executor(self) -> executor_base.Executor:
    """The executor, created on first use."""
    with self._lock:
      if self._executor is None:
        executor = self._executor_factory()
        if not isinstance(executor, executor_base.Executor):
          raise TypeError(f'Expected the executor factory to return an '
                          f'Executor, found {type(executor).__name__}.')
        self._executor = executor
      return self._executor

  def invoke(self, comp, arg: Any) -> Any:
    """Runs `comp` on the Python value `arg` and returns a Python value.

    Raises:
      ArgumentTypeError: if `arg` does not fit the parameter type (a
        `TypeError` naming both types).
      ClientCountError: if client values disagree on the number of clients.
    """
    type_signature = comp.type_signature
    parameter_type = type_signature.parameter
    num_clients = value_conversions.count_clients(arg, parameter_type)
    if num_clients is None:
      num_clients = self._default_num_clients
    arg_value = value_conversions.to_executor_value(arg, parameter_type,
                                                    num_clients)
    result = self.executor.run(comp.to_building_block(), arg_value,
                               num_clients)
    return value_conversions.to_python_value(result, type_signature.result)

  def close(self) -> None:
    """Closes the executor, if one was created; idempotent."""
    with self._lock:
      executor, self._executor = self._executor, None
    if executor is not None:
      executor.close()

  def __enter__(self) -> 'ExecutionContext':
    manager = context_stack.with_context(self)
    manager.__enter__()
    # A stack per thread, so the same context can be entered again, nested.
    if not hasattr(self._entered, 'managers'):
      self._entered.managers = []
    self._entered.managers.append(manager)
    return self

  def __exit__(self, exc_type, exc_value, traceback) -> None:
    manager = self._entered.managers.pop()
    manager.__exit__(exc_type, exc_value, traceback)
