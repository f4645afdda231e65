"""Hyperparameter getters and setters of the learning templates.

Every learning template has two unplaced computations over its state `S`:

    get_hparams: (S -> H)          H: usually an OrderedDict of tensors
    set_hparams: (<S, H> -> S)

Both are optional when building a template. The defaults know no
hyperparameter: `get_hparams` returns an empty `OrderedDict` and
`set_hparams` returns the state unchanged. This module type-checks given
computations and builds the defaults; it does not run them.
`HparamsMixin` gives a template the two properties.
"""

import collections
from typing import Optional, Tuple

from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.templates import template_checks
from tffx.types import computation_types


class GetHparamsTypeError(TypeError):
  """`get_hparams_fn` does not have the type `(S -> H)` for the state `S`."""


class SetHparamsTypeError(TypeError):
  """`set_hparams_fn` does not have the type `(<S, H> -> S)` for the state `S`."""


def type_check_get_hparams_fn(get_hparams_fn: computation_impl.Computation,
                              state_type: computation_types.Type) -> None:
  """Checks that `get_hparams_fn` has type `(S -> H)` for `S = state_type`.

  Raises:
    TypeError: if `get_hparams_fn` is not a computation.
    GetHparamsTypeError: if its argument does not accept the state.
  """
  fn_type = template_checks.check_computation(get_hparams_fn, 'get_hparams_fn')
  if fn_type.parameter is None or not fn_type.parameter.is_assignable_from(
      state_type):
    raise GetHparamsTypeError(
        f'Expected `get_hparams_fn` to have the type (S -> H) with the '
        f'(unplaced) state S = {state_type}, found {fn_type}.')


def type_check_set_hparams_fn(
    set_hparams_fn: computation_impl.Computation,
    state_type: computation_types.Type,
    hparams_type: Optional[computation_types.Type] = None) -> None:
  """Checks that `set_hparams_fn` has type `(<S, H> -> S)`.

  Args:
    set_hparams_fn: The computation to check.
    state_type: The unplaced state `S`.
    hparams_type: The result of `get_hparams`, if known: the hyperparameters
      argument must accept it.

  Raises:
    TypeError: if `set_hparams_fn` is not a computation.
    SetHparamsTypeError: if it does not take two arguments, does not accept
      the state (or the hparams), or does not return a state.
  """
  fn_type = template_checks.check_computation(set_hparams_fn, 'set_hparams_fn')
  parameter = fn_type.parameter
  expected = f'(<S, H> -> S) with the (unplaced) state S = {state_type}'
  if not isinstance(parameter,
                    computation_types.StructType) or len(parameter) != 2:
    raise SetHparamsTypeError(
        f'Expected `set_hparams_fn` to take two arguments (state, hparams), '
        f'of type {expected}; found {fn_type}.')
  if not parameter[0].is_assignable_from(state_type):
    raise SetHparamsTypeError(
        f'Expected the first argument of `set_hparams_fn` to accept the state: '
        f'type {expected}; found {fn_type}.')
  if hparams_type is not None and not parameter[1].is_assignable_from(
      hparams_type):
    raise SetHparamsTypeError(
        f'Expected the second argument of `set_hparams_fn` to accept the '
        f'hyperparameters returned by `get_hparams_fn`, {hparams_type}; '
        f'found {fn_type}.')
  if not state_type.is_assignable_from(fn_type.result):
    raise SetHparamsTypeError(
        f'Expected `set_hparams_fn` to return a state: type {expected}; found '
        f'{fn_type}.')


def build_basic_hparams_getter(
    state_type: computation_types.Type) -> computation_impl.Computation:
  """Returns `(S -> <>)`: a computation returning an empty `OrderedDict`."""

  @federated_computation.federated_computation(state_type)
  def get_hparams(state):
    del state  # No hyperparameters.
    return collections.OrderedDict()

  return get_hparams


def build_basic_hparams_setter(
    state_type: computation_types.Type,
    hparams_type: computation_types.Type) -> computation_impl.Computation:
  """Returns `(<S, H> -> S)`: a computation returning the state unchanged."""

  @federated_computation.federated_computation(state_type, hparams_type)
  def set_hparams(state, hparams):
    del hparams  # No hyperparameters.
    return state

  return set_hparams


def build_hparams_fns(
    state_type: computation_types.Type,
    get_hparams_fn: Optional[computation_impl.Computation],
    set_hparams_fn: Optional[computation_impl.Computation]
) -> Tuple[computation_impl.Computation, computation_impl.Computation]:
  """Checks the given hparams computations and builds the missing ones.

  Args:
    state_type: The unplaced state `S` of the template.
    get_hparams_fn: A computation `(S -> H)`, or None for the default.
    set_hparams_fn: A computation `(<S, H> -> S)`, or None for the default.

  Returns:
    `(get_hparams, set_hparams)`.

  Raises:
    GetHparamsTypeError, SetHparamsTypeError: see the type checks above.
  """
  given_getter = get_hparams_fn is not None
  if given_getter:
    type_check_get_hparams_fn(get_hparams_fn, state_type)
  else:
    get_hparams_fn = build_basic_hparams_getter(state_type)
  hparams_type = get_hparams_fn.type_signature.result
  if set_hparams_fn is None:
    set_hparams_fn = build_basic_hparams_setter(state_type, hparams_type)
  else:
    # A given setter must accept what a given getter returns; the default
    # getter's empty OrderedDict says nothing about the setter.
    type_check_set_hparams_fn(set_hparams_fn, state_type,
                              hparams_type if given_getter else None)
  return get_hparams_fn, set_hparams_fn


class HparamsMixin:
  """The `get_hparams` and `set_hparams` properties of a learning template.

  A template calls `_init_hparams` in its `__init__`, once the state type is
  known and the other checks have passed.
  """

  def _init_hparams(
      self, state_type: computation_types.Type,
      get_hparams_fn: Optional[computation_impl.Computation],
      set_hparams_fn: Optional[computation_impl.Computation]) -> None:
    """Checks or builds the hparams computations (see `build_hparams_fns`)."""
    self._get_hparams_fn, self._set_hparams_fn = build_hparams_fns(
        state_type, get_hparams_fn, set_hparams_fn)

  @property
  def get_hparams(self) -> computation_impl.Computation:
    """A `tffx.Computation` `(S -> H)` returning the hyperparameters of a state."""
    return self._get_hparams_fn

  @property
  def set_hparams(self) -> computation_impl.Computation:
    """A `tffx.Computation` `(<S, H> -> S)` setting the hyperparameters of a state."""
    return self._set_hparams_fn
