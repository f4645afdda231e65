"""`FunctionalModel`: a model as initial weights and pure functions of weights.

    model = FunctionalModel(
        initial_weights=(trainable, non_trainable),      # arrays
        predict_on_batch_fn=lambda weights, x, training: ...,
        loss_fn=lambda output, label, sample_weight=None: ...,
        metrics_fns=(initialize, update, finalize),      # optional
        input_spec=(x_spec, y_spec))                     # or {'x':.., 'y':..}

Every function takes the weights (or metric state) as an argument and
returns new values: nothing is stored in variables, so the functions can be
called inside a `tffx.tf_computation` with the weights as graph tensors, and
differentiated with a `tf.GradientTape` that watches them. Non-trainable
weights are read by `predict_on_batch`, never updated by it (so e.g. a batch
normalization's moving statistics keep their initial values).

`functional_model_from_keras` builds one from a Keras 3 model through
`model.stateless_call`, or from a Keras 2 model (`tf_keras`) by cloning it
with its variables replaced by the weights (`from_keras_model`, in module
`keras_utils`, wraps a Keras model as a `VariableModel` instead). This
module does not train; the algorithms in `tffx.learning.algorithms` do.
"""

import collections
from typing import Any, Callable, Mapping, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

from tffx.learning.metrics import keras_utils as metrics_keras_utils
from tffx.learning.metrics import keras_versions
from tffx.learning.metrics import value_variables
from tffx.learning.models import errors
from tffx.learning.models import model_weights as model_weights_lib
from tffx.learning.models import variable

ModelWeights = model_weights_lib.ModelWeights
MetricsFns = Tuple[Callable[[], Any], Callable[..., Any], Callable[[Any], Any]]


def _no_metrics():
  return collections.OrderedDict()


def _keep_metrics(state, labels, batch_output, sample_weight=None):
  del labels, batch_output, sample_weight  # No metrics to update.
  return state


def _finalize_no_metrics(state):
  return state


EMPTY_METRICS_FNS: MetricsFns = (_no_metrics, _keep_metrics,
                                 _finalize_no_metrics)


def _as_arrays(weights: Any, what: str) -> Tuple[np.ndarray, ...]:
  if isinstance(weights, (str, bytes, Mapping)) or not isinstance(
      weights, Sequence):
    raise errors.ModelWeightsError(
        f'Expected the {what} weights to be a list or tuple of arrays, found '
        f'{type(weights).__name__}.')
  arrays = []
  for i, weight in enumerate(weights):
    array = np.asarray(weight)
    if array.dtype.kind not in 'biuf':
      raise errors.ModelWeightsError(
          f'Expected the {what} weights to be numeric arrays, found '
          f'{array.dtype} at position {i}.')
    arrays.append(array)
  return tuple(arrays)


def check_input_spec(input_spec: Any) -> Tuple[Any, Any]:
  """Returns `(x_spec, y_spec)` of an input spec.

  Raises:
    InputSpecError: unless `input_spec` is a pair `(x, y)` or a mapping with
      exactly the keys `'x'` and `'y'`, of (structures of) `tf.TensorSpec`s.
  """
  if isinstance(input_spec, Mapping) and set(input_spec) == {'x', 'y'}:
    x_spec, y_spec = input_spec['x'], input_spec['y']
  elif (isinstance(input_spec, Sequence) and
        not isinstance(input_spec, str) and len(input_spec) == 2):
    x_spec, y_spec = input_spec
  else:
    raise errors.InputSpecError(
        f'Expected input_spec to be a pair (x, y) or a mapping with the keys '
        f"'x' and 'y', found {input_spec!r}. Tip: use the element_spec of a "
        f'batched client dataset.')
  leaves = tf.nest.flatten((x_spec, y_spec))
  if not leaves or not all(isinstance(s, tf.TensorSpec) for s in leaves):
    raise errors.InputSpecError(
        f'Expected the x and y of input_spec to be tf.TensorSpecs (or '
        f'structures of them), found {input_spec!r}.')
  return x_spec, y_spec


def split_batch(batch: Any) -> Tuple[Any, Any]:
  """Returns `(x, y)` of a batch shaped like an input spec."""
  if isinstance(batch, Mapping):
    return batch['x'], batch['y']
  return batch[0], batch[1]


def batch_size(labels: Any) -> tf.Tensor:
  """The number of examples in a batch (int64), from the leading label dim."""
  return tf.shape(tf.nest.flatten(labels)[0], out_type=tf.int64)[0]


LOSS_AND_COUNT_NAMES = ('loss', 'num_examples', 'num_batches')


def with_loss_and_counts(metrics_fns: MetricsFns) -> MetricsFns:
  """`metrics_fns` plus the loss and counts TFF's Keras models report.

  After the given metrics come, in this order:

      loss          sum(batch loss * batch size) / sum(batch size)
      num_examples  int64          num_batches  int64

  computed from the `BatchOutput` passed to `update` (its `loss` and
  `num_examples`). The state of each adds up across clients.

  Raises:
    ModelFunctionError: if a given metric already has one of these names.
  """
  initialize, update, finalize = metrics_fns
  clashes = [n for n in initialize() if n in LOSS_AND_COUNT_NAMES]
  if clashes:
    raise errors.ModelFunctionError(
        f'Expected no metrics named {list(LOSS_AND_COUNT_NAMES)}, which '
        f'are added to every Keras model; found {clashes}. Tip: rename the '
        f'metric (e.g. name="mean_loss").')

  def initialize_all():
    state = collections.OrderedDict(initialize())
    state['loss'] = (tf.constant(0.0), tf.constant(0.0))
    state['num_examples'] = tf.constant(0, tf.int64)
    state['num_batches'] = tf.constant(0, tf.int64)
    return state

  def update_all(state, labels, batch_output, sample_weight=None):
    own = collections.OrderedDict(
        (n, v) for n, v in state.items() if n not in LOSS_AND_COUNT_NAMES)
    if sample_weight is None:
      new_state = collections.OrderedDict(update(own, labels, batch_output))
    else:
      new_state = collections.OrderedDict(
          update(own, labels, batch_output, sample_weight=sample_weight))
    count = tf.cast(batch_output.num_examples, tf.int64)
    loss_sum, loss_count = state['loss']
    new_state['loss'] = (
        loss_sum + tf.cast(batch_output.loss, tf.float32) *
        tf.cast(count, tf.float32), loss_count + tf.cast(count, tf.float32))
    new_state['num_examples'] = state['num_examples'] + count
    new_state['num_batches'] = state['num_batches'] + 1
    return new_state

  def finalize_all(state):
    own = collections.OrderedDict(
        (n, v) for n, v in state.items() if n not in LOSS_AND_COUNT_NAMES)
    finalized = collections.OrderedDict(finalize(own))
    finalized['loss'] = tf.math.divide_no_nan(*state['loss'])
    finalized['num_examples'] = state['num_examples']
    finalized['num_batches'] = state['num_batches']
    return finalized

  return initialize_all, update_all, finalize_all


def _check_callable(fn: Any, name: str) -> None:
  if not callable(fn):
    raise errors.ModelFunctionError(
        f'Expected {name} to be callable, found {type(fn).__name__}.')


class FunctionalModel:
  """A model whose forward pass, loss and metrics are pure functions of weights.

  Like `tff.learning.models.FunctionalModel`. The weights are a
  `ModelWeights(trainable, non_trainable)` of tuples of tensors; batches
  are `(x, y)` pairs or `{'x': x, 'y': y}` mappings, as `input_spec`.
  """

  def __init__(self,
               initial_weights: Any,
               predict_on_batch_fn: Callable[..., Any],
               loss_fn: Callable[..., Any],
               metrics_fns: MetricsFns = EMPTY_METRICS_FNS,
               input_spec: Any = None):
    """Creates a `FunctionalModel`.

    Args:
      initial_weights: A pair `(trainable, non_trainable)` (or a
        `ModelWeights`) of lists or tuples of numeric arrays.
      predict_on_batch_fn: `fn(model_weights, x, training) -> output`,
        pure in the weights.
      loss_fn: `fn(output, label, sample_weight=None) -> scalar`, the mean
        loss over the batch (`sample_weight` is passed only when given).
      metrics_fns: `(initialize, update, finalize)`:
        `initialize() -> state` (an `OrderedDict` of structures of numeric
        tensors that add up across clients),
        `update(state, labels, batch_output, sample_weight=None) -> state`,
        `finalize(state) -> OrderedDict` of metric values. Defaults to no
        metrics; see `tffx.learning.metrics.create_functional_metric_fns`.
      input_spec: The spec of one batch: `(x_spec, y_spec)` or
        `{'x': x_spec, 'y': y_spec}` of `tf.TensorSpec`s. Required.

    Raises:
      ModelWeightsError: if `initial_weights` is not a pair of lists of
        arrays.
      ModelFunctionError: if a function is not callable, or `metrics_fns` is
        not a triple.
      InputSpecError: if `input_spec` is missing or malformed.
    """
    if (isinstance(initial_weights, (str, bytes, Mapping)) or
        not isinstance(initial_weights, Sequence) or len(initial_weights) != 2):
      raise errors.ModelWeightsError(
          f'Expected initial_weights to be a pair (trainable, non_trainable) '
          f'of lists of arrays, found {type(initial_weights).__name__}.')
    trainable, non_trainable = initial_weights
    self._initial_weights = ModelWeights(
        _as_arrays(trainable, 'trainable'),
        _as_arrays(non_trainable, 'non_trainable'))
    _check_callable(predict_on_batch_fn, 'predict_on_batch_fn')
    _check_callable(loss_fn, 'loss_fn')
    if (not isinstance(metrics_fns, Sequence) or len(metrics_fns) != 3):
      raise errors.ModelFunctionError(
          f'Expected metrics_fns to be a triple (initialize, update, '
          f'finalize), found {metrics_fns!r}.')
    for name, fn in zip(('initialize', 'update', 'finalize'), metrics_fns):
      _check_callable(fn, f'the {name} function of metrics_fns')
    if input_spec is None:
      raise errors.InputSpecError(
          'Expected an input_spec, the spec of one batch (x, y); found None.')
    check_input_spec(input_spec)
    self._predict_on_batch_fn = predict_on_batch_fn
    self._loss_fn = loss_fn
    self._metrics_fns = tuple(metrics_fns)
    self._input_spec = input_spec

  @property
  def initial_weights(self) -> ModelWeights:
    """The initial `ModelWeights`, of tuples of numpy arrays."""
    return self._initial_weights

  @property
  def input_spec(self) -> Any:
    """The spec of one batch, `(x, y)` or `{'x': ..., 'y': ...}`."""
    return self._input_spec

  def predict_on_batch(self, model_weights: Any, x: Any,
                       training: bool = True) -> Any:
    """The model's output on the inputs `x`, with the given weights."""
    return self._predict_on_batch_fn(model_weights, x, training)

  def forward_pass(self, model_weights: Any, batch_input: Any,
                   training: bool = True) -> variable.BatchOutput:
    """`BatchOutput(loss, predictions, num_examples)` of one batch."""
    x, labels = split_batch(batch_input)
    predictions = self.predict_on_batch(model_weights, x, training)
    return variable.BatchOutput(
        loss=self.loss(predictions, labels),
        predictions=predictions,
        num_examples=batch_size(labels))

  def loss(self, output: Any, label: Any, sample_weight: Any = None) -> Any:
    """The mean loss over a batch of outputs and labels."""
    if sample_weight is None:
      return self._loss_fn(output, label)
    return self._loss_fn(output, label, sample_weight=sample_weight)

  def initialize_metrics_state(self) -> Any:
    """The metric state before any batch."""
    return self._metrics_fns[0]()

  def update_metrics_state(self,
                           state: Any,
                           labels: Any,
                           batch_output: Any,
                           sample_weight: Any = None) -> Any:
    """The metric state after one more batch.

    The algorithms pass the `BatchOutput` of `forward_pass` as
    `batch_output`, as TFF does.
    """
    if sample_weight is None:
      return self._metrics_fns[1](state, labels, batch_output)
    return self._metrics_fns[1](
        state, labels, batch_output, sample_weight=sample_weight)

  def finalize_metrics(self, state: Any) -> Any:
    """The metric values of a (possibly summed) metric state."""
    return self._metrics_fns[2](state)


def build_keras_model(keras_model: Any, x_spec: Any):
  """The built Keras model of `keras_model` (a model or a no-arg callable).

  Raises:
    KerasModelError: if it is not a Keras model, or cannot be built from
      `x_spec`.
  """
  with tf.init_scope():
    if not keras_versions.is_keras_model(keras_model) and callable(keras_model):
      keras_model = keras_model()
    if not keras_versions.is_keras_model(keras_model):
      raise errors.KerasModelError(
          f'Expected a keras.Model (or a no-argument callable returning one), '
          f'found {type(keras_model).__name__}.')
    if not keras_model.built:
      if not isinstance(x_spec, tf.TensorSpec):
        raise errors.KerasModelError(
            f'Expected a built Keras model when x is not one tensor; found an '
            f'unbuilt {type(keras_model).__name__} and x spec {x_spec!r}. '
            f'Tip: start the model with keras.Input(...).')
      keras_model.build(tuple(x_spec.shape))
  return keras_model


def keras_predict_fn(keras_model: Any) -> Callable[..., Any]:
  """`predict_on_batch_fn` of a built Keras model, via `stateless_call`."""

  def predict_on_batch(model_weights, x, training=True):
    trainable, non_trainable = model_weights
    output, _ = keras_model.stateless_call(
        list(trainable), list(non_trainable), x, training=training)
    return output

  return predict_on_batch


def keras2_predict_fn(keras_model: Any) -> Callable[..., Any]:
  """`predict_on_batch_fn` of a built Keras 2 model, which is not stateless.

  Each call clones the model with its variables replaced by the given
  weights (`value_variables`), so the output is a function of them.
  """

  def variables_of(model):
    return list(model.trainable_variables) + list(model.non_trainable_variables)

  def predict_on_batch(model_weights, x, training=True):
    trainable, non_trainable = model_weights
    # Keras 2 creates extra variables in some contexts (eagerly), so the
    # order is taken where the clone is built.
    order = value_variables.creation_order(
        lambda: keras_versions.keras2_clone_model(keras_model), variables_of)
    with value_variables.inject_values(
        list(trainable) + list(non_trainable), order):
      model = keras_versions.keras2_clone_model(keras_model)
    return model(x, training=training)

  return predict_on_batch


def keras_initial_weights(keras_model: Any) -> ModelWeights:
  with tf.init_scope():
    return ModelWeights(
        tuple(np.array(v.numpy()) for v in keras_model.trainable_variables),
        tuple(np.array(v.numpy()) for v in keras_model.non_trainable_variables))


def functional_model_from_keras(
    keras_model: Any,
    loss_fn: Callable[..., Any],
    input_spec: Any,
    metrics_constructor: Optional[Callable[[], Any]] = None
) -> FunctionalModel:
  """Returns a `FunctionalModel` computing what a Keras 3 model computes.

  The initial weights are the model's current variable values; the forward
  pass is `keras_model.stateless_call(trainable, non_trainable, x,
  training=training)`, so the Keras model's variables are never changed.

  Args:
    keras_model: A `keras.Model` (built, or buildable from the x spec), or a
      no-argument callable returning one. If compiled, its loss, metrics and
      optimizer are ignored.
    loss_fn: `fn(y_true, y_pred) -> scalar`, e.g. a `keras.losses.Loss`.
    input_spec: `(x_spec, y_spec)` or `{'x': ..., 'y': ...}` of
      `tf.TensorSpec`s.
    metrics_constructor: Optional no-argument callable returning Keras
      metrics (a metric, a list or a name -> metric mapping); see
      `tffx.learning.metrics.create_functional_metric_fns`.

  Raises:
    InputSpecError: if `input_spec` is malformed.
    KerasModelError: if `keras_model` is not a Keras model.
    ModelFunctionError: if `loss_fn` is not callable.
    MetricsConstructorError: if the metrics constructor does not return
      Keras metrics.
  """
  x_spec, _ = check_input_spec(input_spec)
  _check_callable(loss_fn, 'loss_fn')
  keras_model = build_keras_model(keras_model, x_spec)

  def loss(output, label, sample_weight=None):
    if sample_weight is None:
      return loss_fn(label, output)
    return loss_fn(label, output, sample_weight=sample_weight)

  metrics_fns = EMPTY_METRICS_FNS
  if metrics_constructor is not None:
    metrics_fns = metrics_keras_utils.create_functional_metric_fns(
        metrics_constructor)
  predict_fn = (keras2_predict_fn(keras_model)
                if keras_versions.is_keras2(keras_model) else
                keras_predict_fn(keras_model))
  return FunctionalModel(
      keras_initial_weights(keras_model),
      predict_fn,
      loss,
      metrics_fns=metrics_fns,
      input_spec=input_spec)
