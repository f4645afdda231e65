"""Splits one traced federated round into the stages of a MapReduce form.

A round `(<S@SERVER, {D}@CLIENTS> -> <S@SERVER, X@SERVER>)` is evaluated once
over abstract values: unplaced values stay expressions, placed values become
bindings of the stage that computes them.

    state --[server, before]--> broadcasts --[clients: data, broadcasts]-->
      client values --aggregations--> results --[server, after]--> <S, X>

Every placed value is a `Reference` to a binding of one stage: server values
computed from the state only (`server_before`), client values (`clients`), and
server values that depend on an aggregation (`server_after`). Calls of lambdas
are inlined; a function applied to members (`federated_map`'s `fn`) must be
closed over unplaced values only, and is kept whole.

This module only analyses; `map_reduce_builder` turns a `RoundSplit` into
form components. It raises `MapReduceFormCompilationError` for what a single
MapReduce round cannot express.
"""

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

from tffx.backends.mapreduce import errors
from tffx.computations import building_blocks as bb
from tffx.computations import federated_computation
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import type_analysis

# Names of the stage parameters; traced names never start with `_mr_`.
STATE = '_mr_state'
DATA = '_mr_data'

_Bindings = List[Tuple[str, bb.ComputationBuildingBlock]]


@dataclasses.dataclass(frozen=True)
class _Local:
  """An unplaced value: a closed expression."""
  expr: bb.ComputationBuildingBlock


@dataclasses.dataclass(frozen=True)
class _Placed:
  """A placed value: `member` is an expression of its stage."""
  placement: placements.PlacementLiteral
  member: bb.ComputationBuildingBlock
  all_equal: bool
  after_aggregation: bool = False


@dataclasses.dataclass(frozen=True)
class _Struct:
  """A struct holding placed values (a struct of unplaced ones is `_Local`)."""
  elements: Tuple[Tuple[Optional[str], Any], ...]
  type_signature: ct.StructType


@dataclasses.dataclass(frozen=True)
class _Closure:
  """A lambda over placed values, inlined where it is called."""
  function: bb.Lambda
  env: Dict[str, Any]


@dataclasses.dataclass(frozen=True)
class _IntrinsicFn:
  intrinsic: bb.Intrinsic


@dataclasses.dataclass(frozen=True)
class Aggregation:
  """One aggregation of client values.

  `kind` is an aggregation uri (`federated_aggregate`, `federated_sum`, ...).
  `value` is a clients-stage expression; `operands` are the closed unplaced
  arguments (zero, accumulate, merge, report for `federated_aggregate`, the
  bound for secure sums); `result` names the server value it produces.
  """
  kind: str
  value: bb.ComputationBuildingBlock
  operands: Tuple[bb.ComputationBuildingBlock, ...]
  result: bb.Reference


@dataclasses.dataclass(frozen=True)
class RoundSplit:
  """The stages of a round; see the module docstring."""
  state_type: ct.Type
  data_type: ct.Type
  server_before: _Bindings
  broadcasts: Tuple[Tuple[str, bb.ComputationBuildingBlock], ...]
  clients: _Bindings
  aggregations: Tuple[Aggregation, ...]
  server_after: _Bindings
  new_state: bb.ComputationBuildingBlock
  output: bb.ComputationBuildingBlock


def _has_federated(t: ct.Type) -> bool:
  return type_analysis.contains(t, lambda e: isinstance(e, ct.FederatedType))


def _fail(message: str):
  raise errors.MapReduceFormCompilationError(message)


def prune(bindings: _Bindings,
          result: bb.ComputationBuildingBlock) -> bb.ComputationBuildingBlock:
  """`Block(bindings, result)` without the bindings nothing uses."""
  needed = federated_computation.free_references(result)
  kept = []
  for name, value in reversed(bindings):
    if name in needed:
      kept.append((name, value))
      needed = (needed - {name}) | federated_computation.free_references(value)
  return bb.Block(list(reversed(kept)), result) if kept else result


def _struct_of(elements, like: ct.StructType) -> bb.Struct:
  return bb.Struct(list(elements), like.python_container)


class _Splitter:
  """Evaluates a round's IR over abstract values, collecting the stages."""

  def __init__(self):
    self._count = 0
    self.server_before: _Bindings = []
    self.server_after: _Bindings = []
    self.clients: _Bindings = []
    self.broadcasts: List[Tuple[str, bb.ComputationBuildingBlock]] = []
    self.aggregations: List[Aggregation] = []

  def _fresh(self) -> str:
    self._count += 1
    return f'_mr_{self._count}'

  def _server(self, member, after: bool) -> _Placed:
    name = self._fresh()
    (self.server_after if after else self.server_before).append((name, member))
    return _Placed(placements.SERVER, bb.Reference(name, member.type_signature),
                   True, after)

  def _at_clients(self, member, all_equal: bool) -> _Placed:
    name = self._fresh()
    self.clients.append((name, member))
    return _Placed(placements.CLIENTS,
                   bb.Reference(name, member.type_signature), all_equal)

  # --- evaluation -----------------------------------------------------------

  def evaluate(self, block, env):
    if isinstance(block, bb.Reference):
      return env[block.name]
    if isinstance(block, bb.Selection):
      source = self.evaluate(block.source, env)
      if isinstance(source, _Struct):
        return source.elements[block.index][1]
      if isinstance(source, _Local):
        return _Local(bb.Selection(source.expr, index=block.index))
      _fail(f'Cannot select element {block.index} of {source}.')
    if isinstance(block, bb.Struct):
      values = [(n, self.evaluate(v, env)) for n, v in block.items()]
      if all(isinstance(v, _Local) for _, v in values):
        return _Local(
            _struct_of([(n, v.expr) for n, v in values], block.type_signature))
      return _Struct(tuple(values), block.type_signature)
    if isinstance(block, bb.Lambda):
      return self._lambda(block, env)
    if isinstance(block, bb.Block):
      env = dict(env)
      for name, value in block.locals:
        env[name] = self.evaluate(value, env)
      return self.evaluate(block.result, env)
    if isinstance(block, bb.Call):
      return self._call(block, env)
    if isinstance(block, bb.Intrinsic):
      return _IntrinsicFn(block)
    return _Local(block)  # Data, Literal, Placement, TensorFlow

  def _lambda(self, block: bb.Lambda, env):
    free = federated_computation.free_references(block)
    if _has_federated(block.type_signature) or any(
            isinstance(env[n], (_Placed, _Struct)) for n in free):
      return _Closure(block, env)
    return _Local(self._close(block, env))

  def _close(self, block, env):
    """`block` with its free names bound to their (unplaced) values."""
    free = sorted(federated_computation.free_references(block))
    bindings = [(n, self.as_local(env[n], f'the value {n!r}')) for n in free]
    return bb.Block(bindings, block) if bindings else block

  def as_local(self, value, what: str) -> bb.ComputationBuildingBlock:
    if isinstance(value, _Local):
      return value.expr
    if isinstance(value, _Closure):
      return self._close(value.function, value.env)
    if isinstance(value, _IntrinsicFn):
      return value.intrinsic
    _fail(f'Expected {what} to be computed without federated values, found a '
          f'value that depends on placed values ({value}).')

  def _call(self, block: bb.Call, env):
    fn = self.evaluate(block.function, env)
    arg = None if block.argument is None else self.evaluate(block.argument, env)
    if isinstance(fn, _IntrinsicFn):
      return self._intrinsic(fn.intrinsic, arg)
    if isinstance(fn, _Closure):
      inner = dict(fn.env)
      if fn.function.parameter_name is not None:
        inner[fn.function.parameter_name] = arg
      return self.evaluate(fn.function.result, inner)
    call_arg = (None if arg is None else
                self.as_local(arg, 'a function argument'))
    return _Local(bb.Call(fn.expr, call_arg))

  # --- intrinsics -----------------------------------------------------------

  @staticmethod
  def elements(value, count: int) -> list:
    if isinstance(value, _Struct):
      return [v for _, v in value.elements]
    if isinstance(value, _Local):
      return [_Local(bb.Selection(value.expr, index=i)) for i in range(count)]
    _fail(f'Expected a struct of {count} arguments, found {value}.')

  def placed(self, value, placement, what: str) -> _Placed:
    if not (isinstance(value, _Placed) and value.placement is placement):
      _fail(f'Expected {what} placed at {placement}, found {value}.')
    return value

  def _intrinsic(self, intrinsic: bb.Intrinsic, arg):
    uri = intrinsic.uri
    result_type = intrinsic.type_signature.result
    if not _has_federated(intrinsic.type_signature):
      return _Local(bb.Call(intrinsic, self.as_local(arg, uri + "'s argument")))
    handler = _HANDLERS.get(uri)
    if handler is None:
      _fail(f'The intrinsic {uri} cannot be expressed in a MapReduce form; '
            f'supported: {", ".join(sorted(_HANDLERS))}.')
    return handler(self, arg, result_type)

  def _broadcast(self, arg, result_type):
    value = self.placed(arg, placements.SERVER, 'the broadcast value')
    if value.after_aggregation:
      _fail('The computation broadcasts a value computed from an aggregate of '
            'client values; a MapReduce form has one broadcast before one '
            'aggregation.')
    name = self._fresh()
    self.broadcasts.append((name, value.member))
    return _Placed(placements.CLIENTS,
                   bb.Reference(name, value.member.type_signature), True)

  def _map(self, arg, result_type):
    fn, value = self.elements(arg, 2)
    fn = self.as_local(fn, 'the mapped function')
    if not isinstance(value, _Placed):
      _fail(f'Expected a placed value to map over, found {value}.')
    member = bb.Call(fn, value.member)
    if value.placement is placements.SERVER:
      return self._server(member, value.after_aggregation)
    return self._at_clients(member, result_type.all_equal)

  def _value_at_server(self, arg, result_type):
    return self._server(self.as_local(arg, 'the placed value'), False)

  def _value_at_clients(self, arg, result_type):
    return self._at_clients(self.as_local(arg, 'the placed value'), True)

  def _eval_at_server(self, arg, result_type):
    return self._server(bb.Call(self.as_local(arg, 'the function')), False)

  def _eval_at_clients(self, arg, result_type):
    return self._at_clients(bb.Call(self.as_local(arg, 'the function')), False)

  def _zip(self, arg, result_type):
    after = []

    def member(value, t):
      if isinstance(value, _Placed):
        after.append(value.after_aggregation)
        return value.member
      if isinstance(value, _Local):
        return value.expr
      return _struct_of([(n, member(v, e)) for (n, v), e in zip(
          value.elements, t)], t)

    zipped = member(arg, result_type.member)
    if result_type.placement is placements.SERVER:
      return self._server(zipped, any(after))
    return self._at_clients(zipped, result_type.all_equal)

  def aggregate(self, kind: str, value, operands, result_type) -> _Placed:
    value = self.placed(value, placements.CLIENTS, f'the value of {kind}')
    result = bb.Reference(self._fresh(), result_type.member)
    self.aggregations.append(Aggregation(kind, value.member, tuple(operands),
                                         result))
    return _Placed(placements.SERVER, result, True, True)

  def _federated_aggregate(self, arg, result_type):
    value, *fns = self.elements(arg, 5)
    names = ('zero', 'accumulate', 'merge', 'report')
    operands = [self.as_local(f, n) for f, n in zip(fns, names)]
    return self.aggregate('federated_aggregate', value, operands, result_type)

  def _weighted_mean(self, arg, result_type):
    value, weight = self.elements(arg, 2)
    value = self.placed(value, placements.CLIENTS, 'the value of the mean')
    weight = self.placed(weight, placements.CLIENTS, 'the weight of the mean')
    pair = self._at_clients(bb.Struct([value.member, weight.member]), False)
    return self.aggregate('federated_weighted_mean', pair, (), result_type)

def _one_value(kind: str):
  """The handler of an aggregation intrinsic of one client value."""

  def handler(splitter, arg, result_type):
    return splitter.aggregate(kind, arg, (), result_type)

  return handler


def _secure(kind: str):
  """The handler of a secure sum: a client value and an unplaced bound."""

  def handler(splitter, arg, result_type):
    value, bound = splitter.elements(arg, 2)
    bound = splitter.as_local(bound, 'the bound')
    return splitter.aggregate(kind, value, (bound,), result_type)

  return handler


_HANDLERS = {
    'federated_broadcast': _Splitter._broadcast,
    'federated_map': _Splitter._map,
    'federated_map_all_equal': _Splitter._map,
    'federated_apply': _Splitter._map,
    'federated_value_at_server': _Splitter._value_at_server,
    'federated_value_at_clients': _Splitter._value_at_clients,
    'federated_eval_at_server': _Splitter._eval_at_server,
    'federated_eval_at_clients': _Splitter._eval_at_clients,
    'federated_zip_at_server': _Splitter._zip,
    'federated_zip_at_clients': _Splitter._zip,
    'federated_aggregate': _Splitter._federated_aggregate,
    'federated_sum': _one_value('federated_sum'),
    'federated_mean': _one_value('federated_mean'),
    'federated_min': _one_value('federated_min'),
    'federated_max': _one_value('federated_max'),
    'federated_weighted_mean': _Splitter._weighted_mean,
    'federated_secure_sum': _secure('federated_secure_sum'),
    'federated_secure_sum_bitwidth':
        _secure('federated_secure_sum_bitwidth'),
}


def check_round_type(type_signature: ct.FunctionType) -> None:
  """Raises TypeError unless the type is that of a round.

  A round is `(<S@SERVER,{D}@CLIENTS> -> <S@SERVER,X@SERVER>)`, where the new
  state is assignable to the state.
  """
  parameter, result = type_signature.parameter, type_signature.result

  def is_pair(t, first, second):
    return (isinstance(t, ct.StructType) and len(t) == 2 and
            isinstance(t[0], ct.FederatedType) and t[0].placement is first and
            isinstance(t[1], ct.FederatedType) and t[1].placement is second)

  if not is_pair(parameter, placements.SERVER, placements.CLIENTS) or (
      parameter[1].all_equal):
    raise TypeError(
        'Expected the computation to take two arguments, a server state and '
        'client data, of type <S@SERVER,{D}@CLIENTS>; found parameter type '
        f'{parameter}.')
  if not is_pair(result, placements.SERVER, placements.SERVER):
    raise TypeError(
        'Expected the computation to return two values, the updated state '
        f'and server output, of type <S@SERVER,X@SERVER>; found {result}.')
  if not parameter[0].member.is_assignable_from(result[0].member):
    raise TypeError(
        f'Expected the updated state type {result[0].member} to be assignable '
        f'to the state type {parameter[0].member}.')


def evaluate(lambda_block: bb.Lambda):
  """Evaluates a round of parameter `<S@SERVER,{D}@CLIENTS>` (or none).

  Returns the splitter, holding the stages, and the abstract result.
  """
  splitter = _Splitter()
  env = {}
  parameter = lambda_block.parameter_type
  if parameter is not None:
    state_type, data_type = parameter[0].member, parameter[1].member
    env[lambda_block.parameter_name] = _Struct(
        ((parameter.names()[0],
          _Placed(placements.SERVER, bb.Reference(STATE, state_type), True)),
         (parameter.names()[1],
          _Placed(placements.CLIENTS, bb.Reference(DATA, data_type), False))),
        parameter)
  return splitter, splitter.evaluate(lambda_block.result, env)


def evaluate_with_parameter(block: bb.ComputationBuildingBlock,
                            parameter_name: Optional[str],
                            parameter_type: Optional[ct.Type],
                            reference_name: str):
  """Evaluates `block` with `parameter_name` bound to a parameter value.

  The value is `Reference(reference_name, member)`, placed as
  `parameter_type` is (or unplaced). Returns the splitter, holding the
  stages, and the abstract result (see `placed_member`, `as_local`).
  """
  splitter = _Splitter()
  env = {}
  if parameter_name is not None:
    if isinstance(parameter_type, ct.FederatedType):
      env[parameter_name] = _Placed(
          parameter_type.placement,
          bb.Reference(reference_name, parameter_type.member),
          parameter_type.all_equal)
    else:
      env[parameter_name] = _Local(bb.Reference(reference_name,
                                                parameter_type))
  return splitter, splitter.evaluate(block, env)


def placed_member(splitter: _Splitter, value, placement, what: str):
  """The stage expression of `value`, which must be placed at `placement`."""
  return splitter.placed(value, placement, what).member


def split_round(lambda_block: bb.Lambda) -> RoundSplit:
  """Splits a round's `Lambda` into stages (see the module docstring).

  Raises:
    TypeError: if the type is not that of a round.
    MapReduceFormCompilationError: if the round does not fit one form.
  """
  check_round_type(lambda_block.type_signature)
  parameter = lambda_block.parameter_type
  splitter, result = evaluate(lambda_block)
  new_state, output = splitter.elements(result, 2)
  return RoundSplit(
      state_type=parameter[0].member,
      data_type=parameter[1].member,
      server_before=splitter.server_before,
      broadcasts=tuple(splitter.broadcasts),
      clients=splitter.clients,
      aggregations=tuple(splitter.aggregations),
      server_after=splitter.server_after,
      new_state=placed_member(splitter, new_state, placements.SERVER,
                              'the new state'),
      output=placed_member(splitter, output, placements.SERVER, 'the output'))
