"""What every algorithm does with a model on a client, shared by the algorithms.

    resolve_model(model_fn)              -> FunctionalModel
    resolve_optimizer(optimizer_fn, ..)  -> Optimizer
    weights_and_data_types(model)        -> (ModelWeights type, {batch}* type)
    build_initial_weights_fn(model)      -> tf_computation ( -> ModelWeights)

and the metrics of a client's pass over its data. On top of the model's own
metrics, every algorithm reports, per round and summed over clients:

    loss          sum(batch loss * batch size) / sum(batch size)
    num_examples  int64          num_batches  int64

A client's metrics stay *unfinalized* (sums) until the server has summed
them; `build_metrics_finalizer` turns the sums into values:

    unfinalized = <model metric states..., loss=<loss_sum, count>,
                   num_examples, num_batches>
    finalized   = <model metrics..., loss, num_examples, num_batches>

This module builds no federated computation; the algorithm modules do.
"""

import collections
from typing import Any, Callable, Mapping, NamedTuple, Tuple

import tensorflow as tf

from tffx.computations import computation_impl
from tffx.computations import tensorflow_computation
from tffx.learning.algorithms import errors
from tffx.learning.models import functional
from tffx.learning.models import model_weights as model_weights_lib
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.types import computation_types

ModelWeights = model_weights_lib.ModelWeights
RESERVED_METRIC_NAMES = ('loss', 'num_examples', 'num_batches')


def resolve_model(model_fn: Any) -> functional.FunctionalModel:
  """The `FunctionalModel` of `model_fn` (a model, or a no-arg callable).

  Raises:
    ModelFnError: if `model_fn` is neither, or returns something else.
    ReservedMetricNameError: if a model metric is named like a metric the
      algorithms report (`RESERVED_METRIC_NAMES`).
  """
  model = model_fn
  if not isinstance(model, functional.FunctionalModel):
    if not callable(model_fn):
      raise errors.ModelFnError(
          f'Expected model_fn to be a tffx.learning.models.FunctionalModel or '
          f'a no-argument callable returning one, found '
          f'{type(model_fn).__name__}.')
    with tf.init_scope():
      model = model_fn()
  if not isinstance(model, functional.FunctionalModel):
    raise errors.ModelFnError(
        f'Expected model_fn to return a tffx.learning.models.FunctionalModel, '
        f'found {type(model).__name__}. Tip: wrap a Keras model with '
        f'tffx.learning.models.from_keras_model(...).')
  with tf.init_scope():
    metrics_state = model.initialize_metrics_state()
  if not isinstance(metrics_state, Mapping):
    raise errors.ModelFnError(
        f'Expected the model metric state to be a mapping from metric names '
        f'to states, found {type(metrics_state).__name__}.')
  reserved = [n for n in metrics_state if n in RESERVED_METRIC_NAMES]
  if reserved:
    raise errors.ReservedMetricNameError(
        f'Expected no model metrics named {list(RESERVED_METRIC_NAMES)}, which '
        f'the algorithms report themselves; found {reserved}. Tip: rename the '
        f'metric (e.g. name="mean_loss").')
  return model


def resolve_optimizer(optimizer_fn: Any,
                      argument: str) -> optimizer_base.Optimizer:
  """The `Optimizer` of `optimizer_fn` (an optimizer, or a no-arg callable).

  Raises:
    OptimizerFnError: if `optimizer_fn` is neither.
  """
  optimizer = optimizer_fn
  if not isinstance(optimizer, optimizer_base.Optimizer) and callable(
      optimizer_fn):
    optimizer = optimizer_fn()
  if not isinstance(optimizer, optimizer_base.Optimizer):
    raise errors.OptimizerFnError(
        f'Expected {argument} to be a tffx.learning.optimizers.Optimizer or '
        f'a no-argument callable returning one, found '
        f'{type(optimizer).__name__}. Tip: use e.g. '
        f'tffx.learning.optimizers.build_sgdm(learning_rate=0.1).')
  return optimizer


def weights_and_data_types(
    model: functional.FunctionalModel
) -> Tuple[computation_types.Type, computation_types.SequenceType]:
  """The types of the model weights and of one client's dataset."""
  weights_type = model_weights_lib.weights_type_from_model(model)
  data_type = computation_types.SequenceType(
      computation_types.to_type(model.input_spec))
  return weights_type, data_type


def build_initial_weights_fn(
    model: functional.FunctionalModel) -> computation_impl.Computation:
  """A `tffx.tf_computation` `( -> ModelWeights)` of the initial weights."""
  initial = model.initial_weights

  @tensorflow_computation.tf_computation
  def initial_model_weights():
    return ModelWeights(
        tuple(tf.constant(w) for w in initial.trainable),
        tuple(tf.constant(w) for w in initial.non_trainable))

  return initial_model_weights


def batch_size(labels: Any) -> tf.Tensor:
  """The number of examples in a batch (int64), from the leading label dim."""
  return tf.shape(tf.nest.flatten(labels)[0], out_type=tf.int64)[0]


class MetricsState(NamedTuple):
  """The metric sums a client carries through its loop."""
  model: Any
  loss_sum: Any
  num_examples: Any
  num_batches: Any


def initial_metrics_state(model: functional.FunctionalModel) -> MetricsState:
  return MetricsState(model.initialize_metrics_state(), tf.constant(0.0),
                      tf.constant(0, tf.int64), tf.constant(0, tf.int64))


def update_metrics_state(model: functional.FunctionalModel,
                         state: MetricsState, labels: Any, output: Any,
                         loss: tf.Tensor) -> MetricsState:
  """The sums after one batch with the given labels, output and mean loss."""
  size = batch_size(labels)
  return MetricsState(
      model.update_metrics_state(state.model, labels=labels,
                                 batch_output=output),
      state.loss_sum + tf.cast(loss, tf.float32) * tf.cast(size, tf.float32),
      state.num_examples + size, state.num_batches + 1)


def unfinalized_metrics(state: MetricsState) -> 'collections.OrderedDict':
  """The client's unfinalized metrics (see the module docstring)."""
  metrics = collections.OrderedDict(state.model)
  metrics['loss'] = (state.loss_sum, tf.cast(state.num_examples, tf.float32))
  metrics['num_examples'] = state.num_examples
  metrics['num_batches'] = state.num_batches
  return metrics


def build_metrics_finalizer(
    model: functional.FunctionalModel) -> Callable[[Any], Any]:
  """`fn(unfinalized) -> finalized` for the metrics of `unfinalized_metrics`."""

  def finalize(unfinalized):
    model_state = collections.OrderedDict(
        (n, v) for n, v in unfinalized.items()
        if n not in RESERVED_METRIC_NAMES)
    finalized = collections.OrderedDict(model.finalize_metrics(model_state))
    loss_sum, count = unfinalized['loss']
    finalized['loss'] = tf.math.divide_no_nan(loss_sum, count)
    finalized['num_examples'] = unfinalized['num_examples']
    finalized['num_batches'] = unfinalized['num_batches']
    return finalized

  return finalize


def watched_loss_and_gradients(model: functional.FunctionalModel,
                               weights: ModelWeights, x: Any, labels: Any):
  """`(output, loss, gradients)` of one training batch.

  The gradients are of the mean batch loss with respect to the trainable
  weights, zeros where a weight does not influence the loss.
  """
  trainable = tuple(weights.trainable)
  with tf.GradientTape() as tape:
    tape.watch(trainable)
    output = model.predict_on_batch(
        ModelWeights(trainable, weights.non_trainable), x, training=True)
    loss = model.loss(output, labels)
  gradients = tape.gradient(loss, trainable)
  gradients = tuple(
      tf.zeros_like(w) if g is None else tf.convert_to_tensor(g)
      for w, g in zip(trainable, gradients))
  return output, loss, gradients


def zero_if_not_finite(update: Any, weight: tf.Tensor) -> Tuple[Any, Any]:
  """`(update, weight)`, or zeros and weight 0 if the update has NaN/inf.

  A client whose training diverged then does not poison the aggregate.
  """
  finite = tf.reduce_all([
      tf.reduce_all(tf.math.is_finite(u)) for u in tf.nest.flatten(update)
  ] or [tf.constant(True)])
  update = tf.nest.map_structure(
      lambda u: tf.where(finite, u, tf.zeros_like(u)), update)
  return update, tf.where(finite, weight, tf.zeros_like(weight))
