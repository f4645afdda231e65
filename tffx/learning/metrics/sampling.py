"""Metrics sampled per client: `finalize_then_sample` and
`FinalizeThenSampleFactory` (`tffx.learning.metrics`, like TFF's).

Each client finalizes its own metrics; the server collects the finalized
metrics of at most `sample_size` clients, chosen uniformly by reservoir
sampling (`tffx.aggregators.sampling`). A sampled client contributes all of
its metrics, so the i-th entries of all leaves come from one client:

    {U}@CLIENTS --finalize each--> {F}@CLIENTS --sample--> F'@SERVER

where `F'` is `F` with a leading sample dimension on every tensor. The
factory's process also keeps a reservoir over all rounds so far in its
state, merged with each round's sample.
"""

from typing import Any

import numpy as np

from tffx.aggregators import factory
from tffx.aggregators import sampling
from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.learning.metrics import aggregator
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements


def _check_sample_size(sample_size: Any) -> int:
  if not isinstance(sample_size, (int, np.integer)) or isinstance(
      sample_size, bool):
    raise TypeError(f'Expected `sample_size` to be an int, found '
                    f'{type(sample_size).__name__}: {sample_size!r}.')
  if sample_size <= 0:
    raise ValueError('sample_size must be positive.')
  return int(sample_size)


class FinalizeThenSampleFactory(factory.UnweightedAggregationFactory):
  """Creates processes that finalize metrics at clients, then sample them.

  With `R` the reservoir of `tffx.aggregators.sampling` over the finalized
  metrics `F`, and `N` the number of clients with non-finite values per
  leaf of `F` (this round, before sampling):

      initialize: ( -> R@SERVER)         the sample over all rounds so far
      next: (<R@SERVER, {U}@CLIENTS> ->
             <state=R@SERVER,
              result=<F' (this round), F' (all rounds so far)>@SERVER,
              measurements=N@SERVER>)

  `create` takes the finalizers and the unfinalized type (as TFF's does),
  not a value type only. Its processes are `SampleAggregationProcess`es.
  """

  def __init__(self, sample_size: int = 100):
    """Creates the factory.

    Args:
      sample_size: The largest number of clients whose metrics are kept,
        in each round's sample and in the sample over all rounds.

    Raises:
      TypeError: if `sample_size` is not an int.
      ValueError: if `sample_size` is not positive.
    """
    self._sample_size = _check_sample_size(sample_size)

  def create(self, metric_finalizers: aggregator.MetricFinalizersType,
             local_unfinalized_metrics_type: Any
            ) -> sampling.SampleAggregationProcess:
    """Returns the process for the given finalizers and metrics type.

    Raises:
      UnfinalizedMetricsTypeError, MetricFinalizersTypeError,
      MismatchedMetricNamesError: as `sum_then_finalize`.
    """
    unfinalized_type, finalize = aggregator.build_finalize_computation(
        metric_finalizers, local_unfinalized_metrics_type)
    finalized_type = finalize.type_signature.result
    reservoir_type = sampling.build_reservoir_type(finalized_type)
    initial_reservoir = sampling.build_initial_reservoir_fn(finalized_type)
    merge = sampling.build_merge_fn(finalized_type, self._sample_size)
    non_finite = sampling.build_non_finite_count_fn(finalized_type)
    sample_size = self._sample_size

    @federated_computation.federated_computation
    def init_fn():
      return intrinsics.federated_eval(initial_reservoir, placements.SERVER)

    # The state's samples grow over rounds: its type has unknown sizes,
    # where the initial (empty) reservoir's has size 0.
    @federated_computation.federated_computation(
        computation_types.type_at_server(reservoir_type),
        computation_types.type_at_clients(unfinalized_type))
    def next_fn(state, unfinalized_metrics):
      finalized = intrinsics.federated_map(finalize, unfinalized_metrics)
      counts = intrinsics.federated_sum(
          intrinsics.federated_map(non_finite, finalized))
      current = sampling.aggregate_samples(finalized, finalized_type,
                                           sample_size, with_metadata=True)
      total = intrinsics.federated_map(merge, (state, current))
      return measured_process.MeasuredProcessOutput(
          state=total,
          result=intrinsics.federated_zip(
              (current['samples'], total['samples'])),
          measurements=counts)

    return sampling.SampleAggregationProcess(init_fn, next_fn)


def finalize_then_sample(metric_finalizers: aggregator.MetricFinalizersType,
                         local_unfinalized_metrics_type: Any = None,
                         sample_size: int = 100
                        ) -> computation_impl.Computation:
  """Returns a federated computation sampling clients' finalized metrics:

      ({U}@CLIENTS -> F'@SERVER)

  the finalized metrics of at most `sample_size` clients (all of them when
  fewer take part), stacked along a new first dimension per tensor.

  Args:
    metric_finalizers: As for `sum_then_finalize`.
    local_unfinalized_metrics_type: `U`, a struct of numeric tensors;
      optional, as for `sum_then_finalize` (polymorphic without).
    sample_size: The largest number of clients sampled (default 100).

  Raises:
    UnfinalizedMetricsTypeError, MetricFinalizersTypeError,
    MismatchedMetricNamesError: as `sum_then_finalize`.
    TypeError: if `sample_size` is not an int.
    ValueError: if `sample_size` is not positive.
  """
  sampler = FinalizeThenSampleFactory(_check_sample_size(sample_size))

  def build(unfinalized_metrics_type):
    process = sampler.create(metric_finalizers, unfinalized_metrics_type)

    @federated_computation.federated_computation(
        process.next.type_signature.parameter[1])
    def aggregate_metrics(unfinalized_metrics):
      output = process.next(process.initialize(), unfinalized_metrics)
      return output.result[0]

    return aggregate_metrics

  return aggregator.for_unfinalized_type(build,
                                         local_unfinalized_metrics_type)
