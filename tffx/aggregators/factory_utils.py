"""`as_weighted_aggregator`: an unweighted factory used where weights come.

The created process takes `(state, value, weight)` and ignores the weight;
state, result and measurements are those of the unweighted process.
"""

from typing import Any

from tffx.aggregators import factory
from tffx.computations import federated_computation
from tffx.templates import aggregation_process
from tffx.types import computation_types


class _WeightIgnoringFactory(factory.WeightedAggregationFactory):
  """Creates the unweighted process and drops the weight argument."""

  def __init__(self, unweighted: factory.UnweightedAggregationFactory):
    self._unweighted = unweighted

  def create(self, value_type: Any,
             weight_type: Any) -> aggregation_process.AggregationProcess:
    process = self._unweighted.create(value_type)
    weight_type = factory.check_weight_type(weight_type,
                                            'as_weighted_aggregator(...).create')
    state_type, value_at_clients = process.next.type_signature.parameter

    @federated_computation.federated_computation(
        state_type, value_at_clients,
        computation_types.type_at_clients(weight_type))
    def next_fn(state, value, weight):
      del weight  # Unused: the inner aggregation is unweighted.
      return process.next(state, value)

    return aggregation_process.AggregationProcess(process.initialize, next_fn)


def as_weighted_aggregator(
    unweighted_aggregator: factory.UnweightedAggregationFactory
) -> factory.WeightedAggregationFactory:
  """Returns a weighted factory whose processes ignore the weights.

  Raises:
    FactoryTypeError: if `unweighted_aggregator` is not an
      `UnweightedAggregationFactory`.
  """
  factory.check_factory(unweighted_aggregator,
                        factory.UnweightedAggregationFactory,
                        'unweighted_aggregator', 'as_weighted_aggregator')
  return _WeightIgnoringFactory(unweighted_aggregator)
