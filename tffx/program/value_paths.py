"""Names the leaves of nested values by path, and rebuilds nests from them.

    flatten_with_paths(OrderedDict(client_work=OrderedDict(
        train=OrderedDict(loss=0.5, accuracy=0.9)), round=3))
    -> [('client_work/train/loss', 0.5),
        ('client_work/train/accuracy', 0.9),
        ('round', 3)]

Containers are those of `tffx.types.python_containers` (list, tuple, dict,
OrderedDict, namedtuple, attrs classes, dataclasses) and
`tffx.types.structure.Struct`. Named elements are named by their name
(`str(key)` for dict keys), unnamed ones by their index; a value that is
not a container is a leaf, whose path is '' when it is the whole value.
Leaves keep container order (dicts in insertion order, unlike `tf.nest`,
which sorts keys). Used by the program state manager (one array per path)
and by the release managers (one metric per path); this module reads and
writes nothing.
"""

import collections
from typing import Any, Callable, List, Mapping, Optional, Tuple

from tffx.types import python_containers
from tffx.types import structure

SEPARATOR = '/'


def _children(value: Any) -> Optional[List[Tuple[Optional[str], Any]]]:
  if isinstance(value, structure.Struct):
    return list(value.items())
  if python_containers.is_container(value):
    return python_containers.elements(value)
  return None


def _child_name(index: int, name: Any) -> str:
  return str(index) if name is None else str(name)


def _join(prefix: str, name: str) -> str:
  return f'{prefix}{SEPARATOR}{name}' if prefix else name


def flatten_with_paths(value: Any) -> List[Tuple[str, Any]]:
  """Returns `[(path, leaf), ...]` for the leaves of `value`, in order.

  Raises:
    ValueError: if two leaves have the same path (e.g. dict keys `1` and
      `'1'`, or a name that contains '/').
  """
  result = []

  def visit(prefix, node):
    children = _children(node)
    if children is None:
      result.append((prefix, node))
      return
    for index, (name, child) in enumerate(children):
      visit(_join(prefix, _child_name(index, name)), child)

  visit('', value)
  counts = collections.Counter(path for path, _ in result)
  repeated = sorted(path for path, n in counts.items() if n > 1)
  if repeated:
    raise ValueError(f'Expected every leaf to have its own path, found '
                     f'{repeated[:5]} more than once. Tip: names must not '
                     f'contain {SEPARATOR!r}.')
  return result


def map_with_paths(fn: Callable[[str, Any], Any], structure_value: Any) -> Any:
  """Returns `structure_value` with each leaf replaced by `fn(path, leaf)`.

  Containers are rebuilt with the same types and names.
  """

  def visit(prefix, node):
    if isinstance(node, structure.Struct):
      return structure.Struct([
          (name, visit(_join(prefix, _child_name(i, name)), child))
          for i, (name, child) in enumerate(node.items())
      ])
    children = _children(node)
    if children is None:
      return fn(prefix, node)
    return python_containers.build(type(node), [
        (name, visit(_join(prefix, _child_name(i, name)), child))
        for i, (name, child) in enumerate(children)
    ])

  return visit('', structure_value)


def pack_by_paths(structure_value: Any, leaves: Mapping[str, Any]) -> Any:
  """Returns `structure_value` with each leaf replaced by `leaves[path]`.

  Raises:
    KeyError: if a path of `structure_value` is not in `leaves` (callers
      compare the two sets of paths first, to report every difference).
  """
  return map_with_paths(lambda path, _: leaves[path], structure_value)
