"""What every algorithm does with a model on a client, shared by the algorithms.

    resolve_model(model_fn)              -> FunctionalModel | VariableModelFn
    resolve_optimizer(optimizer_fn, ..)  -> Optimizer
    weights_and_data_types(model)        -> (ModelWeights type, {batch}* type)
    build_initial_weights_fn(model)      -> tf_computation ( -> ModelWeights)
    start_client(model, weights)         -> ClientSession, inside a client graph
    metric_finalizers(model)             -> what `sum_then_finalize` takes

Two kinds of model reach the algorithms, behind one `ClientSession`:

    FunctionalModel   pure functions of the weights: the loop carries the
                      weights and the metric state as tensors
    VariableModel     TFF's legacy interface: `model_fn()` is called in each
    (model_fn)        client graph; the loop carries the trainable weights,
                      assigns them to the variables before each pass, and
                      the metric state lives in the model's variables

A client reports exactly its model's unfinalized metrics, as in TFF (a
model built by `from_keras_model` includes `loss`, `num_examples` and
`num_batches`; other models report only what they define). The loop counts
examples on its own, for weighting clients. This module builds no federated
computation; the algorithm modules do.
"""

import collections
from typing import Any, Callable, Optional, Tuple

import numpy as np
import tensorflow as tf

from tffx.computations import computation_impl
from tffx.computations import tensorflow_computation
from tffx.learning.models import functional
from tffx.learning.models import model_weights as model_weights_lib
from tffx.learning.models import variable
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.learning.templates import errors
from tffx.types import computation_types
from tffx.types import type_conversions

ModelWeights = model_weights_lib.ModelWeights
BatchOutput = variable.BatchOutput


class VariableModelFn:
  """A no-argument callable returning a `VariableModel`, checked once.

  Attributes:
    model_fn: The callable; called again in every client graph.
    initial_weights: `ModelWeights` of numpy arrays, read from one model
      built eagerly now.
    input_spec: That model's `input_spec`.
  """

  def __init__(self, model_fn: Callable[[], variable.VariableModel]):
    with tf.init_scope():
      model = variable.check_variable_model(model_fn(), 'model_fn')
      self.initial_weights = ModelWeights(
          tuple(np.array(v.numpy()) for v in model.trainable_variables),
          tuple(np.array(v.numpy()) for v in model.non_trainable_variables))
    self.model_fn = model_fn
    self.input_spec = model.input_spec


Model = Any  # functional.FunctionalModel or VariableModelFn.


def resolve_model(model_fn: Any) -> Model:
  """The model of `model_fn`: a `FunctionalModel`, or a `VariableModelFn`.

  `model_fn` is a `FunctionalModel`, or a no-argument callable returning a
  `FunctionalModel` or a `VariableModel` (TFF's legacy custom models and
  Keras models wrapped by `from_keras_model`).

  Raises:
    ModelFnError: if `model_fn` is none of these.
  """
  if isinstance(model_fn, (functional.FunctionalModel, VariableModelFn)):
    return model_fn
  if not callable(model_fn) or isinstance(model_fn, variable.VariableModel):
    raise errors.ModelFnError(
        f'Expected model_fn to be a tffx.learning.models.FunctionalModel or '
        f'a no-argument callable returning a FunctionalModel or a '
        f'VariableModel, found {type(model_fn).__name__}. Tip: pass the '
        f'function that builds the model, e.g. model_fn=lambda: MyModel().')
  with tf.init_scope():
    model = model_fn()
  if isinstance(model, functional.FunctionalModel):
    return model
  if isinstance(model, variable.VariableModel):
    return VariableModelFn(model_fn)
  raise errors.ModelFnError(
      f'Expected model_fn to return a tffx.learning.models.FunctionalModel '
      f'or VariableModel, found {type(model).__name__}. Tip: wrap a Keras '
      f'model with tffx.learning.models.from_keras_model(...) inside '
      f'model_fn.')


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
    model: Model
) -> Tuple[computation_types.Type, computation_types.SequenceType]:
  """The types of the model weights and of one client's dataset."""
  initial = model.initial_weights
  weights_type = type_conversions.infer_type(
      ModelWeights(tuple(initial.trainable), tuple(initial.non_trainable)))
  data_type = computation_types.SequenceType(
      computation_types.to_type(model.input_spec))
  return weights_type, data_type


def build_initial_weights_fn(model: Model) -> computation_impl.Computation:
  """A `tffx.tf_computation` `( -> ModelWeights)` of the initial weights."""
  initial = model.initial_weights

  @tensorflow_computation.tf_computation
  def initial_model_weights():
    return ModelWeights(
        tuple(tf.constant(w) for w in initial.trainable),
        tuple(tf.constant(w) for w in initial.non_trainable))

  return initial_model_weights


def metric_finalizers(model: Model) -> Any:
  """The finalizers of the model's metrics, as `sum_then_finalize` takes them."""
  if isinstance(model, VariableModelFn):
    with tf.init_scope():
      return model.model_fn().metric_finalizers()
  return model.finalize_metrics


def batch_size(labels: Any) -> tf.Tensor:
  """The number of examples in a batch (int64), from the leading label dim."""
  return functional.batch_size(labels)


def _dense_gradients(weights: Tuple[tf.Tensor, ...], gradients) -> Tuple:
  return tuple(
      tf.zeros_like(w) if g is None else tf.convert_to_tensor(g)
      for w, g in zip(weights, gradients))


class ClientSession:
  """A model on one client, inside the client's TensorFlow graph.

  The loop state carries the trainable weights and `metrics_state()`; a
  step calls `forward` and then `update_metrics`. After the loop,
  `unfinalized_metrics` gives what the client reports.
  """

  def initial_metrics_state(self) -> Any:
    raise NotImplementedError

  def forward(self, trainable: Tuple[tf.Tensor, ...], batch: Any,
              training: bool,
              with_gradients: bool) -> Tuple[BatchOutput, Optional[Tuple]]:
    """`(BatchOutput, gradients or None)` of one batch with these weights.

    Gradients are of the batch loss with respect to the trainable weights,
    zeros where a weight does not influence the loss.
    """
    raise NotImplementedError

  def update_metrics(self, metrics_state: Any, batch: Any,
                     output: BatchOutput) -> Any:
    raise NotImplementedError

  def unfinalized_metrics(self, metrics_state: Any,
                          after: Any) -> 'collections.OrderedDict':
    """The client's unfinalized metrics, read after the tensors `after`."""
    raise NotImplementedError


class _FunctionalSession(ClientSession):
  """A `FunctionalModel`: everything is a function of the loop state."""

  def __init__(self, model: functional.FunctionalModel, weights: ModelWeights):
    self._model = model
    self._non_trainable = weights.non_trainable

  def initial_metrics_state(self):
    return self._model.initialize_metrics_state()

  def forward(self, trainable, batch, training, with_gradients):
    weights = ModelWeights(trainable, self._non_trainable)
    if not with_gradients:
      return self._model.forward_pass(weights, batch, training=training), None
    with tf.GradientTape() as tape:
      tape.watch(trainable)
      output = self._model.forward_pass(weights, batch, training=training)
    gradients = tape.gradient(output.loss, trainable)
    return output, _dense_gradients(trainable, gradients)

  def update_metrics(self, metrics_state, batch, output):
    _, labels = functional.split_batch(batch)
    return self._model.update_metrics_state(
        metrics_state, labels=labels, batch_output=output)

  def unfinalized_metrics(self, metrics_state, after):
    del after  # The metric state is itself a result of the loop.
    return collections.OrderedDict(metrics_state)


class _VariableSession(ClientSession):
  """A `VariableModel` built in this graph; its metrics live in variables."""

  def __init__(self, model_fn: VariableModelFn, weights: ModelWeights):
    self._model = variable.check_variable_model(model_fn.model_fn(),
                                                'model_fn')
    self._initial_assignments = (
        _assign(self._model.trainable_variables, weights.trainable) +
        _assign(self._model.non_trainable_variables, weights.non_trainable))

  def initial_metrics_state(self):
    return ()

  def forward(self, trainable, batch, training, with_gradients):
    variables = tuple(self._model.trainable_variables)
    assignments = _assign(variables, trainable)
    with tf.control_dependencies(assignments + self._initial_assignments):
      if not with_gradients:
        return self._model.forward_pass(batch, training=training), None
      with tf.GradientTape() as tape:
        output = self._model.forward_pass(batch, training=training)
      gradients = tape.gradient(output.loss, variables)
    return output, _dense_gradients(trainable, gradients)

  def update_metrics(self, metrics_state, batch, output):
    del batch, output  # `forward_pass` updated the metric variables.
    return metrics_state

  def unfinalized_metrics(self, metrics_state, after):
    del metrics_state  # Always ().
    with tf.control_dependencies(tf.nest.flatten(after)):
      return tf.nest.map_structure(
          tf.identity, self._model.report_local_unfinalized_metrics())


def _assign(variables, values) -> list:
  variables, values = tuple(variables), tuple(tf.nest.flatten(values))
  if len(variables) != len(values):
    raise ValueError(
        f'Expected {len(variables)} weights for the model variables, found '
        f'{len(values)}. Tip: model_fn must build the same model each time.')
  return [v.assign(w) for v, w in zip(variables, values)]


def start_client(model: Model, weights: ModelWeights) -> ClientSession:
  """The `ClientSession` of `model` starting from `weights` (in a graph)."""
  if isinstance(model, VariableModelFn):
    return _VariableSession(model, weights)
  return _FunctionalSession(model, weights)


def example_count(batch: Any, output: BatchOutput) -> tf.Tensor:
  """The batch's number of examples (int64): the model's, else the labels'."""
  if output.num_examples is not None:
    return tf.cast(output.num_examples, tf.int64)
  _, labels = functional.split_batch(batch)
  return batch_size(labels)


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


