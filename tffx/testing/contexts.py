"""Contexts for tests, as TFF's `tff.test`: run a test in a given context.

    @tff.test.with_context(tff.backends.reference.create_reference_context)
    def test_sum(self): ...

    @tff.test.with_contexts(('native', create_native), ('reference', create_ref))
    def test_sum(self): ...      # runs once per context, named test_sum_native

`create_runtime_error_context()` is a context that refuses every call;
`set_no_default_context()` makes it the default, so that a test fails when
it runs a computation outside any `with_context`.
"""

import functools
import inspect
from typing import Any, Callable

from absl.testing import parameterized

from tffx.computations import context_stack

_ContextFn = Callable[[], context_stack.Context]


class RuntimeErrorContext(context_stack.Context):
  """A context in which invoking a computation raises `RuntimeError`."""

  def invoke(self, comp, arg: Any) -> Any:
    raise RuntimeError(
        f'No context is installed to invoke the computation of type '
        f'{comp.type_signature}. Tip: run it inside tff.test.with_context '
        f'or set an execution context (tff.backends.native...).')


def create_runtime_error_context() -> context_stack.Context:
  """Returns a context that raises `RuntimeError` when a computation runs."""
  return RuntimeErrorContext()


def set_no_default_context() -> None:
  """Makes the runtime-error context the default context of every thread."""
  context_stack.set_default_context(create_runtime_error_context())


def with_context(context_fn: _ContextFn):
  """Returns a decorator that runs the test inside `context_fn()`'s context.

  A new context is built for each run of the test; coroutine tests are
  awaited inside the context.
  """

  def decorator(fn):
    if inspect.iscoroutinefunction(fn):

      @functools.wraps(fn)
      async def async_wrapper(*args, **kwargs):
        with context_stack.with_context(context_fn()):
          return await fn(*args, **kwargs)

      return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
      with context_stack.with_context(context_fn()):
        return fn(*args, **kwargs)

    return wrapper

  return decorator


def with_contexts(*named_contexts):
  """Returns a decorator that runs the test once in each named context.

  Args:
    *named_contexts: `(name, context_fn)` tuples or
      `{'testcase_name': name, 'context_fn': context_fn}` dicts, as
      `parameterized.named_parameters` takes them (or one iterable of them).
      The test class must be a `parameterized.TestCase`.
  """

  def decorator(fn):

    @parameterized.named_parameters(*named_contexts)
    @functools.wraps(fn)
    def run_in_context(self, context_fn, *args, **kwargs):
      return with_context(context_fn)(fn)(self, *args, **kwargs)

    return run_in_context

  return decorator
