"""Federated SGD: `build_fed_sgd`.

Clients do not train: each computes the gradient of its mean loss over all
its examples at the broadcast weights (batch gradients weighted by batch
size), and the server takes one optimizer step on the example-weighted mean
of these gradients (Shokri and Shmatikov, 2015; McMahan et al., 2017):

    w <- server_opt(w, sum_k n_k g_k / sum_k n_k)

With one client and SGD this is one step of centralized gradient descent on
the client's data. The client work has no state and no hyperparameters;
metrics and the rest are as in `fed_avg`.
"""

import collections
from typing import Any, Callable, Optional, Tuple

import numpy as np
import tensorflow as tf

from tffx.aggregators import factory
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.templates import loop_builder
from tffx.learning.algorithms import fed_avg
from tffx.learning.templates import model_delta_client_work
from tffx.learning.templates import model_training
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import client_works
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import learning_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements

LoopImplementation = loop_builder.LoopImplementation
ModelWeights = model_training.ModelWeights


def mean_gradient(session: model_training.ClientSession,
                  trainable: Tuple[tf.Tensor, ...], dataset: Any,
                  loop: Callable) -> Tuple[Tuple[tf.Tensor, ...], Any,
                                           tf.Tensor]:
  """The mean loss gradient over all of a client's examples at `trainable`.

  Batch gradients are weighted by their example counts. Returns
  `(gradient, metrics_state, num_examples)`: the session's metric state
  after the pass and the int64 number of examples.
  """

  def step(state, batch):
    gradient_sum, metrics_state, num_examples = state
    output, gradients = session.forward(trainable, batch, training=True,
                                        with_gradients=True)
    size = model_training.example_count(batch, output)
    gradient_sum = tuple(s + tf.cast(size, g.dtype) * g
                         for s, g in zip(gradient_sum, gradients))
    return (gradient_sum,
            session.update_metrics(metrics_state, batch, output),
            num_examples + size)

  zeros = tuple(tf.zeros_like(w) for w in trainable)
  gradient_sum, metrics_state, num_examples = loop(
      step, dataset, (zeros, session.initial_metrics_state(),
                      tf.constant(0, tf.int64)))
  gradient = tuple(
      tf.math.divide_no_nan(s, tf.cast(num_examples, s.dtype))
      for s in gradient_sum)
  return gradient, metrics_state, num_examples


def _build_gradient_client_work(model, metrics_aggregator,
                                loop_implementation):
  """A `ClientWorkProcess` returning mean gradients weighted by examples."""
  metrics_aggregator = model_delta_client_work.check_metrics_aggregator(
      metrics_aggregator)
  loop = loop_builder.build_training_loop(loop_implementation)
  weights_type, data_type = model_training.weights_and_data_types(model)

  @tensorflow_computation.tf_computation(weights_type, data_type)
  def client_gradient(weights, dataset):
    session = model_training.start_client(model, weights)
    gradient, metrics_state, num_examples = mean_gradient(
        session, tuple(weights.trainable), dataset, loop)
    unfinalized = session.unfinalized_metrics(metrics_state, gradient)
    gradient, weight = model_training.zero_if_not_finite(
        gradient, tf.cast(num_examples, tf.float32))
    return client_works.ClientResult(gradient, weight), unfinalized

  aggregate_metrics = metrics_aggregator(
      model_training.metric_finalizers(model),
      client_gradient.type_signature.result[1])

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_value((), placements.SERVER)

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_clients(weights_type),
      computation_types.type_at_clients(data_type))
  def next_fn(state, weights, client_data):
    outputs = intrinsics.federated_map(client_gradient, (weights, client_data))
    measurements = intrinsics.federated_zip(
        collections.OrderedDict(train=aggregate_metrics(outputs[1])))
    return measured_process.MeasuredProcessOutput(state, outputs[0],
                                                  measurements)

  return client_works.ClientWorkProcess(init_fn, next_fn)


def build_fed_sgd(
    model_fn: Any,
    server_optimizer_fn: Any = sgdm.build_sgdm(learning_rate=0.1),
    model_distributor: Optional[distributors.DistributionProcess] = None,
    model_aggregator: Optional[factory.WeightedAggregationFactory] = None,
    metrics_aggregator: Optional[Callable] = None,
    loop_implementation: LoopImplementation = LoopImplementation.DATASET_REDUCE
) -> learning_process.LearningProcess:
  """Builds Federated SGD (see the module docstring).

  Args:
    model_fn: A `FunctionalModel`, or a no-argument callable returning a
      `FunctionalModel` or a `VariableModel`.
    server_optimizer_fn: The server `Optimizer` (or a callable returning
      one) applied to the mean gradient; default SGD with learning rate 0.1.
    model_distributor: Optional `DistributionProcess`; default a broadcast.
    model_aggregator: Optional `WeightedAggregationFactory` for the
      gradients, weighted by examples; default `MeanFactory()`.
    metrics_aggregator: As for `build_weighted_fed_avg`.
    loop_implementation: How clients loop over their data.

  Returns:
    A `tffx.learning.templates.LearningProcess` whose hparams are
    `<client_work=<>, finalizer=<server optimizer hparams>>`.

  Raises:
    ModelFnError, OptimizerFnError: for arguments of the wrong kind.
    FactoryTypeError: if `model_aggregator` is not a weighted factory.
    TypeError: for a wrong distributor, metrics aggregator or loop.
  """
  model = model_training.resolve_model(model_fn)
  server_optimizer = model_training.resolve_optimizer(server_optimizer_fn,
                                                      'server_optimizer_fn')
  model_aggregator = fed_avg.check_model_aggregator(model_aggregator, True,
                                                    'build_fed_sgd')
  weights_type, _ = model_training.weights_and_data_types(model)
  client_work = _build_gradient_client_work(model, metrics_aggregator,
                                            loop_implementation)
  return composers.compose_learning_process(
      model_training.build_initial_weights_fn(model),
      fed_avg.check_distributor(model_distributor, weights_type,
                                'build_fed_sgd'), client_work,
      model_aggregator.create(weights_type.trainable, np.float32),
      finalizers.build_apply_optimizer_finalizer(server_optimizer,
                                                 weights_type))
