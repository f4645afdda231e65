"""The table of intrinsics: every federated operator's name, uri and type.

Type signatures use abstract types (T, U, ...) that a concrete call binds.
The argument of every intrinsic of several parameters is a struct whose
elements are in the order shown. Executors dispatch on `uri` through an
explicit `{uri: handler}` dict; user-facing functions are in `intrinsics`.

An `Intrinsic` building block carries a concrete type: the table's signature
with its abstract types bound (`specialize`). Conventions executors follow:

    federated_aggregate     <value, zero, accumulate, merge, report>
    federated_weighted_mean <value, weight>; weight is a numeric scalar
                            (int or float) that executors cast to each
                            member's dtype
    federated_secure_sum    <value, max_input>; max_input has the structure
    (_bitwidth)             of the member of value (a scalar bound is
                            repeated per leaf), one integer per leaf (a
                            scalar, or a tensor of one element)
    federated_select        <client_keys, max_key, server_val, select_fn>;
    (federated_secure_select) select_fn is called on <server member, key>
                            (key an int32 scalar) once per key of a client,
                            in key order, giving the client a sequence
    federated_value_*       the value itself (no placement argument)
    federated_eval_*        the no-argument function itself
    federated_zip_*         a struct, possibly nested, of values placed at
                            one placement (empty structs may appear in it);
                            the result's member mirrors it, names and
                            containers included; at CLIENTS it is {U}@CLIENTS
    sequence_*              as shown; on federated sequences `intrinsics`
                            maps them with federated_map / federated_apply

This module only declares (and binds abstract types); it neither
type-checks calls nor evaluates.
"""

import dataclasses
from typing import Dict, Mapping, Optional

import numpy as np

from tffx.types import computation_types as ct
from tffx.types import placements

_T = ct.AbstractType('T')
_U = ct.AbstractType('U')
_V = ct.AbstractType('V')
_R = ct.AbstractType('R')
_BITWIDTH = ct.AbstractType('BITWIDTH')
_MAX = ct.AbstractType('MAX')
_KEY = ct.TensorType(np.int32)
_INT32 = ct.TensorType(np.int32)


def _at_clients(t, all_equal=False):
  return ct.FederatedType(t, placements.CLIENTS, all_equal)


def _at_server(t):
  return ct.FederatedType(t, placements.SERVER)


def _fn(parameter, result):
  return ct.FunctionType(parameter, result)


def _args(*types):
  return ct.StructType([(None, t) for t in types])


@dataclasses.dataclass(frozen=True)
class IntrinsicDef:
  """One intrinsic: user-facing name, wire uri and (abstract) type signature.

  `aggregation` is the kind of aggregation of client values at the server
  (executors declare each kind once, in `tffx.executors.aggregations`), or
  None for an intrinsic that does not aggregate.
  """
  name: str
  uri: str
  type_signature: ct.FunctionType
  description: str
  aggregation: Optional[str] = None


_DEFS = (
    # (<{T}@CLIENTS, U, (<U,T> -> U), (<U,U> -> U), (U -> R)> -> R@SERVER)
    IntrinsicDef(
        'federated_aggregate', 'federated_aggregate',
        _fn(_args(_at_clients(_T), _U, _fn(_args(_U, _T), _U),
                  _fn(_args(_U, _U), _U), _fn(_U, _R)), _at_server(_R)),
        'Accumulates client values from a zero, merges the accumulators, and '
        'reports the result at the server.', aggregation='aggregate'),
    # (T@SERVER -> T@CLIENTS)
    IntrinsicDef('federated_broadcast', 'federated_broadcast',
                 _fn(_at_server(_T), _at_clients(_T, True)),
                 'Sends a server value to every client.'),
    # (( -> T) -> {T}@CLIENTS)
    IntrinsicDef('federated_eval_at_clients', 'federated_eval_at_clients',
                 _fn(_fn(None, _T), _at_clients(_T)),
                 'Runs a no-argument function on every client.'),
    # (( -> T) -> T@SERVER)
    IntrinsicDef('federated_eval_at_server', 'federated_eval_at_server',
                 _fn(_fn(None, _T), _at_server(_T)),
                 'Runs a no-argument function on the server.'),
    # (<(T -> U), {T}@CLIENTS> -> {U}@CLIENTS)
    IntrinsicDef('federated_map', 'federated_map',
                 _fn(_args(_fn(_T, _U), _at_clients(_T)), _at_clients(_U)),
                 'Applies a function to each client value.'),
    # (<(T -> U), T@CLIENTS> -> U@CLIENTS)
    IntrinsicDef('federated_map_all_equal', 'federated_map_all_equal',
                 _fn(_args(_fn(_T, _U), _at_clients(_T, True)),
                     _at_clients(_U, True)),
                 'Applies a function to an all-equal client value.'),
    # (<(T -> U), T@SERVER> -> U@SERVER)
    IntrinsicDef('federated_apply', 'federated_apply',
                 _fn(_args(_fn(_T, _U), _at_server(_T)), _at_server(_U)),
                 'Applies a function to the server value.'),
    # ({T}@CLIENTS -> T@SERVER)
    IntrinsicDef('federated_mean', 'federated_mean',
                 _fn(_at_clients(_T), _at_server(_T)),
                 'The unweighted mean of client values (floating point).',
                 aggregation='mean'),
    # (<{T}@CLIENTS, {U}@CLIENTS> -> T@SERVER)
    IntrinsicDef('federated_weighted_mean', 'federated_weighted_mean',
                 _fn(_args(_at_clients(_T), _at_clients(_U)), _at_server(_T)),
                 'The mean of client values weighted by a client scalar.',
                 aggregation='weighted_mean'),
    # ({T}@CLIENTS -> T@SERVER)
    IntrinsicDef('federated_min', 'federated_min',
                 _fn(_at_clients(_T), _at_server(_T)),
                 'The element-wise minimum of client values.',
                 aggregation='min'),
    # ({T}@CLIENTS -> T@SERVER)
    IntrinsicDef('federated_max', 'federated_max',
                 _fn(_at_clients(_T), _at_server(_T)),
                 'The element-wise maximum of client values.',
                 aggregation='max'),
    # ({T}@CLIENTS -> T@SERVER)
    IntrinsicDef('federated_sum', 'federated_sum',
                 _fn(_at_clients(_T), _at_server(_T)),
                 'The sum of client values.',
                 aggregation='sum'),
    # (<{V}@CLIENTS, MAX> -> V@SERVER)
    IntrinsicDef('federated_secure_sum', 'federated_secure_sum',
                 _fn(_args(_at_clients(_V), _MAX), _at_server(_V)),
                 'A sum whose client values lie in [0, MAX] (integers).',
                 aggregation='secure_sum'),
    # (<{V}@CLIENTS, BITWIDTH> -> V@SERVER)
    IntrinsicDef('federated_secure_sum_bitwidth',
                 'federated_secure_sum_bitwidth',
                 _fn(_args(_at_clients(_V), _BITWIDTH), _at_server(_V)),
                 'A sum whose client values lie in [0, 2**BITWIDTH - 1].',
                 aggregation='secure_sum_bitwidth'),
    # (<{int32[?]}@CLIENTS, int32@SERVER, T@SERVER, (<T,int32> -> U)>
    #   -> {U*}@CLIENTS)
    IntrinsicDef(
        'federated_select', 'federated_select',
        _fn(_args(_at_clients(ct.TensorType(np.int32, [None])),
                  _at_server(_INT32), _at_server(_T), _fn(_args(_T, _KEY), _U)),
            _at_clients(ct.SequenceType(_U))),
        'Sends each client the server slices for the keys it asks for.'),
    # Same signature as federated_select; keys must lie in [0, max_key).
    IntrinsicDef(
        'federated_secure_select', 'federated_secure_select',
        _fn(_args(_at_clients(ct.TensorType(np.int32, [None])),
                  _at_server(_INT32), _at_server(_T), _fn(_args(_T, _KEY), _U)),
            _at_clients(ct.SequenceType(_U))),
        'federated_select that hides which keys a client asked for.'),
    # (T -> T@CLIENTS)
    IntrinsicDef('federated_value_at_clients', 'federated_value_at_clients',
                 _fn(_T, _at_clients(_T, True)),
                 'Places a value at every client (all-equal).'),
    # (T -> T@SERVER)
    IntrinsicDef('federated_value_at_server', 'federated_value_at_server',
                 _fn(_T, _at_server(_T)), 'Places a value at the server.'),
    # (T -> {U}@CLIENTS): T is a struct, possibly nested, of CLIENTS values,
    # e.g. <{A}@CLIENTS,<b={B}@CLIENTS>>, and U the same struct of their
    # members, <A,<b=B>>.
    IntrinsicDef('federated_zip_at_clients', 'federated_zip_at_clients',
                 _fn(_T, _at_clients(_U)),
                 'Turns a struct of client values into client structs.'),
    # (T -> U@SERVER): as federated_zip_at_clients, at the server.
    IntrinsicDef('federated_zip_at_server', 'federated_zip_at_server',
                 _fn(_T, _at_server(_U)),
                 'Turns a struct of server values into a server struct.'),
    # (<(T -> U), T*> -> U*)
    IntrinsicDef('sequence_map', 'sequence_map',
                 _fn(_args(_fn(_T, _U), ct.SequenceType(_T)),
                     ct.SequenceType(_U)),
                 'Applies a function to each element of a sequence.'),
    # (<T*, U, (<U,T> -> U)> -> U)
    IntrinsicDef('sequence_reduce', 'sequence_reduce',
                 _fn(_args(ct.SequenceType(_T), _U, _fn(_args(_U, _T), _U)),
                     _U), 'Folds a sequence from a zero.'),
    # (T* -> T)
    IntrinsicDef('sequence_sum', 'sequence_sum',
                 _fn(ct.SequenceType(_T), _T),
                 'The sum of the elements of a sequence.'),
)

# The zip signatures above are schematic: `intrinsics` checks that T is a
# struct of federated values at one placement and binds U to their members.

BY_URI: Dict[str, IntrinsicDef] = {d.uri: d for d in _DEFS}
BY_NAME: Dict[str, IntrinsicDef] = {d.name: d for d in _DEFS}
assert len(BY_URI) == len(_DEFS), 'Duplicate intrinsic uri.'

# Uris of the intrinsics whose result aggregates client values at the server;
# executors stream these rather than gathering every client's value.
AGGREGATIONS = frozenset(d.uri for d in _DEFS if d.aggregation)


def uri(name: str) -> str:
  """The uri of the intrinsic called `name` (KeyError names the choices)."""
  try:
    return BY_NAME[name].uri
  except KeyError:
    raise KeyError(f'No intrinsic named {name!r}; known: '
                   f'{sorted(BY_NAME)}.') from None


def specialize(uri: str, bindings: Mapping[str, ct.Type]) -> ct.FunctionType:
  """The signature of intrinsic `uri` with its abstract types bound.

  Args:
    uri: An intrinsic uri from the table.
    bindings: Maps each abstract label of the signature (`'T'`, `'U'`, ...)
      to a concrete type.

  Raises:
    KeyError: if `uri` is unknown or a label has no binding.
    tffx.types.errors.InvalidTypeError: if a binding makes an invalid type,
      e.g. a federated type as the member of a federated type.
  """
  try:
    signature = BY_URI[uri].type_signature
  except KeyError:
    raise KeyError(f'No intrinsic with uri {uri!r}; known: '
                   f'{sorted(BY_URI)}.') from None
  return _substitute(signature, bindings)


def _substitute(t: ct.Type, bindings: Mapping[str, ct.Type]) -> ct.Type:
  """Replaces the abstract types in `t` by their bindings."""
  if isinstance(t, ct.AbstractType):
    try:
      return bindings[t.label]
    except KeyError:
      raise KeyError(f'No binding for abstract type {t.label}; bound: '
                     f'{sorted(bindings)}.') from None
  if isinstance(t, ct.StructType):
    elements = [(n, _substitute(e, bindings)) for n, e in t.items()]
    if t.python_container is None:
      return ct.StructType(elements)
    return ct.StructWithPythonType(elements, t.python_container)
  if isinstance(t, ct.SequenceType):
    return ct.SequenceType(_substitute(t.element, bindings))
  if isinstance(t, ct.FunctionType):
    parameter = None if t.parameter is None else _substitute(
        t.parameter, bindings)
    return ct.FunctionType(parameter, _substitute(t.result, bindings))
  if isinstance(t, ct.FederatedType):
    return ct.FederatedType(_substitute(t.member, bindings), t.placement,
                            t.all_equal)
  return t
