"""The interpreter of the tffx IR: one eval loop for every executor.

    Interpreter(strategy, tensorflow).run(comp, arg)
      `-- eval(block, env)                   one loop over the blocks
            |-- Lambda, Block, Reference     an `environment` chain
            |-- Intrinsic                    HANDLERS[uri], one function per
            |                                intrinsic; client values are
            |                                the strategy's
            `-- TensorFlow                   tensorflow(block), a Function

What varies between executors is the `ClientStrategy` (`client_strategy`)
that holds and computes the values placed at CLIENTS: sequential
(reference), thread pool, remote. Server work, sequences and aggregations
(`aggregations`) are the same for all. An `ir_analysis.Analysis`, when
given, says how often each name is used (`strategy.bind`). This module does
not convert Python values, resolve `Data` blocks, or type-check values.
"""

from typing import Any, Callable, Optional

from tffx.computations import building_blocks as bb
from tffx.computations import intrinsic_defs
from tffx.executors import aggregations
from tffx.executors import client_strategy
from tffx.executors import environment
from tffx.executors import federated_value
from tffx.executors import ir_analysis
from tffx.executors import value_conversions
from tffx.types import structure

Call = client_strategy.Call
ClientStrategy = client_strategy.ClientStrategy
FederatedValue = federated_value.FederatedValue
Function = client_strategy.Function


class Interpreter:
  """Evaluates building blocks for one run.

  Args:
    strategy: Holds and computes the run's CLIENTS values.
    tensorflow: Makes the function value of a `TensorFlow` block.
    analysis: Use counts of the computation's names, or None (unknown).
  """

  def __init__(self, strategy: ClientStrategy,
               tensorflow: Callable[[bb.TensorFlow], Function],
               analysis: Optional[ir_analysis.Analysis] = None):
    self.strategy = strategy
    self._tensorflow = tensorflow
    self._analysis = analysis or ir_analysis.NO_ANALYSIS

  def run(self, comp: bb.ComputationBuildingBlock, arg: Any) -> Any:
    """`comp` applied to the executor value `arg`, as an executor value;
    the computations (blocks) in `arg` are evaluated first."""
    fn = self.eval(comp, environment.Environment())
    arg = structure.map_structure(
        lambda v: self.eval(v, environment.Environment()) if isinstance(
            v, bb.ComputationBuildingBlock) else v, arg)
    return self.strategy.leave(fn(self.strategy.enter(arg)))

  def eval(self, block: bb.ComputationBuildingBlock,
           env: environment.Environment) -> Any:
    if isinstance(block, bb.Reference):
      return env.lookup(block.name)
    if isinstance(block, bb.Selection):
      return self.eval(block.source, env)[block.index]
    if isinstance(block, bb.Struct):
      return structure.Struct([(n, self.eval(v, env))
                               for n, v in block.items()])
    if isinstance(block, bb.Call):
      fn = self.eval(block.function, env)
      arg = None if block.argument is None else self.eval(block.argument, env)
      return fn(arg)
    if isinstance(block, bb.Lambda):
      return Closure(self, block, env)
    if isinstance(block, bb.Block):
      uses = self._analysis.local_uses(block)
      for (name, value), count in zip(block.locals, uses):
        result = self.eval(value, env)
        self.strategy.bind(result, count)
        env = env.bind(name, result)
      return self.eval(block.result, env)
    if isinstance(block, bb.Intrinsic):
      if block.uri not in HANDLERS:
        raise ValueError(f'Unknown intrinsic uri {block.uri!r}; expected one '
                         f'of {sorted(HANDLERS)}.')
      return IntrinsicFunction(self.strategy, block)
    if isinstance(block, bb.TensorFlow):
      return self._tensorflow(block)
    if isinstance(block, bb.Literal):
      return block.value
    if isinstance(block, bb.Placement):
      return block.placement
    if isinstance(block, bb.Data):
      raise NotImplementedError(
          f'The executors cannot resolve data<{block.uri}>.')
    raise TypeError(f'Unknown building block {type(block).__name__}.')

  def apply_lambda(self, block: bb.Lambda, env: environment.Environment,
                   arg: Any) -> Any:
    if block.parameter_name is not None:
      self.strategy.bind(arg, self._analysis.parameter_uses(block))
      env = env.bind(block.parameter_name, arg)
    return self.eval(block.result, env)


class Closure(Function):
  """A `Lambda` with the environment it was evaluated in."""

  __slots__ = ('block', 'env', '_interpreter')

  def __init__(self, interpreter: Interpreter, block: bb.Lambda,
               env: environment.Environment):
    self.block, self.env, self._interpreter = block, env, interpreter

  @property
  def name(self) -> str:
    text = self.block.compact_representation()
    return text if len(text) <= 60 else text[:57] + '...'

  def __call__(self, arg: Any = None) -> Any:
    return self._interpreter.apply_lambda(self.block, self.env, arg)


class IntrinsicFunction(Function):
  """An intrinsic as a function value: its handler with the call's facts."""

  __slots__ = ('block', 'name', '_strategy', '_call')

  def __init__(self, strategy: ClientStrategy, block: bb.Intrinsic):
    self.block, self.name, self._strategy = block, block.uri, strategy
    self._call = Call(block.uri, block.type_signature, strategy.num_clients)

  def __call__(self, arg: Any = None) -> Any:
    return HANDLERS[self._call.uri](self._strategy, arg, self._call)


# ---------------------------------------------------------------------------
# The handlers: handler(strategy, arg, call) -> value.


def _at_server(call: Call, member: Any) -> FederatedValue:
  return FederatedValue(call.type_signature.result, [member])


def _aggregation(strategy: ClientStrategy, arg, call: Call):
  aggregation, values = aggregations.build(call, arg)
  accumulator = strategy.aggregate(aggregation, values, call)
  return _at_server(call, aggregation.finalize(accumulator))


def _federated_select(strategy: ClientStrategy, arg, call: Call):
  keys, max_key, server_value, select_fn = arg
  return strategy.select(keys, max_key.members[0], server_value.members[0],
                         select_fn, call)


# Sequences are not placed: their handlers do not use the strategy.
def _sequence_map(unused_strategy, arg, call: Call):
  fn, sequence = arg
  elements = value_conversions.dataset_elements(
      sequence, call.type_signature.parameter[1].element)
  return value_conversions.to_dataset([fn(e) for e in elements],
                                      call.type_signature.result.element)


def _sequence_reduce(unused_strategy, arg, call: Call):
  sequence, zero, op = arg
  element_type = call.type_signature.parameter[0].element
  op_type = call.type_signature.parameter[2]
  accumulator = zero
  for element in value_conversions.dataset_elements(sequence, element_type):
    accumulator = op(client_strategy.args(op_type, accumulator, element))
  return accumulator


def _sequence_sum(unused_strategy, sequence, call: Call):
  element_type = call.type_signature.result
  total = aggregations.Sum(element_type, call.uri)
  elements = value_conversions.dataset_elements(sequence, element_type)
  return total.finalize(total.accumulate(total.zero(), [
      aggregations.ClientBatch.of_members(element_type, list(elements))], 0))


HANDLERS = {
    'federated_apply': lambda s, arg, call: _at_server(
        call, arg[0](arg[1].members[0])),
    'federated_broadcast': lambda s, arg, call: s.place(arg.members[0], call),
    'federated_eval_at_clients': lambda s, fn, call: s.eval(fn, call),
    'federated_eval_at_server': lambda s, fn, call: _at_server(call, fn(None)),
    'federated_map': lambda s, arg, call: s.map(*arg, call),
    'federated_map_all_equal': lambda s, arg, call: s.map(*arg, call),
    'federated_secure_select': _federated_select,
    'federated_select': _federated_select,
    'federated_value_at_clients': lambda s, arg, call: s.place(arg, call),
    'federated_value_at_server': lambda s, arg, call: _at_server(call, arg),
    'federated_zip_at_clients': lambda s, arg, call: s.zip(arg, call),
    'federated_zip_at_server': lambda s, arg, call: _at_server(
        call, structure.map_structure(lambda v: v.members[0], arg)),
    'sequence_map': _sequence_map,
    'sequence_reduce': _sequence_reduce,
    'sequence_sum': _sequence_sum,
}
HANDLERS.update({uri: _aggregation for uri in intrinsic_defs.AGGREGATIONS})

assert set(HANDLERS) == set(intrinsic_defs.BY_URI), (
    'The interpreter must handle exactly the intrinsics of intrinsic_defs.')
