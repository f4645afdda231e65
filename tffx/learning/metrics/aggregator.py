"""Aggregating metrics across clients: sum the unfinalized, finalize at SERVER.

A client reports its metrics *unfinalized*: the summable pieces a metric is
computed from (e.g. `loss=<loss_sum, example_count>`, `num_examples`). The
server sums them over the clients and only then finalizes them, so a mean is
the mean over all examples, not a mean of client means:

    {unfinalized}@CLIENTS --federated_sum--> unfinalized@SERVER
                          --finalize-------> finalized@SERVER

    sum_then_finalize(finalizers, type)      a federated computation, one round
    SumThenFinalizeFactory(finalizers)       a process that also keeps the sum
      .create(type)                          over all rounds in its state

`metric_finalizers` is either a mapping `{name: fn(unfinalized_value)}` over
the top-level names of the unfinalized metrics, or one function from all
unfinalized metrics to all finalized ones (what a `FunctionalModel`'s
`finalize_metrics` is). Finalizers run in TensorFlow graphs. This module
does not compute metrics on clients (the algorithms do) and adds no noise
or secure aggregation.
"""

import collections
from typing import Any, Callable, Mapping, Optional, Union

import tensorflow as tf

from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.metrics import errors
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements
from tffx.types import type_conversions

MetricFinalizersType = Union[Mapping[str, Callable[[Any], Any]],
                             Callable[[Any], Any]]
# As in TFF: one function from all unfinalized metrics (a mapping of metric
# names) to all finalized ones, e.g. `FunctionalModel.finalize_metrics`.
MetricsState = Mapping[str, Any]
FunctionalMetricFinalizersType = Callable[[MetricsState], MetricsState]
# What the learning algorithms take as `metrics_aggregator`:
# `(metric_finalizers, local_unfinalized_metrics_type) -> Computation`, e.g.
# `sum_then_finalize` or `secure_sum_then_finalize`.
MetricsAggregatorType = Callable[[MetricFinalizersType, Any],
                                 computation_impl.Computation]


def check_unfinalized_type(
    local_unfinalized_metrics_type: Any) -> computation_types.StructType:
  """`local_unfinalized_metrics_type` as a struct of numeric tensors, or
  raises `UnfinalizedMetricsTypeError`."""
  try:
    unfinalized_type = computation_types.to_type(local_unfinalized_metrics_type)
  except TypeError as e:
    raise errors.UnfinalizedMetricsTypeError(
        f'Expected local_unfinalized_metrics_type to be a type, found '
        f'{local_unfinalized_metrics_type!r} ({e}).') from None
  leaves_ok = isinstance(unfinalized_type, computation_types.StructType)
  pending = [unfinalized_type]
  while pending and leaves_ok:
    t = pending.pop()
    if isinstance(t, computation_types.StructType):
      pending.extend(t.children())
    else:
      leaves_ok = (isinstance(t, computation_types.TensorType) and
                   t.dtype.kind in 'iuf')
  if not leaves_ok:
    raise errors.UnfinalizedMetricsTypeError(
        f'Expected the unfinalized metrics to be a struct of numeric tensors '
        f'(sums that add up across clients), found {unfinalized_type}.')
  return unfinalized_type


def _build_finalize_fn(metric_finalizers: MetricFinalizersType,
                       unfinalized_type: computation_types.StructType):
  """A Python function from unfinalized to finalized metrics (in a graph)."""
  if isinstance(metric_finalizers, Mapping):
    not_callable = [n for n, f in metric_finalizers.items() if not callable(f)]
    if not_callable:
      raise errors.MetricFinalizersTypeError(
          f'Expected every metric finalizer to be callable, found '
          f'non-callable finalizers for {not_callable}.')
    names = unfinalized_type.names()
    if sorted(metric_finalizers, key=str) != sorted(names, key=str):
      raise errors.MismatchedMetricNamesError(
          f'Expected metric finalizers for exactly the unfinalized metrics '
          f'{names}, found finalizers for {list(metric_finalizers)}.')

    def finalize_each(unfinalized):
      return collections.OrderedDict(
          (name, metric_finalizers[name](unfinalized[name])) for name in names)

    return finalize_each
  if not callable(metric_finalizers):
    raise errors.MetricFinalizersTypeError(
        f'Expected metric_finalizers to be a mapping from metric names to '
        f'functions, or one function of all unfinalized metrics, found '
        f'{type(metric_finalizers).__name__}.')
  return metric_finalizers


def build_finalize_computation(metric_finalizers,
                               local_unfinalized_metrics_type):
  """Returns `(U, finalize)`: the checked unfinalized metrics type and the
  `tf_computation` `(U -> F)`. Raises as `sum_then_finalize` does."""
  unfinalized_type = check_unfinalized_type(local_unfinalized_metrics_type)
  finalize = tensorflow_computation.tf_computation(
      _build_finalize_fn(metric_finalizers, unfinalized_type),
      unfinalized_type)
  return unfinalized_type, finalize


def for_unfinalized_type(
    build: Callable[[Any], computation_impl.Computation],
    local_unfinalized_metrics_type: Any) -> computation_impl.Computation:
  """`build(U)`, or with `U` None a polymorphic federated computation that
  calls `build(U)` with the `U` of its argument `{U}@CLIENTS` (TFF's
  metrics aggregators take an optional type and are polymorphic without).

  The polymorphic computation raises the errors of `build` when it is
  traced, and TypeError for an argument that is not at CLIENTS.
  """
  if local_unfinalized_metrics_type is not None:
    return build(local_unfinalized_metrics_type)

  @federated_computation.federated_computation
  def aggregate_metrics(unfinalized_metrics):
    argument_type = unfinalized_metrics.type_signature
    if not (isinstance(argument_type, computation_types.FederatedType) and
            argument_type.placement is placements.CLIENTS):
      raise TypeError(f'Expected the unfinalized metrics at CLIENTS, found '
                      f'{argument_type}.')
    return build(argument_type.member)(unfinalized_metrics)

  return aggregate_metrics


def sum_then_finalize(
    metric_finalizers: MetricFinalizersType,
    local_unfinalized_metrics_type: Any = None
) -> computation_impl.Computation:
  """Returns a federated computation summing metrics, then finalizing them.

      ({U}@CLIENTS -> F@SERVER)

  with `U` the unfinalized metrics of one client and `F` the finalized ones.

  Args:
    metric_finalizers: A mapping from the top-level names of `U` to
      functions of one unfinalized metric, or one function of all of `U`
      (returning a structure of tensors).
    local_unfinalized_metrics_type: `U`, a struct of numeric tensors (or a
      spec that converts to one). Optional: without it the computation is
      polymorphic, and `U` is its argument's (then the errors below are
      raised when it is traced).

  Raises:
    UnfinalizedMetricsTypeError: if `U` is not a struct of numeric tensors.
    MetricFinalizersTypeError: if the finalizers are not callables.
    MismatchedMetricNamesError: if a mapping of finalizers names other
      metrics than `U`.
  """

  def build(unfinalized_metrics_type):
    unfinalized_type, finalize = build_finalize_computation(
        metric_finalizers, unfinalized_metrics_type)

    @federated_computation.federated_computation(
        computation_types.type_at_clients(unfinalized_type))
    def aggregate_metrics(unfinalized_metrics):
      return intrinsics.federated_map(
          finalize, intrinsics.federated_sum(unfinalized_metrics))

    return aggregate_metrics

  return for_unfinalized_type(build, local_unfinalized_metrics_type)


class SumThenFinalizeFactory:
  """Creates processes that sum and finalize metrics, per round and overall.

  The process created for the unfinalized metrics type `U` (with `F` the
  finalized metrics) is a `tffx.templates.MeasuredProcess`:

      initialize: ( -> U@SERVER)          the sum over all rounds so far
      next: (<U@SERVER, {U}@CLIENTS> ->
             <state=U@SERVER,
              result=<current_round_metrics=F, total_rounds_metrics=F>@SERVER,
              measurements=<>@SERVER>)

  TFF's factory returns an `AggregationProcess`; tffx's `AggregationProcess`
  requires the result to have the type of the value, which finalized
  metrics do not, so this is a `MeasuredProcess` with the same signature.
  """

  def __init__(self,
               metric_finalizers: MetricFinalizersType,
               initial_unfinalized_metrics: Optional[Any] = None):
    """Creates a factory.

    Args:
      metric_finalizers: As for `sum_then_finalize`.
      initial_unfinalized_metrics: Optional starting values of the sum over
        all rounds (a structure of `U`); zeros by default.

    Raises:
      MetricFinalizersTypeError: if the finalizers are not callables.
    """
    if not (callable(metric_finalizers) or
            isinstance(metric_finalizers, Mapping)):
      raise errors.MetricFinalizersTypeError(
          f'Expected metric_finalizers to be a mapping from metric names to '
          f'functions, or one function of all unfinalized metrics, found '
          f'{type(metric_finalizers).__name__}.')
    self._metric_finalizers = metric_finalizers
    self._initial_unfinalized_metrics = initial_unfinalized_metrics

  def create(self, local_unfinalized_metrics_type: Any
            ) -> measured_process.MeasuredProcess:
    """Returns the process for unfinalized metrics of the given type.

    Raises:
      UnfinalizedMetricsTypeError: if the type is not a struct of numeric
        tensors, or the initial metrics do not have that type.
      MismatchedMetricNamesError: see `sum_then_finalize`.
    """
    unfinalized_type, finalize = build_finalize_computation(
        self._metric_finalizers, local_unfinalized_metrics_type)
    specs = type_conversions.to_tf_spec(unfinalized_type)
    initial = self._initial_unfinalized_metrics

    def build_initial_sums():
      if initial is None:
        return tf.nest.map_structure(lambda s: tf.zeros(s.shape, s.dtype),
                                     specs)
      try:
        return tf.nest.map_structure(
            lambda s, v: tf.cast(tf.constant(v), s.dtype), specs, initial)
      except (TypeError, ValueError) as e:
        raise errors.UnfinalizedMetricsTypeError(
            f'Expected initial_unfinalized_metrics structured like '
            f'{unfinalized_type}, found {initial!r} ({e}).') from None

    initial_sums = tensorflow_computation.tf_computation(build_initial_sums)

    if not unfinalized_type.is_assignable_from(
        initial_sums.type_signature.result):
      raise errors.UnfinalizedMetricsTypeError(
          f'Expected initial_unfinalized_metrics of type {unfinalized_type}, '
          f'found {initial_sums.type_signature.result}.')

    @tensorflow_computation.tf_computation(unfinalized_type, unfinalized_type)
    def add(total, current):
      return tf.nest.map_structure(tf.add, total, current)

    @tensorflow_computation.tf_computation(unfinalized_type, unfinalized_type)
    def finalize_both(current, total):
      return finalize(current), finalize(total)

    @federated_computation.federated_computation
    def init_fn():
      return intrinsics.federated_eval(initial_sums, placements.SERVER)

    @federated_computation.federated_computation(
        init_fn.type_signature.result,
        computation_types.type_at_clients(unfinalized_type))
    def next_fn(state, unfinalized_metrics):
      current = intrinsics.federated_sum(unfinalized_metrics)
      total = intrinsics.federated_map(
          add, intrinsics.federated_zip((state, current)))
      finalized = intrinsics.federated_map(
          finalize_both, intrinsics.federated_zip((current, total)))
      return measured_process.MeasuredProcessOutput(
          total, finalized, intrinsics.federated_value((), placements.SERVER))

    return measured_process.MeasuredProcess(init_fn, next_fn)
