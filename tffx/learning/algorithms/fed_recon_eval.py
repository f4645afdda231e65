"""Evaluation of a `ReconstructionModel`: `build_fed_recon_eval`.

Each client splits its data with `dataset_split_fn` into `(support, query)`,
reconstructs the local weights on `support` (global weights frozen, as in
`fed_recon`), then evaluates global and reconstructed local weights on
`query` (`training=False`). Like `build_fed_eval`, the model never changes;
metrics, summed over clients and finalized at the server:

    <distributor=<>,
     client_work=<eval=<current_round_metrics=<metrics_fn()..., loss>,
                        total_rounds_metrics=<...>>>,
     aggregator=<>, finalizer=<>>
"""

import collections
from typing import Any, Callable, Optional, Sequence

from tffx.computations import tensorflow_computation
from tffx.learning.algorithms import fed_avg
from tffx.learning.algorithms import fed_eval
from tffx.learning.algorithms import fed_recon
from tffx.learning.templates import model_training
from tffx.learning.models import functional
from tffx.learning.models import reconstruction_model
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import client_works
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import learning_process
from tffx.templates import measured_process
from tffx.types import computation_types

ModelWeights = model_training.ModelWeights
_EMPTY = computation_types.StructType([])


def build_fed_recon_eval(
    model_fn: Any,
    *,
    loss_fn: Callable[[], Any],
    metrics_fn: Optional[Callable[[], Sequence[Any]]] = None,
    reconstruction_optimizer_fn: Any = sgdm.build_sgdm(learning_rate=0.1),
    dataset_split_fn: Optional[
        reconstruction_model.ReconstructionDatasetSplitFn] = None,
    model_distributor: Optional[distributors.DistributionProcess] = None,
    metrics_aggregation_process: Optional[
        measured_process.MeasuredProcess] = None
) -> learning_process.LearningProcess:
  """Builds the evaluation of a `ReconstructionModel` (module docstring).

  Evaluate trained global weights by putting them in the state:
  `state = evaluation.set_model_weights(evaluation.initialize(), weights)`.

  Args:
    model_fn: A `ReconstructionModel`, or a no-argument callable returning
      one.
    loss_fn: A no-argument callable returning a Keras loss, used to
      reconstruct and reported (as the mean over query examples) as `loss`.
    metrics_fn: Optional no-argument callable returning Keras metrics.
    reconstruction_optimizer_fn: The `Optimizer` of the local weights;
      default SGD with learning rate 0.1.
    dataset_split_fn: Default `ReconstructionModel.build_dataset_split_fn(
      split_dataset=True)`.
    model_distributor: Optional `DistributionProcess` of the global weights.
    metrics_aggregation_process: Optional process summing and finalizing
      the metrics, as for `build_fed_eval`; default that of
      `tffx.learning.metrics.SumThenFinalizeFactory`.

  Returns:
    A `tffx.learning.templates.LearningProcess` that leaves the weights
    unchanged.

  Raises:
    TypeError: if `model_fn` does not give a `ReconstructionModel`, or an
      argument is of the wrong kind.
  """
  model = reconstruction_model.check_reconstruction_model(model_fn)
  if dataset_split_fn is None:
    dataset_split_fn = (
        reconstruction_model.ReconstructionModel.build_dataset_split_fn(
            split_dataset=True))
  client = fed_recon.ReconstructionClient(model, loss_fn, metrics_fn)
  reconstruction_optimizer = model_training.resolve_optimizer(
      reconstruction_optimizer_fn, 'reconstruction_optimizer_fn')

  @tensorflow_computation.tf_computation(client.weights_type, client.data_type)
  def client_eval(global_weights, dataset):
    support, query = dataset_split_fn(dataset)
    global_weights = ModelWeights(tuple(global_weights.trainable),
                                  tuple(global_weights.non_trainable))
    local = client.reconstruct(global_weights, support,
                               reconstruction_optimizer)

    def step(metrics_state, batch):
      x, labels = functional.split_batch(batch)
      output = model.predict_on_batch(global_weights, local, x,
                                      training=False)
      return client.update_metrics(metrics_state, labels, output)

    metrics_state = query.reduce(client.initial_metrics_state(), step)
    return (client_works.ClientResult((), ()),
            collections.OrderedDict(metrics_state))

  client_work = fed_eval.build_eval_client_work(
      client_eval, client.weights_type, client.data_type,
      client.finalize_metrics, metrics_aggregation_process)

  return composers.compose_learning_process(
      fed_recon.build_initial_global_weights_fn(model),
      fed_avg.check_distributor(model_distributor, client.weights_type,
                                'build_fed_recon_eval'),
      client_work,
      fed_eval.build_empty_aggregator(),
      finalizers.build_identity_finalizer(client.weights_type,
                                          update_type=_EMPTY))
