"""The thread-pool executor's intrinsics: one handler per uri.

    handler(interpreter, arg, call) -> value

Two tables, as `thread_pool_executor` dispatches:

    CLIENT_HANDLERS   take arguments that may hold lazy client values
                      (`lazy_client_values`): producers (`federated_map`,
                      zip, eval, select) return new lazy values; aggregations
                      stream them into `aggregation_streams`
    HANDLERS          take computed values and work as in the reference
                      executor (placing, broadcasting, server work,
                      sequences)

The interpreter gives handlers `scheduler`, `num_clients` and
`stream(roots, fold, reduce_chunk)`. A function value may offer
`describe()` (its name, for messages) and `batched()` (a version run on
stacked members, see `batched_computation`). Errors raised by a client's
computation keep their class and say which intrinsic, computation and
client failed. This module does not evaluate building blocks.
"""

from typing import Any, Callable, NamedTuple

import numpy as np

from tffx.computations import intrinsic_defs
from tffx.executors import aggregation_streams
from tffx.executors import client_batches
from tffx.executors import errors
from tffx.executors import federated_value
from tffx.executors import lazy_client_values
from tffx.executors import value_arithmetic as arithmetic
from tffx.executors import value_conversions
from tffx.types import computation_types as ct
from tffx.types import structure

ClientBatch = client_batches.ClientBatch
FederatedValue = federated_value.FederatedValue
LazyClientValue = lazy_client_values.LazyClientValue


class Call(NamedTuple):
  """What an intrinsic handler knows besides its argument."""
  uri: str
  type_signature: ct.FunctionType
  num_clients: int


def _describe(fn: Any) -> str:
  """A short name for a function value, for messages."""
  describe = getattr(fn, 'describe', None)
  if describe is not None:
    return describe()
  return getattr(fn, '__name__', type(fn).__name__)


def _client_error(error: Exception, client: int, what: str) -> Exception:
  """`error` with the failing client and computation in its message.

  The error keeps its class, so callers catch what the reference executor
  raises; classes that cannot be built from a message get a note instead.
  """
  message = f'{what} failed for client {client}: {error}'
  try:
    wrapped = type(error)(message)
  except Exception:  # pylint: disable=broad-except
    wrapped = None
  if wrapped is None or str(wrapped) != message:
    error.add_note(message)
    return error
  return wrapped


def _for_client(fn: Callable, arg: Any, client: int, what: str) -> Any:
  try:
    return fn(arg)
  except Exception as e:  # pylint: disable=broad-except
    wrapped = _client_error(e, client, what)
    if wrapped is e:
      raise
    raise wrapped from e


# ---------------------------------------------------------------------------
# Intrinsics on client values: lazy producers and streaming aggregations.


def _args(fn_type: ct.FunctionType, *values) -> structure.Struct:
  """The struct argument of `fn_type`, named after its parameter's elements."""
  return structure.Struct(list(zip(fn_type.parameter.names(), values)))


def _at_server(call: Call, member: Any) -> FederatedValue:
  return FederatedValue(call.type_signature.result, [member])


def _federated_map(interpreter, arg, call: Call):
  fn, value = arg
  num_clients = lazy_client_values.num_clients_of(value)
  member_type = call.type_signature.result.member
  what = f'{call.uri}({_describe(fn)})'
  batched = vectorized = None
  if num_clients > 1 and hasattr(fn, 'batched'):
    batched = fn.batched()
  if num_clients > 1 and batched is None and hasattr(fn, 'vectorized'):
    vectorized = fn.vectorized()

  def compute(batches, start, stop):
    (batch,) = batches
    if vectorized is not None and batch.count > 1:
      stacked = vectorized(batch.members(),
                           interpreter.scheduler.current_device())
      if stacked is not None:  # None: the members do not stack.
        return ClientBatch(member_type, batch.count, stacked=stacked)
    if batched is not None and batch.count > 1:
      stacked = batch.stacked()
      if stacked is not None:
        try:
          return ClientBatch(member_type, batch.count,
                             stacked=batched(stacked))
        except Exception:  # pylint: disable=broad-except
          pass  # The per-client calls below raise the reference's error.
    return ClientBatch.of_members(member_type, [
        _for_client(fn, member, start + j, what)
        for j, member in enumerate(batch.members())
    ])

  result = LazyClientValue(call.type_signature.result, num_clients, [value],
                           compute)
  if vectorized is not None and (
      num_clients >= vectorized.min_clients_per_call):
    result.clients_per_call = vectorized.max_clients_per_call
  return result


class _Slot(NamedTuple):
  """Where the member of the `index`-th zipped client value goes."""
  index: int


def _federated_zip_at_clients(interpreter, arg, call: Call):
  sources = []

  def skeleton(value):
    if isinstance(value, (FederatedValue, LazyClientValue)):
      sources.append(value)
      return _Slot(len(sources) - 1)
    return structure.Struct([(n, skeleton(v)) for n, v in value.items()])

  shape = skeleton(arg)
  member_type = call.type_signature.result.member

  def pack(s, leaves):
    if isinstance(s, _Slot):
      return leaves[s.index]
    return structure.Struct([(n, pack(v, leaves)) for n, v in s.items()])

  def compute(batches, start, stop):
    if batches and all(b.is_stacked for b in batches):
      return ClientBatch(member_type, stop - start,
                         stacked=pack(shape, [b.stacked() for b in batches]))
    columns = [b.members() for b in batches]
    return ClientBatch.of_members(member_type, [
        pack(shape, [c[j] for c in columns]) for j in range(stop - start)
    ])

  return LazyClientValue(call.type_signature.result, interpreter.num_clients,
                         sources, compute)


def _federated_eval_at_clients(interpreter, fn, call: Call):
  member_type = call.type_signature.result.member
  what = f'{call.uri}({_describe(fn)})'

  def compute(batches, start, stop):
    del batches  # No inputs.
    return ClientBatch.of_members(member_type, [
        _for_client(fn, None, client, what) for client in range(start, stop)
    ])

  return LazyClientValue(call.type_signature.result, interpreter.num_clients,
                         [], compute)


def _federated_select(interpreter, arg, call: Call):
  client_keys, max_key, server_value, select_fn = arg
  max_key = max_key.members[0]
  server_member = server_value.members[0]
  select_type = call.type_signature.parameter[3]
  member_type = call.type_signature.result.member
  secure = call.uri == 'federated_secure_select'
  what = f'{call.uri}({_describe(select_fn)})'
  scheduler = interpreter.scheduler

  def compute(batches, start, stop):
    datasets = []
    for client, keys in enumerate(batches[0].members(), start):
      keys = np.asarray(keys)
      outside = (keys < 0) | (keys >= max_key)
      if secure and np.any(outside):
        raise errors.SecureBoundsError(
            f'{call.uri}: client {client} asks for key {keys[outside][0]}, '
            f'outside [0, {max_key}) (max_key={max_key}).')
      # Selecting slices of the server value is server work.
      with scheduler.device_scope(scheduler.server_device):
        elements = [
            _for_client(select_fn,
                        _args(select_type, server_member, np.asarray(k)),
                        client, what) for k in keys
        ]
      datasets.append(value_conversions.to_dataset(elements,
                                                   member_type.element))
    return ClientBatch.of_members(member_type, datasets)

  return LazyClientValue(call.type_signature.result,
                         lazy_client_values.num_clients_of(client_keys),
                         [client_keys], compute)


def _streamed(interpreter, value, stream, call: Call):
  interpreter.stream([value], lambda start, b: stream.add(b[0], start))
  return _at_server(call, stream.result())


def _federated_sum(interpreter, value, call: Call):
  stream = aggregation_streams.SumStream(call.type_signature.result.member,
                                         call.uri)
  return _streamed(interpreter, value, stream, call)


def _federated_mean(interpreter, value, call: Call):
  stream = aggregation_streams.MeanStream(
      call.type_signature.result.member, call.uri,
      lazy_client_values.num_clients_of(value))
  return _streamed(interpreter, value, stream, call)


def _extremum_handler(ufunc: np.ufunc):

  def handler(interpreter, value, call: Call):
    stream = aggregation_streams.ExtremumStream(
        call.type_signature.result.member, call.uri,
        lazy_client_values.num_clients_of(value), ufunc)
    return _streamed(interpreter, value, stream, call)

  return handler


def _federated_weighted_mean(interpreter, arg, call: Call):
  value, weight = arg
  stream = aggregation_streams.WeightedMeanStream(
      call.type_signature.result.member, call.uri,
      lazy_client_values.num_clients_of(value))
  interpreter.stream([value, weight],
                     lambda start, b: stream.add(b[0], b[1], start))
  return _at_server(call, stream.result())


def _federated_secure_sum(interpreter, arg, call: Call):
  value, max_input = arg
  member_type = call.type_signature.result.member
  bounds = arithmetic.bound_leaves(max_input, member_type)
  stream = aggregation_streams.SecureSumStream(
      member_type, call.uri, bounds, lambda leaf: f'max_input={bounds[leaf]}')
  return _streamed(interpreter, value, stream, call)


def _federated_secure_sum_bitwidth(interpreter, arg, call: Call):
  value, bitwidth = arg
  member_type = call.type_signature.result.member
  bitwidths = arithmetic.bound_leaves(bitwidth, member_type)
  # Python ints, so that 2**64 - 1 does not overflow.
  bounds = [2**int(b) - 1 for b in bitwidths]
  stream = aggregation_streams.SecureSumStream(
      member_type, call.uri, bounds, lambda leaf: f'bitwidth={bitwidths[leaf]}')
  return _streamed(interpreter, value, stream, call)


def _federated_aggregate(interpreter, arg, call: Call):
  value, zero, accumulate, merge, report = arg
  accumulate_type = call.type_signature.parameter[2]
  merge_type = call.type_signature.parameter[3]
  what = f'{call.uri}({_describe(accumulate)})'

  def accumulate_chunk(batches, start, stop):
    del stop  # The batch says how many clients it holds.
    accumulator = zero
    for client, member in enumerate(batches[0].members(), start):
      accumulator = _for_client(
          accumulate, _args(accumulate_type, accumulator, member), client,
          what)
    return accumulator

  merged = []

  def merge_chunk(start, accumulator):
    del start  # Chunks arrive in client order.
    if merged:
      accumulator = merge(_args(merge_type, merged.pop(), accumulator))
    merged.append(accumulator)

  interpreter.stream([value], merge_chunk, accumulate_chunk)
  return _at_server(call, report(merged[0] if merged else zero))


# ---------------------------------------------------------------------------
# Intrinsics on materialized values, as in the reference executor.


def _federated_value_at_clients(interpreter, arg, call: Call):
  del interpreter  # Unused.
  return FederatedValue(call.type_signature.result, [arg] * call.num_clients)


def _federated_value_at_server(interpreter, arg, call: Call):
  del interpreter  # Unused.
  return _at_server(call, arg)


def _federated_broadcast(interpreter, arg, call: Call):
  del interpreter  # Unused.
  return FederatedValue(call.type_signature.result,
                        [arg.members[0]] * call.num_clients)


def _federated_eval_at_server(interpreter, fn, call: Call):
  del interpreter  # Unused.
  return _at_server(call, fn(None))


def _federated_map_all_equal(interpreter, arg, call: Call):
  fn, value = arg
  scheduler = interpreter.scheduler
  # All members are the same value, so the function runs once.
  with scheduler.device_scope(scheduler.client_devices[0]):
    members = [fn(value.members[0])] if value.members else []
  return FederatedValue(call.type_signature.result,
                        members * len(value.members))


def _federated_apply(interpreter, arg, call: Call):
  del interpreter  # Unused.
  fn, value = arg
  return _at_server(call, fn(value.members[0]))


def _member(value: Any, index: int) -> Any:
  """Member `index` of every federated value in a struct nest."""
  if isinstance(value, FederatedValue):
    return value.members[index]
  return structure.Struct([(n, _member(v, index)) for n, v in value.items()])


def _federated_zip_at_server(interpreter, arg, call: Call):
  del interpreter  # Unused.
  return _at_server(call, _member(arg, 0))


def _sequence_map(interpreter, arg, call: Call):
  del interpreter  # Unused.
  fn, sequence = arg
  element_type = call.type_signature.parameter[1].element
  result_type = call.type_signature.result.element
  elements = value_conversions.dataset_elements(sequence, element_type)
  return value_conversions.to_dataset([fn(e) for e in elements], result_type)


def _sequence_reduce(interpreter, arg, call: Call):
  del interpreter  # Unused.
  sequence, zero, op = arg
  element_type = call.type_signature.parameter[0].element
  op_type = call.type_signature.parameter[2]
  accumulator = zero
  for element in value_conversions.dataset_elements(sequence, element_type):
    accumulator = op(_args(op_type, accumulator, element))
  return accumulator


def _sequence_sum(interpreter, sequence, call: Call):
  del interpreter  # Unused.
  element_type = call.type_signature.result
  stream = aggregation_streams.SumStream(element_type, call.uri)
  for element in value_conversions.dataset_elements(sequence, element_type):
    stream.add_one(element)
  return stream.result()


# Handlers whose argument may hold lazy client values.
CLIENT_HANDLERS = {
    'federated_aggregate': _federated_aggregate,
    'federated_eval_at_clients': _federated_eval_at_clients,
    'federated_map': _federated_map,
    'federated_max': _extremum_handler(np.maximum),
    'federated_mean': _federated_mean,
    'federated_min': _extremum_handler(np.minimum),
    'federated_secure_select': _federated_select,
    'federated_secure_sum': _federated_secure_sum,
    'federated_secure_sum_bitwidth': _federated_secure_sum_bitwidth,
    'federated_select': _federated_select,
    'federated_sum': _federated_sum,
    'federated_weighted_mean': _federated_weighted_mean,
    'federated_zip_at_clients': _federated_zip_at_clients,
}

# Handlers that get materialized values.
HANDLERS = {
    'federated_apply': _federated_apply,
    'federated_broadcast': _federated_broadcast,
    'federated_eval_at_server': _federated_eval_at_server,
    'federated_map_all_equal': _federated_map_all_equal,
    'federated_value_at_clients': _federated_value_at_clients,
    'federated_value_at_server': _federated_value_at_server,
    'federated_zip_at_server': _federated_zip_at_server,
    'sequence_map': _sequence_map,
    'sequence_reduce': _sequence_reduce,
    'sequence_sum': _sequence_sum,
}

assert not HANDLERS.keys() & CLIENT_HANDLERS.keys()
assert HANDLERS.keys() | CLIENT_HANDLERS.keys() == set(
    intrinsic_defs.BY_URI), (
        'The thread-pool executor must handle exactly the intrinsics of '
        'intrinsic_defs.')
