"""The reference executor: a deliberately simple interpreter of the tffx IR.

This executor is written for clarity, not speed. It is the golden standard:
every faster executor is tested against it on the same programs, so when the
two disagree, this one is presumed right. Keep it obvious.

    ReferenceExecutor().run(comp, arg, num_clients)
      `-- _Interpreter.eval(block, environment)     one loop over the blocks
            |-- Lambda, Block, Reference            an `environment` chain
            |-- Intrinsic                           _HANDLERS[uri], one
            |                                       function per intrinsic
            `-- TensorFlow                          tensorflow_runner.load

Values are the executor values of `federated_value` (numpy arrays, `Struct`s,
`tf.data.Dataset`s, `FederatedValue`s); a function value is a Python callable
of one argument (None for a function of no parameter). Clients are handled
one after the other in a Python loop, and aggregations accumulate the clients
in order: `federated_aggregate` folds every client into one accumulator with
`accumulate` and never calls `merge`, whose contract faster executors rely
on. Sums, means, minima and maxima work element-wise over structs, with the
numpy arithmetic all executors share (`value_arithmetic`).

What it does not do: run anything concurrently, stream values, resolve `Data`
blocks, or check each intermediate value against its type.
"""

import functools
from typing import Any, Callable, NamedTuple

import numpy as np

from tffx.computations import building_blocks as bb
from tffx.computations import intrinsic_defs
from tffx.executors import environment
from tffx.executors import errors
from tffx.executors import executor_base
from tffx.executors import federated_value
from tffx.executors import tensorflow_runner
from tffx.executors import value_arithmetic as arithmetic
from tffx.executors import value_conversions
from tffx.types import computation_types as ct
from tffx.types import structure

FederatedValue = federated_value.FederatedValue


class ReferenceExecutor(executor_base.Executor):
  """Evaluates computations by walking their building blocks.

  Args:
    load_tensorflow: Turns a `TensorFlow` block into a callable of one
      executor value (None for no parameter). Defaults to
      `tensorflow_runner.load`, which imports each graph once per process;
      tests may pass Python stand-ins.
  """

  def __init__(self,
               load_tensorflow: Callable[[bb.TensorFlow], Callable] = (
                   tensorflow_runner.load)):
    self._load_tensorflow = load_tensorflow

  def run(self, comp: bb.ComputationBuildingBlock, arg: Any,
          num_clients: int) -> Any:
    if num_clients < 0:
      raise errors.ClientCountError(
          f'Expected a non-negative number of clients, found {num_clients}.')
    interpreter = _Interpreter(self._load_tensorflow, num_clients)
    fn = interpreter.eval(comp, environment.Environment())
    return fn(interpreter.functions_to_callables(arg))


class _Call(NamedTuple):
  """What an intrinsic handler knows besides its argument."""
  uri: str
  type_signature: ct.FunctionType  # The intrinsic's concrete type.
  num_clients: int


class _Interpreter:
  """Evaluates building blocks for one `run`, with a fixed number of clients."""

  def __init__(self, load_tensorflow: Callable[[bb.TensorFlow], Callable],
               num_clients: int):
    self._load_tensorflow = load_tensorflow
    self._num_clients = num_clients

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
      return functools.partial(self._apply_lambda, block, env)
    if isinstance(block, bb.Block):
      for name, value in block.locals:
        env = env.bind(name, self.eval(value, env))
      return self.eval(block.result, env)
    if isinstance(block, bb.Intrinsic):
      handler = _HANDLERS.get(block.uri)
      if handler is None:
        raise ValueError(f'Unknown intrinsic uri {block.uri!r}; expected one '
                         f'of {sorted(_HANDLERS)}.')
      call = _Call(block.uri, block.type_signature, self._num_clients)
      return lambda arg: handler(arg, call)
    if isinstance(block, bb.TensorFlow):
      return self._load_tensorflow(block)
    if isinstance(block, bb.Literal):
      return block.value
    if isinstance(block, bb.Placement):
      return block.placement
    if isinstance(block, bb.Data):
      raise NotImplementedError(
          f'The reference executor cannot resolve data<{block.uri}>.')
    raise TypeError(f'Unknown building block {type(block).__name__}.')

  def _apply_lambda(self, block: bb.Lambda, env: environment.Environment,
                    arg: Any) -> Any:
    if block.parameter_name is not None:
      env = env.bind(block.parameter_name, arg)
    return self.eval(block.result, env)

  def functions_to_callables(self, value: Any) -> Any:
    """Evaluates the computations (building blocks) inside an argument."""
    if isinstance(value, bb.ComputationBuildingBlock):
      return self.eval(value, environment.Environment())
    if isinstance(value, structure.Struct):
      return structure.Struct([(n, self.functions_to_callables(v))
                               for n, v in value.items()])
    return value


# ---------------------------------------------------------------------------
# Helpers shared by the handlers.


def _args(fn_type: ct.FunctionType, *values) -> structure.Struct:
  """The struct argument of `fn_type`, named after its parameter's elements."""
  return structure.Struct(list(zip(fn_type.parameter.names(), values)))


def _at_server(call: _Call, member: Any) -> FederatedValue:
  return FederatedValue(call.type_signature.result, [member])


def _at_clients(call: _Call, members: list) -> FederatedValue:
  return FederatedValue(call.type_signature.result, members)


# ---------------------------------------------------------------------------
# Placing and applying.


def _federated_value_at_clients(arg, call: _Call):
  return _at_clients(call, [arg] * call.num_clients)


def _federated_value_at_server(arg, call: _Call):
  return _at_server(call, arg)


def _federated_broadcast(arg, call: _Call):
  return _at_clients(call, [arg.members[0]] * call.num_clients)


def _federated_eval_at_clients(fn, call: _Call):
  return _at_clients(call, [fn(None) for _ in range(call.num_clients)])


def _federated_eval_at_server(fn, call: _Call):
  return _at_server(call, fn(None))


def _federated_map(arg, call: _Call):
  fn, value = arg
  return _at_clients(call, [fn(m) for m in value.members])


def _federated_map_all_equal(arg, call: _Call):
  fn, value = arg
  # All members are the same value, so the function runs once.
  members = [fn(value.members[0])] if value.members else []
  return _at_clients(call, members * len(value.members))


def _federated_apply(arg, call: _Call):
  fn, value = arg
  return _at_server(call, fn(value.members[0]))


def _member(value: Any, index: int) -> Any:
  """Member `index` of every federated value in a struct nest."""
  if isinstance(value, FederatedValue):
    return value.members[index]
  return structure.Struct([(n, _member(v, index)) for n, v in value.items()])


def _federated_zip_at_clients(arg, call: _Call):
  return _at_clients(call, [_member(arg, i) for i in range(call.num_clients)])


def _federated_zip_at_server(arg, call: _Call):
  return _at_server(call, _member(arg, 0))


# ---------------------------------------------------------------------------
# Aggregations.


def _federated_aggregate(arg, call: _Call):
  value, zero, accumulate, merge, report = arg
  del merge  # Accumulating every client in order needs no merge.
  accumulate_type = call.type_signature.parameter[2]
  accumulator = zero
  for member in value.members:
    accumulator = accumulate(_args(accumulate_type, accumulator, member))
  return _at_server(call, report(accumulator))


def _federated_sum(arg, call: _Call):
  member_type = call.type_signature.result.member
  return _at_server(call, arithmetic.total(arg.members, member_type,
                                           call.uri))


def _federated_mean(arg, call: _Call):
  arithmetic.check_not_empty(len(arg.members), call.uri)
  member_type = call.type_signature.result.member
  arithmetic.check_dtypes(member_type, 'fc', 'floating-point', call.uri)
  total = arithmetic.total(arg.members, member_type, call.uri)
  count = len(arg.members)
  return _at_server(call, arithmetic.map_leaves(lambda t, x: x / count,
                                                member_type, total))


def _federated_weighted_mean(arg, call: _Call):
  value, weight = arg
  arithmetic.check_not_empty(len(value.members), call.uri)
  member_type = call.type_signature.result.member
  weights = arithmetic.check_scalar_weights(weight.members, call.uri)
  total_weight = functools.reduce(np.add, weights)
  if total_weight == 0:
    raise errors.AggregationError(
        f'{call.uri} has no result when the weights sum to zero; weights: '
        f'{[w.item() for w in weights]}.')

  def weighted_mean(t, *xs):
    weighted = [w.astype(t.dtype) * x for w, x in zip(weights, xs)]
    return functools.reduce(np.add, weighted) / total_weight.astype(t.dtype)

  return _at_server(call, arithmetic.map_leaves(weighted_mean, member_type,
                                                *value.members))


def _federated_min(arg, call: _Call):
  arithmetic.check_not_empty(len(arg.members), call.uri)
  member_type = call.type_signature.result.member
  return _at_server(call, arithmetic.minimum(arg.members, member_type))


def _federated_max(arg, call: _Call):
  arithmetic.check_not_empty(len(arg.members), call.uri)
  member_type = call.type_signature.result.member
  return _at_server(call, arithmetic.maximum(arg.members, member_type))


# ---------------------------------------------------------------------------
# Secure aggregations: the same results as the plain ones, but inputs outside
# the promised range are refused rather than silently wrapped or clipped.


def _secure_sum(members: tuple, member_type: ct.Type, upper_bounds: list,
                descriptions: list, call: _Call) -> Any:
  """The sum of integer client values, each checked against [0, bound]."""
  arithmetic.check_dtypes(member_type, 'iu', 'integer', call.uri)
  arithmetic.check_non_negative_bounds(upper_bounds, call.uri, descriptions)
  arithmetic.check_in_range(members, member_type, upper_bounds, call.uri,
                            descriptions)
  return arithmetic.total(members, member_type, call.uri)


def _federated_secure_sum(arg, call: _Call):
  value, max_input = arg
  member_type = call.type_signature.result.member
  bounds = arithmetic.bound_leaves(max_input, member_type)
  return _at_server(call, _secure_sum(
      value.members, member_type, bounds,
      [f'max_input={b}' for b in bounds], call))


def _federated_secure_sum_bitwidth(arg, call: _Call):
  value, bitwidth = arg
  member_type = call.type_signature.result.member
  bitwidths = arithmetic.bound_leaves(bitwidth, member_type)
  # Python ints, so that 2**64 - 1 does not overflow.
  bounds = [2**int(b) - 1 for b in bitwidths]
  return _at_server(call, _secure_sum(
      value.members, member_type, bounds,
      [f'bitwidth={b}' for b in bitwidths], call))


# ---------------------------------------------------------------------------
# Select.


def _federated_select(arg, call: _Call):
  client_keys, max_key, server_value, select_fn = arg
  max_key = max_key.members[0]
  select_type = call.type_signature.parameter[3]
  element_type = call.type_signature.result.member.element
  secure = call.uri == 'federated_secure_select'
  datasets = []
  for client, keys in enumerate(client_keys.members):
    keys = np.asarray(keys)
    if secure and np.any((keys < 0) | (keys >= max_key)):
      offending = keys[(keys < 0) | (keys >= max_key)][0]
      raise errors.SecureBoundsError(
          f'{call.uri}: client {client} asks for key {offending}, outside '
          f'[0, {max_key}) (max_key={max_key}).')
    elements = [
        select_fn(_args(select_type, server_value.members[0], np.asarray(k)))
        for k in keys
    ]
    datasets.append(value_conversions.to_dataset(elements, element_type))
  return _at_clients(call, datasets)


# ---------------------------------------------------------------------------
# Sequences.


def _sequence_map(arg, call: _Call):
  fn, sequence = arg
  element_type = call.type_signature.parameter[1].element
  result_type = call.type_signature.result.element
  elements = value_conversions.dataset_elements(sequence, element_type)
  return value_conversions.to_dataset([fn(e) for e in elements], result_type)


def _sequence_reduce(arg, call: _Call):
  sequence, zero, op = arg
  element_type = call.type_signature.parameter[0].element
  op_type = call.type_signature.parameter[2]
  accumulator = zero
  for element in value_conversions.dataset_elements(sequence, element_type):
    accumulator = op(_args(op_type, accumulator, element))
  return accumulator


def _sequence_sum(sequence, call: _Call):
  element_type = call.type_signature.result
  elements = value_conversions.dataset_elements(sequence, element_type)
  return arithmetic.total(elements, element_type, call.uri)


_HANDLERS = {
    'federated_aggregate': _federated_aggregate,
    'federated_apply': _federated_apply,
    'federated_broadcast': _federated_broadcast,
    'federated_eval_at_clients': _federated_eval_at_clients,
    'federated_eval_at_server': _federated_eval_at_server,
    'federated_map': _federated_map,
    'federated_map_all_equal': _federated_map_all_equal,
    'federated_max': _federated_max,
    'federated_mean': _federated_mean,
    'federated_min': _federated_min,
    'federated_secure_select': _federated_select,
    'federated_secure_sum': _federated_secure_sum,
    'federated_secure_sum_bitwidth': _federated_secure_sum_bitwidth,
    'federated_select': _federated_select,
    'federated_sum': _federated_sum,
    'federated_value_at_clients': _federated_value_at_clients,
    'federated_value_at_server': _federated_value_at_server,
    'federated_weighted_mean': _federated_weighted_mean,
    'federated_zip_at_clients': _federated_zip_at_clients,
    'federated_zip_at_server': _federated_zip_at_server,
    'sequence_map': _sequence_map,
    'sequence_reduce': _sequence_reduce,
    'sequence_sum': _sequence_sum,
}

assert set(_HANDLERS) == set(intrinsic_defs.BY_URI), (
    'The reference executor must handle exactly the intrinsics of '
    'intrinsic_defs.')
