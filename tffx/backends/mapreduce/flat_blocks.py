"""A lambda's body as one flat list of uniquely named locals.

    (arg -> let a = f(arg), b = (x -> let c = g(x) in c)(a) in b)
        ==>  locals [_fb_1 = f(arg), _fb_2 = a', _fb_3 = g(_fb_2)],
             result _fb_3

Blocks and calls of lambdas (what tracing leaves where one federated
computation calls another) are inlined, every intrinsic call is bound to a
local of its own, every local gets a fresh name (`_fb_<n>`), and
references are renamed with scoping respected. Lambdas
that are not called (functions passed to intrinsics) are kept whole.

Structs are not bound: a local or argument that is a struct is substituted
where it is used (its elements bound first where they compute something),
and a selection from a struct is the selected element:

    let s = <a=f(x), b=g(x)> in s.a   ==>  locals [_fb_1 = f(x),
                                                   _fb_2 = g(x)], result _fb_1

So a local refers exactly to the values it uses, not to a whole struct
that also holds others (a `MeasuredProcessOutput`'s `result` does not
depend on its `measurements`). The result is what compilers that split a
computation at its aggregations (`mergeable_comp_compiler`) need: each
intrinsic call bound to one local of one scope, with exact dependencies.
This module only rewrites IR.
"""

import itertools
from typing import Dict, List, Tuple

from tffx.computations import building_blocks as bb
from tffx.computations import federated_computation

Locals = List[Tuple[str, bb.ComputationBuildingBlock]]

PREFIX = '_fb_'


# What a renamed reference stands for: a local, or a struct of locals.
_Names = Dict[str, bb.ComputationBuildingBlock]


def _select(source: bb.ComputationBuildingBlock,
            index: int) -> bb.ComputationBuildingBlock:
  """`source[index]`, the element itself when `source` is a struct."""
  if isinstance(source, bb.Struct):
    return source[index]
  return bb.Selection(source, index=index)


def _is_alias(block: bb.ComputationBuildingBlock) -> bool:
  """Whether `block` only names locals (references, selections, structs).

  The parameter is not a local: a reference to it is bound, so substituted
  values never name it inside a lambda whose parameter shadows it.
  """
  if isinstance(block, bb.Reference):
    return block.name.startswith(PREFIX)
  if isinstance(block, bb.Selection):
    return _is_alias(block.source)
  if isinstance(block, bb.Struct):
    return all(_is_alias(v) for _, v in block.items())
  return False


def _rename(block: bb.ComputationBuildingBlock,
            names: _Names) -> bb.ComputationBuildingBlock:
  """`block` with free references replaced by `names` (scopes respected)."""
  if not names or not (federated_computation.free_references(block) &
                       set(names)):
    return block
  if isinstance(block, bb.Reference):
    return names[block.name]
  if isinstance(block, bb.Selection):
    return _select(_rename(block.source, names), block.index)
  if isinstance(block, bb.Struct):
    return bb.Struct([(n, _rename(v, names)) for n, v in block.items()],
                     block.type_signature.python_container)
  if isinstance(block, bb.Call):
    argument = None if block.argument is None else _rename(
        block.argument, names)
    return bb.Call(_rename(block.function, names), argument)
  if isinstance(block, bb.Lambda):
    inner = {k: v for k, v in names.items() if k != block.parameter_name}
    return bb.Lambda(block.parameter_name, block.parameter_type,
                     _rename(block.result, inner))
  if isinstance(block, bb.Block):
    inner, local_symbols = dict(names), []
    for name, value in block.locals:
      local_symbols.append((name, _rename(value, inner)))
      inner.pop(name, None)
    return bb.Block(local_symbols, _rename(block.result, inner))
  return block


class _Flattener:
  """Collects the locals of one scope; see the module docstring."""

  def __init__(self):
    self._counter = itertools.count(1)
    self.locals: Locals = []

  def _bind(self, value: bb.ComputationBuildingBlock
           ) -> bb.ComputationBuildingBlock:
    """A local for `value`, or `value` itself if it only names values.

    A struct becomes a struct of its elements' bindings.
    """
    if _is_alias(value):
      return value
    if isinstance(value, bb.Struct):
      return bb.Struct([(n, self._bind(v)) for n, v in value.items()],
                       value.type_signature.python_container)
    name = f'{PREFIX}{next(self._counter)}'
    self.locals.append((name, value))
    return bb.Reference(name, value.type_signature)

  def flatten(self, block: bb.ComputationBuildingBlock,
              names: _Names) -> bb.ComputationBuildingBlock:
    """`block` as an expression over the collected locals."""
    if isinstance(block, bb.Block):
      names = dict(names)
      for name, value in block.locals:
        names[name] = self._bind(self.flatten(value, names))
      return self.flatten(block.result, names)
    if isinstance(block, bb.Call) and isinstance(block.function, bb.Lambda):
      function = block.function
      names = dict(names)
      if function.parameter_name is not None:
        argument = self.flatten(block.argument, names)
        names[function.parameter_name] = self._bind(argument)
      return self.flatten(function.result, names)
    if isinstance(block, bb.Call):
      argument = None if block.argument is None else self.flatten(
          block.argument, names)
      call = bb.Call(_rename(block.function, names), argument)
      # Every intrinsic call gets a local of its own.
      return (self._bind(call) if isinstance(block.function, bb.Intrinsic)
              else call)
    if isinstance(block, bb.Struct):
      return bb.Struct([(n, self.flatten(v, names)) for n, v in block.items()],
                       block.type_signature.python_container)
    if isinstance(block, bb.Selection):
      return _select(self.flatten(block.source, names), block.index)
    return _rename(block, names)


def flatten_lambda(comp: bb.Lambda) -> Tuple[Locals, bb.ComputationBuildingBlock]:
  """`(locals, result)` of the body of `comp` (see the module docstring).

  The parameter keeps its name; locals are named `_fb_<n>` in order.
  """
  flattener = _Flattener()
  result = flattener.flatten(comp.result, {})
  return flattener.locals, result
