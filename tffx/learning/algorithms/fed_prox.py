"""FedProx: `build_weighted_fed_prox`, `build_unweighted_fed_prox`.

FedAvg whose clients minimize `loss(w) + mu/2 * ||w - w0||^2` (Li et al.,
2020), which keeps client models near the broadcast weights `w0` when data
are heterogeneous. With `proximal_strength` 0 it computes what FedAvg does.
The reported `loss` metric is the model loss, without the proximal term.
Everything else (state, metrics, hparams) is as in `fed_avg`.
"""

from typing import Any, Callable, Optional

from tffx.aggregators import factory
from tffx.learning.templates import client_weight_lib
from tffx.learning.templates import loop_builder
from tffx.learning.algorithms import errors
from tffx.learning.algorithms import fed_avg
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import distributors
from tffx.learning.templates import learning_process

ClientWeighting = client_weight_lib.ClientWeighting
LoopImplementation = loop_builder.LoopImplementation


def _check_proximal_strength(proximal_strength: Any) -> float:
  if (isinstance(proximal_strength, bool) or
      not isinstance(proximal_strength, (int, float)) or
      not proximal_strength >= 0):
    raise errors.ProximalStrengthError(
        f'Expected proximal_strength to be a non-negative number, found '
        f'{proximal_strength!r}. Tip: 0 gives FedAvg; values such as 0.01 to '
        f'1 are typical.')
  return float(proximal_strength)


def build_weighted_fed_prox(
    model_fn: Any,
    proximal_strength: float,
    client_optimizer_fn: Any,
    server_optimizer_fn: Any = sgdm.build_sgdm(learning_rate=1.0),
    client_weighting: Any = ClientWeighting.NUM_EXAMPLES,
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.WeightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    loop_implementation: LoopImplementation = LoopImplementation.DATASET_REDUCE
) -> learning_process.LearningProcess:
  """Builds FedProx with client updates weighted in the mean.

  Args:
    model_fn: As for `build_weighted_fed_avg`.
    proximal_strength: `mu >= 0`, the strength of the proximal term.
    client_optimizer_fn, server_optimizer_fn, client_weighting,
      model_distributor, model_aggregator, metrics_aggregator,
      loop_implementation: As for `build_weighted_fed_avg`.

  Raises:
    ProximalStrengthError: if `proximal_strength` is negative or not a
      number.
    Otherwise as `build_weighted_fed_avg`.
  """
  return fed_avg.build_model_delta_process(
      model_fn, client_optimizer_fn, server_optimizer_fn, True,
      client_weighting, model_distributor, model_aggregator, metrics_aggregator,
      loop_implementation, _check_proximal_strength(proximal_strength),
      'build_weighted_fed_prox')


def build_unweighted_fed_prox(
    model_fn: Any,
    proximal_strength: float,
    client_optimizer_fn: Any,
    server_optimizer_fn: Any = sgdm.build_sgdm(learning_rate=1.0),
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.UnweightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    loop_implementation: LoopImplementation = LoopImplementation.DATASET_REDUCE
) -> learning_process.LearningProcess:
  """Builds FedProx with every client's update counting equally.

  The arguments are those of `build_weighted_fed_prox` without
  `client_weighting`; `model_aggregator` is an unweighted factory.

  Raises:
    As `build_weighted_fed_prox`.
  """
  return fed_avg.build_model_delta_process(
      model_fn, client_optimizer_fn, server_optimizer_fn, False, None,
      model_distributor, model_aggregator, metrics_aggregator,
      loop_implementation, _check_proximal_strength(proximal_strength),
      'build_unweighted_fed_prox')
