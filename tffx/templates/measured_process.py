"""`MeasuredProcess`: an iterative process whose `next` reports measurements.

    initialize: ( -> S)
    next:       (<S, *> -> MeasuredProcessOutput(state=S, result=O,
                                                 measurements=M))

`next` must return the `MeasuredProcessOutput` container itself (checked on
the Python container recorded in the result type). Measured processes
compose, without knowing what they compute:

    chain_measured_processes({'f': F, 'g': G})        x -> F -> G -> result
    concatenate_measured_processes({'f': F, 'g': G})  <f=x, g=y> -> <f=F(x), g=G(y)>

This module checks and composes type signatures and builds the composed
computations with `tffx.federated_computation`; it runs nothing.
"""

import collections
from typing import Any, Mapping, NamedTuple, Optional

from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.templates import errors
from tffx.templates import iterative_process
from tffx.templates import template_checks
from tffx.types import computation_types
from tffx.types import errors as type_errors
from tffx.types import placements


class MeasuredProcessOutput(NamedTuple):
  """The result of `MeasuredProcess.next`.

  Attributes:
    state: The new state, passed to the next call of `next`.
    result: The output of this iteration (e.g. an aggregate).
    measurements: Values that describe the iteration (metrics), not fed back.
  """
  state: Any
  result: Any
  measurements: Any


def _is_output_type(type_spec: computation_types.Type) -> bool:
  return (isinstance(type_spec, computation_types.StructType) and
          type_spec.python_container is MeasuredProcessOutput)


class MeasuredProcess(iterative_process.IterativeProcess):
  """An `IterativeProcess` whose `next` returns a `MeasuredProcessOutput`.

  Type signatures, with `S` the state:

      initialize: ( -> S)
      next:       (S -> <state=S, result=O, measurements=M>)
              or  (<S, *> -> <state=S, result=O, measurements=M>)

  where the result struct has the `MeasuredProcessOutput` container. The
  `state` field (and no other) is the new state.
  """

  def __init__(self, initialize_fn: computation_impl.Computation,
               next_fn: computation_impl.Computation,
               next_is_multi_arg: Optional[bool] = None):
    """Creates a `MeasuredProcess`.

    Args:
      initialize_fn: A no-argument `tffx.Computation` returning the initial
        state, of type `S`.
      next_fn: A `tffx.Computation` taking the state as its only or first
        argument and returning a `MeasuredProcessOutput` whose `state` is
        assignable to that argument.
      next_is_multi_arg: Whether the state is the first of several arguments
        of `next_fn`; None (default) infers it (see `IterativeProcess`).

    Raises:
      TypeError: if `initialize_fn` or `next_fn` is not a computation.
      TemplateInitFnParamNotEmptyError: if `initialize_fn` takes an argument.
      TemplateNextFnNumArgsError: if `next_fn` takes no argument, or
        `next_is_multi_arg` is True and its argument is not a struct.
      TemplateStateNotAssignableError: if the state returned by
        `initialize_fn` or `next_fn` is not assignable to the state argument.
      TemplateNotMeasuredProcessOutputError: if `next_fn` does not return a
        `MeasuredProcessOutput`.
    """
    super().__init__(initialize_fn, next_fn, next_is_multi_arg)
    next_type = next_fn.type_signature
    result = next_type.result
    if not _is_output_type(result):
      raise errors.TemplateNotMeasuredProcessOutputError(
          f'Expected `next_fn` to return a tffx.templates.MeasuredProcessOutput'
          f'(state, result, measurements), found the result type '
          f'{template_checks.with_container(result)}.'
          f'{template_checks.describe("next_fn", next_type)}\nTip: return '
          f'`MeasuredProcessOutput(state=..., result=..., measurements=...)`; '
          f'a tuple or dict with the same fields is not enough.')
    # The base class accepts a state anywhere first in the result; here it
    # must be the `state` field.
    if not self.state_type.is_assignable_from(result.state):
      raise errors.TemplateStateNotAssignableError(
          f'Expected the `state` field returned by `next_fn` ({result.state}) '
          f'to be assignable to its state argument ({self.state_type}).'
          f'{template_checks.describe("next_fn", next_type)}')

  @property
  def next(self) -> computation_impl.Computation:
    """A `tffx.Computation` that runs one iteration of the process.

    Its only or first argument is the current state (first produced by
    `initialize`); it returns a `MeasuredProcessOutput`.
    """
    return self._next_fn


# ---------------------------------------------------------------------------
# Composition.


def _check_processes(measured_processes: Mapping[str, MeasuredProcess],
                     what: str) -> None:
  if not isinstance(measured_processes, Mapping) or not measured_processes:
    raise TypeError(
        f'Expected {what} to take a non-empty OrderedDict of named '
        f'MeasuredProcesses, found {measured_processes!r}.')
  for name, process in measured_processes.items():
    if not isinstance(name, str) or not name:
      raise TypeError(f'Expected process names to be non-empty strings, '
                      f'found {name!r}.')
    if not isinstance(process, MeasuredProcess):
      raise TypeError(f'Expected process {name!r} to be a MeasuredProcess, '
                      f'found {type(process).__name__}.')
    parameter = process.next.type_signature.parameter
    if not isinstance(parameter,
                      computation_types.StructType) or len(parameter) != 2:
      signature = template_checks.describe('next', process.next.type_signature)
      raise errors.TemplateNextFnNumArgsError(
          f'Expected the `next` of process {name!r} to take two arguments '
          f'(state, value) to be composed by {what}, found the argument type '
          f'{parameter}.{signature}')
  _check_same_state_placement(measured_processes)


def _check_same_state_placement(measured_processes) -> None:
  """Raises TypeError unless all states are at SERVER, or all unplaced."""
  state_types = collections.OrderedDict(
      (name, p.state_type) for name, p in measured_processes.items())
  placements_found = {
      t.placement if isinstance(t, computation_types.FederatedType) else None
      for t in state_types.values()
  }
  listing = ', '.join(f'{n}: {t}' for n, t in state_types.items())
  if len(placements_found) > 1:
    # The first sentence is TFF's message, which its tests match on.
    raise TypeError(
        f'Cannot concatenate the initialization functions as not all '
        f'`tff.templates.MeasuredProcess`es have the same placement of the '
        f'state: {{{listing}}}.\nTip: place every state at SERVER (e.g. with '
        f'`tffx.federated_value(..., tffx.SERVER)`).')
  if placements_found == {placements.CLIENTS}:
    raise TypeError(
        f'Expected the states of composed MeasuredProcesses to be placed at '
        f'SERVER (or all unplaced), found them at CLIENTS: {{{listing}}}.')


def _all_at_server(types) -> bool:
  return all(
      isinstance(t, computation_types.FederatedType) and
      t.placement is placements.SERVER for t in types)


def _combined_type(named_types) -> computation_types.Type:
  """`<a=A,b=B>@SERVER` when every type is at SERVER, else `<a=A@..,b=B@..>`."""
  if _all_at_server(t for _, t in named_types):
    return computation_types.type_at_server(
        computation_types.StructWithPythonType(
            [(n, t.member) for n, t in named_types], collections.OrderedDict))
  return computation_types.StructWithPythonType(named_types,
                                                collections.OrderedDict)


def _combine(values: Mapping[str, Any]):
  """Zips a dict of values when all are at SERVER (see `_combined_type`)."""
  values = collections.OrderedDict(values)
  if _all_at_server(v.type_signature for v in values.values()):
    return intrinsics.federated_zip(values)
  return values


def _initialize_all(measured_processes):
  """Builds `( -> <a=A.state, ...>)`, zipped when all states are at SERVER."""

  @federated_computation.federated_computation
  def initialize():
    return _combine((name, process.initialize())
                    for name, process in measured_processes.items())

  return initialize


def _state_type(measured_processes) -> computation_types.Type:
  return _combined_type([(name, p.next.type_signature.parameter[0])
                         for name, p in measured_processes.items()])


def chain_measured_processes(
    measured_processes: Mapping[str, MeasuredProcess]) -> MeasuredProcess:
  """Chains processes: the result of each is the value of the next one.

  For processes `F` and `G` given as `OrderedDict(f=F, g=G)`:

      initialize: ( -> <f=F.S, g=G.S>)
      next: (<state=<f=F.S, g=G.S>, values=X> ->
             <state=<f=F.S, g=G.S>, result=G.O,
              measurements=<f=F.M, g=G.M>>)

  where `next` runs `F.next(state.f, x)`, then `G.next(state.g, <F's
  result>)`. States and measurements are combined into one SERVER value
  with `federated_zip` when they are all placed at SERVER, and into a struct
  of values when none is placed (TFF refuses unplaced states); states at
  CLIENTS, or at different placements, are refused. Each process's `next` must take exactly
  `(state, value)`; the parameters of the composed `next` are named `state`
  and `values`, as in TFF.

  Args:
    measured_processes: An `OrderedDict` (or dict, in insertion order) of
      `MeasuredProcess`es by name, in the order of the chain.

  Returns:
    A `MeasuredProcess`.

  Raises:
    TypeError: if `measured_processes` is empty or holds other objects, or
      if the states of the processes are at different placements.
    TemplateNextFnNumArgsError: if a process's `next` does not take exactly
      two arguments.
    TypeNotAssignableError: if the result of a process is not assignable to
      the value argument of the one after it.
  """
  _check_processes(measured_processes, 'chain_measured_processes')
  names = list(measured_processes)
  for before, after in zip(names, names[1:]):
    result = measured_processes[before].next.type_signature.result.result
    value = measured_processes[after].next.type_signature.parameter[1]
    if not value.is_assignable_from(result):
      raise type_errors.TypeNotAssignableError(
          f'Expected the result of process {before!r} ({result}) to be '
          f'assignable to the value argument of the process {after!r} after '
          f'it in the chain ({value}).', value, result)

  first = measured_processes[names[0]]

  @federated_computation.federated_computation(
      _state_type(measured_processes), first.next.type_signature.parameter[1])
  def next_fn(state, values):
    states = collections.OrderedDict()
    measurements = collections.OrderedDict()
    for name, process in measured_processes.items():
      output = process.next(state[name], values)
      states[name] = output.state
      measurements[name] = output.measurements
      values = output.result
    return MeasuredProcessOutput(
        state=_combine(states),
        result=values,
        measurements=_combine(measurements))

  return MeasuredProcess(_initialize_all(measured_processes), next_fn)


def concatenate_measured_processes(
    measured_processes: Mapping[str, MeasuredProcess]) -> MeasuredProcess:
  """Runs processes side by side, each on its own value.

  For processes `F` and `G` given as `OrderedDict(f=F, g=G)`:

      initialize: ( -> <f=F.S, g=G.S>)
      next: (<state=<f=F.S, g=G.S>, values=<f=X, g=Y>> ->
             <state=<f=F.S, g=G.S>, result=<f=F.O, g=G.O>,
              measurements=<f=F.M, g=G.M>>)

  States and measurements are zipped into one SERVER value when they are
  all at SERVER (as in `chain_measured_processes`); values and results stay
  a struct of (possibly differently placed) values. Each process's `next`
  must take exactly `(state, value)`.

  Args:
    measured_processes: An `OrderedDict` of `MeasuredProcess`es by name.

  Returns:
    A `MeasuredProcess`.

  Raises:
    TypeError: if `measured_processes` is empty or holds other objects, or
      if the states of the processes are at different placements.
    TemplateNextFnNumArgsError: if a process's `next` does not take exactly
      two arguments.
  """
  _check_processes(measured_processes, 'concatenate_measured_processes')
  value_type = computation_types.StructWithPythonType(
      [(name, p.next.type_signature.parameter[1])
       for name, p in measured_processes.items()], collections.OrderedDict)

  @federated_computation.federated_computation(
      _state_type(measured_processes), value_type)
  def next_fn(state, values):
    states = collections.OrderedDict()
    results = collections.OrderedDict()
    measurements = collections.OrderedDict()
    for name, process in measured_processes.items():
      output = process.next(state[name], values[name])
      states[name] = output.state
      results[name] = output.result
      measurements[name] = output.measurements
    return MeasuredProcessOutput(
        state=_combine(states),
        result=results,
        measurements=_combine(measurements))

  return MeasuredProcess(_initialize_all(measured_processes), next_fn)
