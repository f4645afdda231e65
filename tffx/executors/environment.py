"""The environment of an IR interpreter: the names bound where a block runs.

    Environment().bind('x', 1).bind('y', 2).lookup('x')  # 1

Each `bind` makes a new scope over its parent, so a closure keeps the
environment it was made in however the caller's grows. Every interpreter of
the IR (the reference and thread-pool executors, the remote controller) binds
`Lambda` parameters and `Block` locals in one. This module does not evaluate
blocks or hold anything but names and values.
"""

from typing import Any, Optional


class Environment:
  """A chain of bindings: each scope binds one name and defers to its parent."""

  __slots__ = ('_name', '_value', '_parent')

  def __init__(self, name: Optional[str] = None, value: Any = None,
               parent: Optional['Environment'] = None):
    self._name = name
    self._value = value
    self._parent = parent

  def bind(self, name: str, value: Any) -> 'Environment':
    return Environment(name, value, self)

  def lookup(self, name: str) -> Any:
    """The value of the innermost binding of `name`.

    Raises:
      NameError: if no scope binds `name`.
    """
    env = self
    while env is not None:
      if env._name == name:
        return env._value
      env = env._parent
    raise NameError(f'Reference to {name!r}, which no enclosing Lambda or '
                    f'Block binds.')
