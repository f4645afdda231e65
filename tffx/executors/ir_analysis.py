"""What an executor learns from a computation before running it, once.

    analysis = analyse(comp)     # one pass over the blocks, cached with comp
    analysis.local_uses(block)   # per local of a Block: references, or None
    analysis.parameter_uses(fn)  # references to a Lambda's parameter
    analysis.batched(tf_block)   # the element-wise batched block, or None

A use count is None when a reference sits inside a nested `Lambda` (which
may run any number of times). The analysis is cached with the root block
(a weak reference); blocks outside it (functions passed as arguments) have
unknown counts and no batched version. This module neither evaluates
blocks nor loads graphs.
"""

import threading
import weakref
from typing import Dict, List, Optional

from tffx.computations import building_blocks as bb
from tffx.executors import batched_computation


class Analysis:
  """The use counts and batched blocks of one computation (see module doc)."""

  def __init__(self, root: Optional[bb.ComputationBuildingBlock]):
    self._counts: Dict[tuple, Optional[int]] = {}
    self._batched: Dict[int, Optional[bb.TensorFlow]] = {}
    self._root = root  # Keeps the analysed blocks, hence their ids, alive.
    if root is not None:
      self._walk(root, {}, 0)

  def local_uses(self, block: bb.Block) -> List[Optional[int]]:
    return [self._counts.get((id(block), i)) for i in range(len(block.locals))]

  def parameter_uses(self, block: bb.Lambda) -> Optional[int]:
    return self._counts.get((id(block), 0))

  def batched(self, block: bb.TensorFlow) -> Optional[bb.TensorFlow]:
    return self._batched.get(id(block))

  def _walk(self, expr, scope: dict, depth: int) -> None:
    """Counts references; `scope` maps a name to (its slot, lambda depth)."""
    if isinstance(expr, bb.Reference):
      slot, bound_at = scope.get(expr.name, (None, 0))
      if slot is not None:
        count = self._counts[slot]
        self._counts[slot] = None if (count is None or
                                      depth > bound_at) else count + 1
    elif isinstance(expr, bb.Lambda):
      if expr.parameter_name is not None:
        self._counts[(id(expr), 0)] = 0
        scope = {**scope, expr.parameter_name: ((id(expr), 0), depth + 1)}
      self._walk(expr.result, scope, depth + 1)
    elif isinstance(expr, bb.Block):
      for i, (name, value) in enumerate(expr.locals):
        self._walk(value, scope, depth)
        self._counts[(id(expr), i)] = 0
        scope = {**scope, name: ((id(expr), i), depth)}
      self._walk(expr.result, scope, depth)
    elif isinstance(expr, bb.TensorFlow):
      self._batched[id(expr)] = batched_computation.to_batched(expr)
    else:
      for child in expr.children():
        self._walk(child, scope, depth)


NO_ANALYSIS = Analysis(None)
_lock = threading.Lock()
_analyses = weakref.WeakKeyDictionary()


def analyse(root: bb.ComputationBuildingBlock) -> Analysis:
  """The analysis of `root`, made on the first call and kept with it."""
  with _lock:
    analysis = _analyses.get(root)
  if analysis is None:
    analysis = Analysis(root)
    with _lock:
      _analyses[root] = analysis
  return analysis
