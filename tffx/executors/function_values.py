"""Function values of the interpreter, behind one typed interface.

    Function               name, __call__(arg), batched()
      Closure              a `Lambda` and its environment     (interpreter)
      IntrinsicFunction    an intrinsic bound to its handler  (interpreter)
      TensorFlowFunction   a loaded graph, and its batched version when the
                           computation's analysis found one  (here)

Every function a run makes or receives is a `Function`, so a client strategy
asks it what it can do (`batched()`) instead of probing attributes, and
names it in messages (`name`). `call_for_client` calls one for one client,
naming the client when it fails. This module evaluates no building block.
"""

import abc
from typing import Any, Callable, Optional

from tffx.computations import building_blocks as bb


class Function(abc.ABC):
  """A function value: its block and a name (a `Closure` also has `env`)."""

  block: bb.ComputationBuildingBlock
  name: str

  @abc.abstractmethod
  def __call__(self, arg: Any = None) -> Any:
    """Applies the function to an executor value (None: no argument)."""

  def batched(self) -> Optional[Callable[[Any], Any]]:
    """A version taking members stacked on a leading client axis, or None."""
    return None


class TensorFlowFunction(Function):
  """A `TensorFlow` block, loaded.

  Args:
    block: The block.
    fn: Runs the graph on an executor value.
    batched: Runs the batched graph (see `batched_computation`), or None.
  """

  __slots__ = ('block', 'name', '_fn', '_batched')

  def __init__(self, block: bb.TensorFlow, fn: Callable[[Any], Any],
               batched: Optional[Callable[[Any], Any]] = None):
    self.block = block
    self.name = block.name or 'tensorflow'
    self._fn = fn
    self._batched = batched

  def __call__(self, arg: Any = None) -> Any:
    return self._fn(arg)

  def batched(self) -> Optional[Callable[[Any], Any]]:
    return self._batched


def call_for_client(fn: Callable[[Any], Any], arg: Any, client: Any,
                    what: str, plural: str = '') -> Any:
  """`fn(arg)`; an error says which client and computation failed.

  `client` is its index (or, with plural='s', a description of several).
  The error keeps its class, so callers catch what they would without the
  client's name; a class that cannot be built from a message gets a note.
  """
  try:
    return fn(arg)
  except Exception as e:  # pylint: disable=broad-except
    message = f'{what} failed for client{plural} {client}: {e}'
    try:
      wrapped = type(e)(message)
    except Exception:  # pylint: disable=broad-except
      wrapped = None
    if wrapped is None or str(wrapped) != message:
      e.add_note(message)
      raise
    raise wrapped from e
