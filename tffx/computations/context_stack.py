"""Execution contexts: what happens when a computation is called.

    comp(x)  ->  get_context().invoke(comp, x)

The context on top of a thread's stack decides: an execution context runs
the computation on an executor; a tracing context (inside
`federated_computation` or `tf_computation`) records the call instead.
Backends install a default execution context (`set_default_context`) and
users push others with `with_context(ctx)`. This module knows nothing about
executors; backends register a factory for the lazy default.
"""

import contextlib
import threading
from typing import Any, Callable, Iterator, Optional


class Context:
  """Interface of a context: `invoke(comp, arg)` runs or records a call."""

  def invoke(self, comp, arg: Any) -> Any:
    raise NotImplementedError


class _State(threading.local):

  def __init__(self):
    super().__init__()
    self.stack = []


_state = _State()
_default_context: Optional[Context] = None
_default_factory: Optional[Callable[[], Context]] = None
_lock = threading.Lock()


def set_default_context_factory(factory: Callable[[], Context]) -> None:
  """Sets how the default context is built the first time it is needed."""
  global _default_factory
  _default_factory = factory


def set_default_context(context: Optional[Context]) -> None:
  """Makes `context` the default for every thread (None: back to the factory)."""
  global _default_context
  if context is not None and not isinstance(context, Context):
    raise TypeError(f'Expected a Context, found {type(context).__name__}.')
  _default_context = context


def get_context() -> Context:
  """Returns the innermost context of this thread, or the default one."""
  global _default_context
  if _state.stack:
    return _state.stack[-1]
  if _default_context is None:
    with _lock:
      if _default_context is None:
        if _default_factory is None:
          raise RuntimeError(
              'No execution context is set. Import tffx (which installs the '
              'default), or call tffx.backends.reference.'
              'set_reference_execution_context().')
        _default_context = _default_factory()
  return _default_context


@contextlib.contextmanager
def with_context(context: Context) -> Iterator[Context]:
  """Makes `context` the current one in this thread inside the `with` block."""
  if not isinstance(context, Context):
    raise TypeError(f'Expected a Context, found {type(context).__name__}.')
  _state.stack.append(context)
  try:
    yield context
  finally:
    popped = _state.stack.pop()
    assert popped is context, 'Context stack corrupted.'
