"""The federated intrinsics as user functions: `federated_sum`, ...

Inside a `tffx.federated_computation`, each function checks the types of its
arguments, then records a Call of an `Intrinsic` building block whose type is
the table's signature (`intrinsic_defs`) with its abstract types bound:

    federated_sum(x)        x: {float32}@CLIENTS
      ->  fc0 = federated_sum(arg)        ({float32}@CLIENTS -> float32@SERVER)

As in TFF, a struct of federated values at one placement is zipped where a
federated value is expected, and a polymorphic computation passed as a
function is instantiated at the type the intrinsic needs. A wrong argument
raises `IntrinsicTypeError` (`PlacementError` when only its placement is
wrong) naming what was expected and what was found; calling an intrinsic
outside a federated computation raises `FederatedContextError`.

This module does not evaluate anything; executors implement the uris.
"""

from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from tffx.computations import building_blocks
from tffx.computations import errors
from tffx.computations import intrinsic_defs
from tffx.computations import value_impl
from tffx.types import computation_types as ct
from tffx.types import errors as type_errors
from tffx.types import placements

_INT32 = ct.TensorType(np.int32)
_NUMERIC = 'iufc'
_ORDERED = 'iuf'
_INTEGER = 'iu'
_FLOATING = 'f'

# ---------------------------------------------------------------------------
# Argument checks.


def _fail(error: type, name: str, expected: str, found, tip: str = ''):
  message = f'{name} expects {expected}; found {found}.'
  raise error(f'{message} Tip: {tip}' if tip else message)


def _leaves(t: ct.Type) -> List[ct.Type]:
  """The non-struct types inside `t`, depth-first."""
  if isinstance(t, ct.StructType):
    return [leaf for e in t for leaf in _leaves(e)]
  return [t]


def _kind(dtype: np.dtype) -> str:
  return 'f' if dtype.name == 'bfloat16' else dtype.kind


def _tensors_of_kind(t: ct.Type, kinds: str) -> bool:
  """Whether every leaf of `t` is a tensor with a dtype of one of `kinds`."""
  return all(
      isinstance(leaf, ct.TensorType) and _kind(leaf.dtype) in kinds
      for leaf in _leaves(t))


def _contains(t: ct.Type, classes: tuple) -> bool:
  return isinstance(t, classes) or any(
      _contains(c, classes) for c in t.children())


_EXAMPLES = {
    placements.CLIENTS: '{T}@CLIENTS',
    placements.SERVER: 'T@SERVER',
    None: '{T}@CLIENTS, T@CLIENTS or T@SERVER',
}


def _placement_tip(found: ct.Type, wanted) -> str:
  if not isinstance(found, ct.FederatedType):
    where = 'tffx.SERVER' if wanted is placements.SERVER else 'tffx.CLIENTS'
    return f'place a value with tffx.federated_value(value, {where}).'
  if wanted is placements.CLIENTS and found.placement is placements.SERVER:
    return 'send a server value to the clients with tffx.federated_broadcast.'
  if wanted is placements.SERVER and found.placement is placements.CLIENTS:
    return 'aggregate client values first, e.g. with tffx.federated_sum.'
  return ''


def _federated(name: str, label: str, value, placement=None,
               example: Optional[str] = None) -> value_impl.Value:
  """`value` as a federated value (zipping a struct) at `placement` if given."""
  value = value_impl.to_value(value)
  if isinstance(value.type_signature, ct.StructType):
    zipped = _zip(name, value, strict=False)
    if zipped is not None:
      value = zipped
  t = value.type_signature
  if not isinstance(t, ct.FederatedType) or (placement is not None and
                                             t.placement is not placement):
    where = f'placed at {placement or "CLIENTS or SERVER"}'
    _fail(errors.PlacementError, name,
          f'{label} {where} such as {example or _EXAMPLES[placement]}', t,
          _placement_tip(t, placement))
  return value


def _unplaced(name: str, label: str, value,
              type_hint: Optional[ct.Type] = None) -> value_impl.Value:
  """`value` as a value of tensors, structs and sequences only."""
  value = value_impl.to_value(value, type_hint)
  t = value.type_signature
  expected = f'an unplaced {label} such as int32 or <a=float32,b=int32[2]>'
  if _contains(t, (ct.FederatedType,)):
    _fail(errors.PlacementError, name, expected, t)
  if _contains(t, (ct.FunctionType, ct.PlacementType)):
    _fail(errors.IntrinsicTypeError, name, expected, t)
  return value


def _function(name: str, label: str, fn, parameter_hint: Optional[ct.Type],
              example: str) -> value_impl.Value:
  """`fn` as a function-typed value, instantiated at `parameter_hint`.

  The function must take an argument unless `parameter_hint` is None.
  """
  fn = value_impl.to_value(fn, parameter_type_hint=parameter_hint)
  t = fn.type_signature
  if not isinstance(t, ct.FunctionType) or (t.parameter is None) != (
      parameter_hint is None):
    _fail(errors.IntrinsicTypeError, name,
          f'{label} to be a function such as {example}', t)
  return fn


def _placement(name: str, placement) -> placements.PlacementLiteral:
  if isinstance(placement, value_impl.Value) and isinstance(
      placement.comp, building_blocks.Placement):
    placement = placement.comp.placement
  if not isinstance(placement, placements.PlacementLiteral):
    _fail(errors.IntrinsicTypeError, name,
          'a placement, tffx.CLIENTS or tffx.SERVER', repr(placement))
  return placement


def _checked_call(name: str, uri: str, bindings: dict,
                  args: Sequence[Tuple[str, value_impl.Value]]
                 ) -> building_blocks.Call:
  """The Call of `uri` on `args`, after checking each against the signature."""
  try:
    signature = intrinsic_defs.specialize(uri, bindings)
  except type_errors.InvalidTypeError as e:
    raise errors.IntrinsicTypeError(
        f'{name} cannot type its result for these arguments: {e}') from None
  expected = [signature.parameter] if len(args) == 1 else list(
      signature.parameter)
  for (label, value), t in zip(args, expected):
    if not t.is_assignable_from(value.type_signature):
      _fail(errors.IntrinsicTypeError, name, f'{label} of type {t}',
            value.type_signature)
  return value_impl.intrinsic_call(uri, bindings, [v for _, v in args])


def _call(name: str, uri: str, bindings: dict,
          args: Sequence[Tuple[str, value_impl.Value]]) -> value_impl.Value:
  block = _checked_call(name, uri, bindings, args)
  return value_impl.require_context(name).bind(block)


def _map_members(name: str, value: value_impl.Value,
                 body: Callable[[value_impl.Value], building_blocks.Call]
                ) -> value_impl.Value:
  """Maps `body` (a Call built from the member) over a federated value."""
  t = value.type_signature
  uri = value_impl.map_uri(t)
  if uri is None:
    _fail(errors.PlacementError, name, f'a value such as {_EXAMPLES[None]}', t)
  parameter = value_impl.require_context(name).fresh_name('x')
  result = body(value_impl.Value(building_blocks.Reference(parameter,
                                                           t.member)))
  fn = building_blocks.Lambda(parameter, t.member, result)
  return _call(name, uri, {
      'T': t.member,
      'U': result.type_signature
  }, [('fn', value_impl.Value(fn)), ('arg', value)])


# ---------------------------------------------------------------------------
# Federated intrinsics.


def federated_aggregate(value, zero, accumulate, merge, report):
  """Aggregates client values into a server value in three steps.

  `accumulate: (<U,T> -> U)` folds client members into accumulators starting
  from `zero: U`, `merge: (<U,U> -> U)` combines accumulators and
  `report: (U -> R)` turns the final one into the result, `R@SERVER`.

  Raises:
    PlacementError: if `value` is not placed at CLIENTS or `zero` is placed.
    IntrinsicTypeError: if the functions do not have the types above.
  """
  name = 'federated_aggregate'
  value_impl.require_context(name)
  value = _federated(name, 'a value', value, placements.CLIENTS)
  member = value.type_signature.member
  zero_value = _unplaced(name, 'zero', zero)
  accumulate = _function(name, 'accumulate', accumulate,
                         ct.StructType([zero_value.type_signature, member]),
                         '(<U,T> -> U)')
  u = accumulate.type_signature.result
  zero_value = _unplaced(name, 'zero', zero, u)
  merge = _function(name, 'merge', merge, ct.StructType([u, u]),
                    '(<U,U> -> U)')
  report = _function(name, 'report', report, u, '(U -> R)')
  return _call(name, 'federated_aggregate', {
      'T': member,
      'U': u,
      'R': report.type_signature.result
  }, [('value', value), ('zero', zero_value), ('accumulate', accumulate),
      ('merge', merge), ('report', report)])


def federated_broadcast(value):
  """Sends a server value to every client: `T@SERVER -> T@CLIENTS`."""
  name = 'federated_broadcast'
  value_impl.require_context(name)
  value = _federated(name, 'a value', value, placements.SERVER)
  if not value.type_signature.all_equal:
    _fail(errors.PlacementError, name, 'an all-equal value such as T@SERVER',
          value.type_signature)
  return _call(name, 'federated_broadcast',
               {'T': value.type_signature.member}, [('value', value)])


def federated_eval(fn, placement):
  """Runs a no-argument function at `placement`: `{T}@CLIENTS` or `T@SERVER`."""
  name = 'federated_eval'
  value_impl.require_context(name)
  placement = _placement(name, placement)
  fn = _function(name, 'fn', fn, None, '( -> T)')
  uri = ('federated_eval_at_clients'
         if placement is placements.CLIENTS else 'federated_eval_at_server')
  return _call(name, uri, {'T': fn.type_signature.result}, [('fn', fn)])


def federated_map(fn, arg):
  """Applies `fn: (T -> U)` to each member of `arg`, keeping its placement.

  `{T}@CLIENTS` gives `{U}@CLIENTS` (uri federated_map), all-equal
  `T@CLIENTS` gives `U@CLIENTS` (federated_map_all_equal) and `T@SERVER`
  gives `U@SERVER` (federated_apply).
  """
  name = 'federated_map'
  value_impl.require_context(name)
  arg = _federated(name, 'a value', arg)
  t = arg.type_signature
  uri = value_impl.map_uri(t)
  if uri is None:
    _fail(errors.PlacementError, name, f'a value such as {_EXAMPLES[None]}', t)
  fn = _function(name, 'fn', fn, t.member, '(T -> U)')
  fn_type = fn.type_signature
  return _call(name, uri, {
      'T': fn_type.parameter,
      'U': fn_type.result
  }, [('fn', fn), ('arg', arg)])


def federated_mean(value, weight=None):
  """The mean at SERVER of floating-point client values, optionally weighted.

  `weight`, if given, is a numeric scalar at CLIENTS (uri
  federated_weighted_mean); executors cast it to each member's dtype.
  """
  name = 'federated_mean'
  value_impl.require_context(name)
  value = _federated(name, 'a value', value, placements.CLIENTS)
  member = value.type_signature.member
  if not _tensors_of_kind(member, _FLOATING):
    _fail(errors.IntrinsicTypeError, name,
          'a value of floating-point members such as {float32}@CLIENTS',
          value.type_signature)
  if weight is None:
    return _call(name, 'federated_mean', {'T': member}, [('value', value)])
  weight = _federated(name, 'weight', weight, placements.CLIENTS,
                      '{float32}@CLIENTS')
  w = weight.type_signature.member
  if not (isinstance(w, ct.TensorType) and w.shape == () and
          _kind(w.dtype) in _ORDERED):
    _fail(errors.IntrinsicTypeError, name,
          'weight to be a numeric scalar such as {float32}@CLIENTS',
          weight.type_signature)
  return _call(name, 'federated_weighted_mean', {
      'T': member,
      'U': w
  }, [('value', value), ('weight', weight)])


def _reduce_at_server(name: str, value, kinds: str, description: str):
  value_impl.require_context(name)
  value = _federated(name, 'a value', value, placements.CLIENTS)
  member = value.type_signature.member
  if not _tensors_of_kind(member, kinds):
    _fail(errors.IntrinsicTypeError, name,
          f'a value of {description} members such as {{int32}}@CLIENTS',
          value.type_signature)
  return _call(name, name, {'T': member}, [('value', value)])


def federated_min(value):
  """The element-wise minimum at SERVER of numeric client values."""
  return _reduce_at_server('federated_min', value, _ORDERED, 'integer or float')


def federated_max(value):
  """The element-wise maximum at SERVER of numeric client values."""
  return _reduce_at_server('federated_max', value, _ORDERED, 'integer or float')


def federated_sum(value):
  """The sum at SERVER of numeric client values: `{T}@CLIENTS -> T@SERVER`."""
  return _reduce_at_server('federated_sum', value, _NUMERIC, 'numeric')


def _is_integer_scalar(t: ct.Type) -> bool:
  return (isinstance(t, ct.TensorType) and _kind(t.dtype) in _INTEGER and
          t.shape is not None and all(d == 1 for d in t.shape))


def _matches(bound: ct.Type, member: ct.Type) -> bool:
  """Whether `bound` has `member`'s structure with integer scalar leaves."""
  if isinstance(member, ct.StructType):
    return (isinstance(bound, ct.StructType) and len(bound) == len(member) and
            all((bn is None or bn == mn) and _matches(b, m)
                for (bn, b), (mn, m) in zip(bound.items(), member.items())))
  return _is_integer_scalar(bound)


def _repeat(block, member: ct.Type):
  """A struct with `member`'s structure holding `block` at every leaf."""
  if not isinstance(member, ct.StructType):
    return block
  return building_blocks.Struct([(n, _repeat(block, m))
                                 for n, m in member.items()],
                                member.python_container)


def _secure_sum(name: str, label: str, abstract: str, value, bound):
  value_impl.require_context(name)
  value = _federated(name, 'a value', value, placements.CLIENTS)
  member = value.type_signature.member
  if not _tensors_of_kind(member, _INTEGER):
    _fail(errors.IntrinsicTypeError, name,
          'a value of integer members such as {int32}@CLIENTS',
          value.type_signature)
  bound = _unplaced(name, label, bound)
  if _is_integer_scalar(bound.type_signature):
    bound = value_impl.Value(_repeat(bound.comp, member))
  if not _matches(bound.type_signature, member):
    _fail(errors.IntrinsicTypeError, name,
          f'{label} to be an integer, or integers in the structure of the '
          f'member {member}', bound.type_signature)
  return _call(name, name, {
      'V': member,
      abstract: bound.type_signature
  }, [('value', value), (label, bound)])


def federated_secure_sum(value, max_input):
  """A sum of integer client values in `[0, max_input]`, hiding each one.

  `max_input` is an integer (used for every leaf) or integers in the
  structure of the member; the IR always holds the latter.
  """
  return _secure_sum('federated_secure_sum', 'max_input', 'MAX', value,
                     max_input)


def federated_secure_sum_bitwidth(value, bitwidth):
  """A sum of integer client values in `[0, 2**bitwidth - 1]`, hiding each one.

  `bitwidth` is an integer or integers in the structure of the member, as
  `max_input` of `federated_secure_sum`.
  """
  return _secure_sum('federated_secure_sum_bitwidth', 'bitwidth', 'BITWIDTH',
                     value, bitwidth)


def _select(name: str, client_keys, max_key, server_val, select_fn):
  value_impl.require_context(name)
  keys = _federated(name, 'client_keys', client_keys, placements.CLIENTS,
                    '{int32[n]}@CLIENTS')
  k = keys.type_signature.member
  if not (isinstance(k, ct.TensorType) and k.dtype == np.int32 and
          k.shape is not None and len(k.shape) == 1 and k.shape[0] is not None):
    _fail(errors.IntrinsicTypeError, name,
          'client_keys to be fixed-length int32 vectors such as '
          '{int32[3]}@CLIENTS', keys.type_signature)
  max_key = _federated(name, 'max_key', max_key, placements.SERVER,
                       'int32@SERVER')
  server_val = _federated(name, 'server_val', server_val, placements.SERVER)
  t = server_val.type_signature.member
  select_fn = _function(name, 'select_fn', select_fn,
                        ct.StructType([t, _INT32]), '(<T,int32> -> U)')
  return _call(name, name, {
      'T': t,
      'U': select_fn.type_signature.result
  }, [('client_keys', keys), ('max_key', max_key), ('server_val', server_val),
      ('select_fn', select_fn)])


def federated_select(client_keys, max_key, server_val, select_fn):
  """Sends each client `select_fn(server_val, key)` for each of its keys.

  Args:
    client_keys: `{int32[n]}@CLIENTS`, keys in `[0, max_key)`.
    max_key: `int32@SERVER`, greater than every key.
    server_val: `T@SERVER`, what `select_fn` selects from.
    select_fn: `(<T,int32> -> U)`, called on the server member and one key.

  Returns:
    `{U*}@CLIENTS`: for each client, the selections in the order of its keys.
  """
  return _select('federated_select', client_keys, max_key, server_val,
                 select_fn)


def federated_secure_select(client_keys, max_key, server_val, select_fn):
  """`federated_select` hiding from the server which keys clients ask for."""
  return _select('federated_secure_select', client_keys, max_key, server_val,
                 select_fn)


def federated_value(value, placement):
  """Places an unplaced value: `T@CLIENTS` (all-equal) or `T@SERVER`."""
  name = 'federated_value'
  value_impl.require_context(name)
  placement = _placement(name, placement)
  value = _unplaced(name, 'value', value)
  uri = ('federated_value_at_clients'
         if placement is placements.CLIENTS else 'federated_value_at_server')
  return _call(name, uri, {'T': value.type_signature}, [('value', value)])


def _zipped_member(t: ct.Type, found: set) -> Optional[ct.Type]:
  """`t` with its federated leaves replaced by their members; None if not all
  leaves are federated. Adds the placements seen to `found`."""
  if isinstance(t, ct.FederatedType):
    found.add(t.placement)
    return t.member
  if not isinstance(t, ct.StructType):
    return None
  elements = [(n, _zipped_member(e, found)) for n, e in t.items()]
  if any(e is None for _, e in elements):
    return None
  if t.python_container is None:
    return ct.StructType(elements)
  return ct.StructWithPythonType(elements, t.python_container)


def _zip(name: str, value: value_impl.Value,
         strict: bool) -> Optional[value_impl.Value]:
  """Zips a struct of federated values; None if it cannot and not `strict`."""
  t = value.type_signature
  found = set()
  member = _zipped_member(t, found)
  if member is None or len(found) != 1:
    if not strict:
      return None
    _fail(errors.PlacementError, name,
          'a struct of values all placed at CLIENTS or all at SERVER such as '
          '<{A}@CLIENTS,<b={B}@CLIENTS>>', t)
  uri = ('federated_zip_at_clients'
         if placements.CLIENTS in found else 'federated_zip_at_server')
  return _call(name, uri, {'T': t, 'U': member}, [('value', value)])


def federated_zip(value):
  """Turns a (nested) struct of federated values into a federated struct.

  `<a={A}@CLIENTS,b=<{B}@CLIENTS>>` becomes `{<a=A,b=<B>>}@CLIENTS`; all
  values must be at CLIENTS or all at SERVER. A federated value is returned
  as it is.
  """
  name = 'federated_zip'
  value_impl.require_context(name)
  value = value_impl.to_value(value)
  if isinstance(value.type_signature, ct.FederatedType):
    return value
  return _zip(name, value, strict=True)


# ---------------------------------------------------------------------------
# Sequence intrinsics.


def _sequence(name: str, value) -> value_impl.Value:
  """`value` if it is a sequence or a federated sequence."""
  value = value_impl.to_value(value)
  t = value.type_signature
  if not isinstance(t, ct.SequenceType) and not (
      isinstance(t, ct.FederatedType) and
      isinstance(t.member, ct.SequenceType)):
    _fail(errors.IntrinsicTypeError, name,
          'a sequence such as int32* or {int32*}@CLIENTS', t)
  return value


def sequence_map(fn, arg):
  """Applies `fn: (T -> U)` to each element of a `T*` (or federated `T*`)."""
  name = 'sequence_map'
  value_impl.require_context(name)
  arg = _sequence(name, arg)
  t = arg.type_signature
  sequence_type = t.member if isinstance(t, ct.FederatedType) else t
  fn = _function(name, 'fn', fn, sequence_type.element, '(T -> U)')
  bindings = {'T': fn.type_signature.parameter, 'U': fn.type_signature.result}
  if isinstance(t, ct.SequenceType):
    return _call(name, 'sequence_map', bindings, [('fn', fn), ('arg', arg)])
  return _map_members(
      name, arg, lambda member: _checked_call(name, 'sequence_map', bindings, [
          ('fn', fn), ('arg', member)]))


def sequence_reduce(value, zero, op):
  """Folds a `T*` (or federated `T*`) from `zero: U` with `op: (<U,T> -> U)`.

  On a federated sequence, an unplaced `zero` is placed alongside it, and a
  federated `zero` must be at the sequence's placement.
  """
  name = 'sequence_reduce'
  value_impl.require_context(name)
  value = _sequence(name, value)
  t = value.type_signature
  federated = isinstance(t, ct.FederatedType)
  element = (t.member if federated else t).element
  zero_value = value_impl.to_value(zero)
  zero_type = zero_value.type_signature
  placed = isinstance(zero_type, ct.FederatedType)
  if placed and (not federated or zero_type.placement is not t.placement):
    _fail(errors.PlacementError, name,
          f'zero unplaced or placed as the sequence, {t}', zero_type)
  op = _function(name, 'op', op,
                 ct.StructType([zero_type.member if placed else zero_type,
                                element]), '(<U,T> -> U)')
  u = op.type_signature.result
  if not placed:
    zero_value = _unplaced(name, 'zero', zero, u)
  bindings = {'T': element, 'U': u}
  if not federated:
    return _call(name, 'sequence_reduce', bindings,
                 [('value', value), ('zero', zero_value), ('op', op)])
  if not placed:
    zero_value = federated_value(zero_value, t.placement)
  pair = _zip(name, value_impl.to_value([value, zero_value]), strict=True)
  return _map_members(
      name, pair,
      lambda member: _checked_call(name, 'sequence_reduce', bindings, [
          ('value', member[0]), ('zero', member[1]), ('op', op)]))


def sequence_sum(value):
  """The sum of the numeric elements of a `T*` (or of each federated `T*`)."""
  name = 'sequence_sum'
  value_impl.require_context(name)
  value = _sequence(name, value)
  t = value.type_signature
  sequence_type = t.member if isinstance(t, ct.FederatedType) else t
  if not _tensors_of_kind(sequence_type.element, _NUMERIC):
    _fail(errors.IntrinsicTypeError, name,
          'a sequence of numeric elements such as int32* or {int32*}@CLIENTS',
          t)
  bindings = {'T': sequence_type.element}
  if isinstance(t, ct.SequenceType):
    return _call(name, 'sequence_sum', bindings, [('value', value)])
  return _map_members(
      name, value, lambda member: _checked_call(name, 'sequence_sum', bindings,
                                                [('value', member)]))
