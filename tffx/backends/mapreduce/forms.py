"""Forms of a round: MapReduceForm, DistributeAggregateForm, BroadcastForm.

A `MapReduceForm` `mrf` computes the round

    (<S@SERVER, {D}@CLIENTS> -> <S@SERVER, X@SERVER>)

as (see `form_utils.get_computation_for_map_reduce_form`):

    client_input = federated_broadcast(federated_map(prepare, state))
    a, b, e, f   = federated_map(work, <client_data, client_input>)
    r  = federated_aggregate(a, zero(), accumulate, merge, report)
    sb = federated_secure_sum_bitwidth(b, secure_sum_bitwidth())
    se = federated_secure_sum(e, secure_sum_max_input())
    sf = secure modular sum of f modulo secure_modular_sum_modulus()
    new_state, output = federated_map(update, <state, <r, sb, se, sf>>)

with these component types:

    prepare                     (S -> C)
    work                        (<D,C> -> <A,B,E,F>)
    zero                        ( -> U)
    accumulate                  (<U,A> -> U)
    merge                       (<U,U> -> U)
    report                      (U -> R)
    secure_sum_bitwidth         ( -> B)    bitwidths, one per leaf of B
    secure_sum_max_input        ( -> E)    bounds, one per leaf of E
    secure_modular_sum_modulus  ( -> F)    moduli, one per leaf of F
    update                      (<S,<R,B,E,F>> -> <S,X>)

Every component is a computation of no federated types. Unlike TFF, where
each is a single TensorFlow graph, a tffx component may be an IR lambda that
calls several TensorFlow computations (see docs/tff_differences.md).

A `DistributeAggregateForm` splits the same round into five federated
computations, one per phase (see its docstring).

A `BroadcastForm` computes `(<S@SERVER, {D}@CLIENTS> -> {R}@CLIENTS)` as
`federated_map(client_processing, <broadcast(compute_server_context(s)), d>)`.
"""

from typing import Callable, Optional

from tffx.computations import computation_impl
from tffx.types import computation_types as ct
from tffx.types import type_analysis
from tffx.types import typed_object

# Indices of `work`'s result: one output per aggregation path.
WORK_UPDATE_INDEX = 0
WORK_SECAGG_BITWIDTH_INDEX = 1
WORK_SECAGG_MAX_INPUT_INDEX = 2
WORK_SECAGG_MODULUS_INDEX = 3
WORK_RESULT_LEN = 4


def _check_local_computation(label: str, comp) -> None:
  if not isinstance(comp, computation_impl.ConcreteComputation):
    raise TypeError(f'Expected `{label}` to be a tff.Computation, found '
                    f'{type(comp).__name__}.')
  if type_analysis.contains(comp.type_signature,
                            lambda t: isinstance(t, ct.FederatedType)):
    raise TypeError(f'Expected `{label}` to be a computation of no federated '
                    f'types, found {comp.type_signature}.')


def _is_tuple(t, length: int) -> bool:
  return isinstance(t, ct.StructType) and len(t) == length


def _check_accepts_tuple(label: str, comp, length: int) -> None:
  if not _is_tuple(comp.type_signature.parameter, length):
    raise TypeError(
        f'The `{label}` computation accepts a parameter of type\n'
        f'{comp.type_signature.parameter}\nthat is not a tuple of length '
        f'{length}.')


def _check_returns_tuple(label: str, comp, length: int) -> None:
  if not _is_tuple(comp.type_signature.result, length):
    raise TypeError(
        f'The `{label}` computation returns a result of type\n'
        f'{comp.type_signature.result}\nthat is not a tuple of length '
        f'{length}.')


def _assignable_or_both_none(target, source) -> bool:
  if target is None or source is None:
    return target is None and source is None
  return target.is_assignable_from(source)


class MapReduceForm(typed_object.TypedObject):
  """One round of MapReduce-like processing as local computations.

  See the module docstring for the round it computes and its components'
  type signatures.

  Raises:
    TypeError: if a component is not a computation of no federated types, or
      the components' types do not fit together.
  """

  def __init__(self, type_signature, prepare, work, zero, accumulate, merge,
               report, secure_sum_bitwidth, secure_sum_max_input,
               secure_modular_sum_modulus, update):
    components = (('prepare', prepare), ('work', work), ('zero', zero),
                  ('accumulate', accumulate), ('merge', merge),
                  ('report', report),
                  ('secure_sum_bitwidth', secure_sum_bitwidth),
                  ('secure_sum_max_input', secure_sum_max_input),
                  ('secure_modular_sum_modulus', secure_modular_sum_modulus),
                  ('update', update))
    for label, comp in components:
      _check_local_computation(label, comp)
    _check_accepts_tuple('work', work, 2)
    if not _assignable_or_both_none(work.type_signature.parameter[1],
                                    prepare.type_signature.result):
      raise TypeError(
          'The `work` computation expects an argument tuple with type '
          f'{work.type_signature.parameter[1]} as the second element (the '
          'initial client state from the server), which does not match the '
          f'result type {prepare.type_signature.result} of `prepare`.')
    _check_returns_tuple('work', work, WORK_RESULT_LEN)
    _check_accepts_tuple('accumulate', accumulate, 2)
    accumulate.type_signature.parameter[0].check_assignable_from(
        zero.type_signature.result)
    work_update_type = work.type_signature.result[WORK_UPDATE_INDEX]
    if not _assignable_or_both_none(accumulate.type_signature.parameter[1],
                                    work_update_type):
      raise TypeError(
          'The `accumulate` computation expects a second argument of type '
          f'{accumulate.type_signature.parameter[1]}, which does not match '
          f'the expected {work_update_type} as implied by the type signature '
          'of `work`.')
    accumulate.type_signature.parameter[0].check_assignable_from(
        accumulate.type_signature.result)
    _check_accepts_tuple('merge', merge, 2)
    for i in range(2):
      merge.type_signature.parameter[i].check_assignable_from(
          accumulate.type_signature.result)
    merge.type_signature.parameter[0].check_assignable_from(
        merge.type_signature.result)
    report.type_signature.parameter.check_assignable_from(
        merge.type_signature.result)
    work_result = work.type_signature.result
    expected_update_parameter = ct.StructType([
        (None, type_signature.parameter[0].member),
        (None,
         ct.StructType([(None, report.type_signature.result),
                        (None, work_result[WORK_SECAGG_BITWIDTH_INDEX]),
                        (None, work_result[WORK_SECAGG_MAX_INPUT_INDEX]),
                        (None, work_result[WORK_SECAGG_MODULUS_INDEX])])),
    ])
    if not _assignable_or_both_none(update.type_signature.parameter,
                                    expected_update_parameter):
      raise TypeError(
          'The `update` computation expects arguments of type '
          f'{update.type_signature.parameter}, which does not match the '
          f'expected {expected_update_parameter} as implied by the type '
          'signatures of `report` and `work`.')
    _check_returns_tuple('update', update, 2)
    updated_state_type = update.type_signature.result[0]
    if not prepare.type_signature.parameter.is_assignable_from(
        updated_state_type):
      raise TypeError(
          'The `update` computation returns a result tuple whose first '
          f'element (the updated state type of the server) is type:\n'
          f'{updated_state_type}\nwhich is not assignable to the state '
          f'parameter type of `prepare`:\n{prepare.type_signature.parameter}')
    self._type_signature = type_signature
    self._components = dict(components)
    names = type_signature.parameter.names()
    self._server_state_label, self._client_data_label = names

  @property
  def type_signature(self) -> ct.FunctionType:
    """The type of the equivalent federated computation."""
    return self._type_signature

  @property
  def prepare(self):
    return self._components['prepare']

  @property
  def work(self):
    return self._components['work']

  @property
  def zero(self):
    return self._components['zero']

  @property
  def accumulate(self):
    return self._components['accumulate']

  @property
  def merge(self):
    return self._components['merge']

  @property
  def report(self):
    return self._components['report']

  @property
  def secure_sum_bitwidth(self):
    return self._components['secure_sum_bitwidth']

  @property
  def secure_sum_max_input(self):
    return self._components['secure_sum_max_input']

  @property
  def secure_modular_sum_modulus(self):
    return self._components['secure_modular_sum_modulus']

  @property
  def update(self):
    return self._components['update']

  @property
  def server_state_label(self) -> Optional[str]:
    return self._server_state_label

  @property
  def client_data_label(self) -> Optional[str]:
    return self._client_data_label

  @property
  def securely_aggregates_tensors(self) -> bool:
    """Whether any secure aggregation path carries tensors."""
    secure = list(self.work.type_signature.result)[1:]
    return any(
        type_analysis.contains(t, lambda e: isinstance(e, ct.TensorType))
        for t in secure)

  def summary(self, print_fn: Callable[[str], None] = print) -> None:
    """Prints one line per component: its name and type signature."""
    for label, comp in self._components.items():
      print_fn(f'{label:<26}: {comp.type_signature}')


class BroadcastForm:
  """Server-to-client logic: a server context broadcast to client processing.

  `compute_server_context` is `(S -> C)`, `client_processing` is
  `(<C,D> -> R)`; see the module docstring.

  Raises:
    TypeError: if a component is not a computation of no federated types, or
      the context type does not fit `client_processing`.
  """

  def __init__(self, compute_server_context, client_processing,
               server_data_label: Optional[str] = None,
               client_data_label: Optional[str] = None):
    _check_local_computation('compute_server_context', compute_server_context)
    _check_local_computation('client_processing', client_processing)
    _check_accepts_tuple('client_processing', client_processing, 2)
    context_type = compute_server_context.type_signature.result
    expected = client_processing.type_signature.parameter[0]
    if not _assignable_or_both_none(expected, context_type):
      raise TypeError(
          'The `client_processing` computation expects an argument tuple with '
          f'type\n{expected}\nas the first element (the context type from the '
          f'server), which does not match the result type\n{context_type}\n '
          'of `compute_server_context`.')
    for label in (server_data_label, client_data_label):
      if label is not None and not isinstance(label, str):
        raise TypeError(f'Expected a label string, found {label!r}.')
    self._compute_server_context = compute_server_context
    self._client_processing = client_processing
    self._server_data_label = server_data_label
    self._client_data_label = client_data_label

  @property
  def compute_server_context(self):
    return self._compute_server_context

  @property
  def client_processing(self):
    return self._client_processing

  @property
  def server_data_label(self) -> Optional[str]:
    return self._server_data_label

  @property
  def client_data_label(self) -> Optional[str]:
    return self._client_data_label

  def summary(self, print_fn: Callable[[str], None] = print) -> None:
    for label, comp in (('compute_server_context', self.compute_server_context),
                        ('client_processing', self.client_processing)):
      print_fn(f'{label:<22}: {comp.type_signature}')


class DistributeAggregateForm(typed_object.TypedObject):
  """One round as five federated computations, one per phase.

      server_prepare                (S@SERVER -> <<C@SERVER,...>, I>)
      server_to_client_broadcast    (<C@SERVER,...> -> <C@CLIENTS,...>)
      client_work                   (<{D}@CLIENTS, <C@CLIENTS,...>>
                                      -> <{W}@CLIENTS,...>)
      client_to_server_aggregation  (<I, <{W}@CLIENTS,...>> -> <A@SERVER,...>)
      server_result                 (<I, <A@SERVER,...>> -> <S@SERVER,X@SERVER>)

  `I` is the intermediate server state, a struct of server values (and
  unplaced constants) that the later server phases receive.

  Raises:
    TypeError: if a component is not a computation, or the components' types
      do not fit together or with `type_signature`.
  """

  def __init__(self, type_signature, server_prepare, server_to_client_broadcast,
               client_work, client_to_server_aggregation, server_result):
    components = (('server_prepare', server_prepare),
                  ('server_to_client_broadcast', server_to_client_broadcast),
                  ('client_work', client_work),
                  ('client_to_server_aggregation',
                   client_to_server_aggregation),
                  ('server_result', server_result))
    for label, comp in components:
      if not isinstance(comp, computation_impl.ConcreteComputation):
        raise TypeError(f'Expected `{label}` to be a tff.Computation, found '
                        f'{type(comp).__name__}.')

    def check(label, expected, found):
      if not _assignable_or_both_none(expected, found):
        raise TypeError(f'The `{label}` computation expects a parameter of '
                        f'type {expected}, which does not match {found}.')

    check('server_prepare', server_prepare.type_signature.parameter,
          type_signature.parameter[0])
    _check_returns_tuple('server_prepare', server_prepare, 2)
    broadcast_args, intermediate = server_prepare.type_signature.result
    check('server_to_client_broadcast',
          server_to_client_broadcast.type_signature.parameter, broadcast_args)
    for label, comp in components[2:]:
      _check_accepts_tuple(label, comp, 2)
    check('client_work', client_work.type_signature.parameter,
          ct.StructType([(None, type_signature.parameter[1]),
                         (None, server_to_client_broadcast.type_signature
                          .result)]))
    check('client_to_server_aggregation',
          client_to_server_aggregation.type_signature.parameter,
          ct.StructType([(None, intermediate),
                         (None, client_work.type_signature.result)]))
    check('server_result', server_result.type_signature.parameter,
          ct.StructType([(None, intermediate),
                         (None, client_to_server_aggregation.type_signature
                          .result)]))
    if not type_signature.result.is_assignable_from(
        server_result.type_signature.result):
      raise TypeError(
          f'The `server_result` computation returns '
          f'{server_result.type_signature.result}, which does not match the '
          f'result type {type_signature.result} of the round.')
    self._type_signature = type_signature
    self._components = dict(components)

  @property
  def type_signature(self) -> ct.FunctionType:
    """The type of the equivalent federated computation."""
    return self._type_signature

  @property
  def server_prepare(self):
    return self._components['server_prepare']

  @property
  def server_to_client_broadcast(self):
    return self._components['server_to_client_broadcast']

  @property
  def client_work(self):
    return self._components['client_work']

  @property
  def client_to_server_aggregation(self):
    return self._components['client_to_server_aggregation']

  @property
  def server_result(self):
    return self._components['server_result']

  def summary(self, print_fn: Callable[[str], None] = print) -> None:
    """Prints one line per component: its name and type signature."""
    for label, comp in self._components.items():
      print_fn(f'{label:<28}: {comp.type_signature}')
