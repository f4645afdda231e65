"""`Computation`: a typed, serializable function that runs in a context.

A `ConcreteComputation` wraps a function-typed building block (a `Lambda`
from `federated_computation` or a `TensorFlow` block from `tf_computation`).
Calling it packs the Python arguments into one value and hands it to the
current context (`context_stack.get_context().invoke(comp, arg)`).
"""

from typing import Any, Optional

from tffx.computations import building_blocks
from tffx.computations import context_stack
from tffx.types import computation_types
from tffx.types import structure
from tffx.types import typed_object


class Computation(typed_object.TypedObject):
  """Interface of all computations (`tffx.Computation`)."""

  @property
  def type_signature(self) -> computation_types.FunctionType:
    raise NotImplementedError

  def __call__(self, *args, **kwargs):
    raise NotImplementedError


class ConcreteComputation(Computation):
  """A computation with a fixed type signature, backed by a building block."""

  def __init__(self, building_block: building_blocks.ComputationBuildingBlock,
               name: Optional[str] = None):
    if not isinstance(building_block,
                      building_blocks.ComputationBuildingBlock):
      raise TypeError(f'Expected a building block, found '
                      f'{type(building_block).__name__}.')
    if not isinstance(building_block.type_signature,
                      computation_types.FunctionType):
      raise TypeError(f'A computation has a function type, found '
                      f'{building_block.type_signature}.')
    self._building_block = building_block
    self._name = name

  @property
  def type_signature(self) -> computation_types.FunctionType:
    return self._building_block.type_signature

  @property
  def name(self) -> Optional[str]:
    return self._name

  def to_building_block(self) -> building_blocks.ComputationBuildingBlock:
    return self._building_block

  def __call__(self, *args, **kwargs):
    arg = pack_args(self.type_signature.parameter, args, kwargs, self._name)
    return context_stack.get_context().invoke(self, arg)

  def __str__(self) -> str:
    return self._building_block.compact_representation()

  def __repr__(self) -> str:
    name = f' {self._name}' if self._name else ''
    return f'<ConcreteComputation{name}: {self.type_signature}>'


def pack_args(parameter_type: Optional[computation_types.Type], args: tuple,
              kwargs: dict, name: Optional[str] = None) -> Any:
  """Packs call arguments into the single value a computation takes.

  One positional argument is the value itself. Several arguments, or keyword
  arguments, become a `Struct` named after the parameter's struct elements.

  Raises:
    TypeError: if the arguments do not fit the parameter.
  """
  what = f'Computation {name}' if name else 'The computation'
  if parameter_type is None:
    if args or kwargs:
      raise TypeError(f'{what} takes no arguments; given '
                      f'{len(args) + len(kwargs)}.')
    return None
  if len(args) == 1 and not kwargs:
    return args[0]
  if not args and not kwargs:
    raise TypeError(f'{what} expects an argument of type {parameter_type}; '
                    f'none was given.')
  if not isinstance(parameter_type, computation_types.StructType):
    raise TypeError(
        f'{what} expects one argument of type {parameter_type}; given '
        f'{len(args)} positional and {len(kwargs)} keyword arguments.')
  names = parameter_type.names()
  if len(args) + len(kwargs) != len(names):
    raise TypeError(
        f'{what} expects {len(names)} arguments ({parameter_type}); given '
        f'{len(args) + len(kwargs)}.')
  values = list(args) + [None] * (len(names) - len(args))
  for key, value in kwargs.items():
    if key not in names:
      raise TypeError(f'{what} has no parameter named {key!r}; parameter '
                      f'type is {parameter_type}.')
    index = names.index(key)
    if index < len(args):
      raise TypeError(f'{what} got argument {key!r} twice.')
    values[index] = value
  return structure.Struct(list(zip(names, values)))
