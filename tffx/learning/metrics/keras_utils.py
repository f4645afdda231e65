"""Keras metrics as pure functions, and finalizers of Keras metrics.

Keras 3 metrics keep their state in variables, but also offer a stateless
form: `metric.stateless_update_state(values, y_true, y_pred)` returns new
values and `metric.stateless_result(values)` the metric. This module wraps
that into the three functions a `FunctionalModel` takes:

    initialize, update, finalize = create_functional_metric_fns(
        lambda: [keras.metrics.SparseCategoricalAccuracy()])
    state = initialize()                      # OrderedDict(name=(values...))
    state = update(state, labels, batch_output)
    finalize(state)                           # OrderedDict(name=result)

The values of most Keras metrics are sums (`total`, `count`, confusion
counts), so states from several clients add up, and finalizing their sum
(`tffx.learning.metrics.sum_then_finalize`) gives the metric over all
clients. Metrics whose state does not add up (e.g. a maximum) are not
summed correctly; this module does not check that.
"""

import collections
from typing import Any, Callable, Mapping, Sequence, Tuple

import keras
import tensorflow as tf

from tffx.learning.metrics import errors
from tffx.learning.metrics import keras_versions
from tffx.learning.metrics import value_variables

is_keras_metric = keras_versions.is_keras_metric

MetricsConstructor = Callable[[], Any]


def _as_named_metrics(metrics: Any,
                      where: str) -> 'collections.OrderedDict[str, Any]':
  """`metrics` (a metric, a list, or a mapping) as an OrderedDict by name."""
  if is_keras_metric(metrics):
    metrics = [metrics]
  if isinstance(metrics, Mapping):
    pairs = list(metrics.items())
  elif isinstance(metrics, Sequence) and not isinstance(metrics, str):
    pairs = [(getattr(m, 'name', None), m) for m in metrics]
  else:
    raise errors.MetricsConstructorError(
        f'Expected {where} to give a Keras metric, a list of them or a '
        f'mapping from names to them, found {type(metrics).__name__}.')
  not_metrics = [name for name, m in pairs if not is_keras_metric(m)]
  if not_metrics:
    raise errors.MetricsConstructorError(
        f'Expected {where} to give keras.metrics.Metric objects, found '
        f'others for {not_metrics}.')
  names = [name for name, _ in pairs]
  if len(set(names)) != len(names):
    raise errors.MetricsConstructorError(
        f'Expected the metrics of {where} to have unique names, found '
        f'{names}. Tip: pass name=... when building the metrics.')
  return collections.OrderedDict(pairs)


_ACCEPTED_CONSTRUCTORS = (
    'one of: a no-argument callable returning a Keras metric, a list of them '
    'or an OrderedDict from names to them (e.g. '
    'keras.metrics.SparseCategoricalAccuracy, or lambda: [...]); or an '
    'OrderedDict from names to no-argument callables each returning a Keras '
    'metric (e.g. OrderedDict(accuracy=keras.metrics.SparseCategoricalAccuracy))')


def as_metrics_constructor(metrics_constructor: Any) -> MetricsConstructor:
  """A no-argument callable for any form of metrics constructor TFF takes.

  A mapping from names to metric constructors (TFF's `MetricConstructors`)
  becomes a callable returning an `OrderedDict` of fresh metrics by name;
  a callable is returned as it is.

  Raises:
    MetricsConstructorError: naming the accepted forms, for anything else.
  """
  if isinstance(metrics_constructor, Mapping):
    constructors = collections.OrderedDict(metrics_constructor)
    bad = [n for n, c in constructors.items()
           if not isinstance(n, str) or not callable(c) or
           is_keras_metric(c)]
    if bad:
      raise errors.MetricsConstructorError(
          f'Expected metrics_constructor to be {_ACCEPTED_CONSTRUCTORS}; found '
          f'a mapping whose entries {bad} are not a string name with a '
          f'no-argument callable (a metric class is one; a metric object is '
          f'not).')
    return lambda: collections.OrderedDict(
        (name, constructor()) for name, constructor in constructors.items())
  if not callable(metrics_constructor) or is_keras_metric(metrics_constructor):
    raise errors.MetricsConstructorError(
        f'Expected metrics_constructor to be {_ACCEPTED_CONSTRUCTORS}; found '
        f'{type(metrics_constructor).__name__}.')
  return metrics_constructor


def _construct(metrics_constructor: Any):
  metrics_constructor = as_metrics_constructor(metrics_constructor)
  # Outside any graph being built, so that the variables are eager and
  # their initial values can be read.
  with tf.init_scope():
    metrics = _as_named_metrics(metrics_constructor(), 'metrics_constructor')
    initial = collections.OrderedDict(
        (name, tuple(v.numpy() for v in metric.variables))
        for name, metric in metrics.items())
  return metrics, initial


def create_functional_metric_fns(
    metrics_constructor: MetricsConstructor
) -> Tuple[Callable[[], Any], Callable[..., Any], Callable[[Any], Any]]:
  """Returns `(initialize, update, finalize)` computing Keras metrics.

      initialize() -> state
      update(state, labels, batch_output, sample_weight=None) -> state
                  (batch_output: a `BatchOutput`, or the predictions)
      finalize(state) -> OrderedDict(name=metric value)

  The state is an `OrderedDict` from metric names to tuples of tensors (the
  values of each metric's variables). All three are pure and can be called
  while a `tffx.tf_computation` is traced.

  Args:
    metrics_constructor: A no-argument callable returning a Keras metric, a
      list of them (named by their `name`) or a mapping from names to them;
      or (TFF's `MetricConstructors`) an `OrderedDict` from names to
      no-argument callables each returning a metric, such as metric classes.
      Constructors are called once, now.

  Raises:
    MetricsConstructorError: if the constructor does not return Keras
      metrics with unique names.
  """
  metrics, initial = _construct(metrics_constructor)
  if any(keras_versions.is_keras2(m) for m in metrics.values()):
    return _keras2_metric_fns(as_metrics_constructor(metrics_constructor),
                              initial)

  initialize = _initialize_fn(initial)

  def update(state, labels, batch_output, sample_weight=None):
    # Keras metrics compare labels with predictions: those of a
    # `BatchOutput` (what the algorithms pass, as in TFF), or the model
    # output itself.
    predictions = getattr(batch_output, 'predictions', batch_output)
    return collections.OrderedDict(
        (name, tuple(metric.stateless_update_state(
            list(state[name]), labels, predictions,
            sample_weight=sample_weight)))
        for name, metric in metrics.items())

  def finalize(state):
    return collections.OrderedDict(
        (name, metric.stateless_result(list(state[name])))
        for name, metric in metrics.items())

  return initialize, update, finalize


def _initialize_fn(initial) -> Callable[[], Any]:
  """`initialize()` returning the initial metric values as tensors, by name."""

  def initialize():
    return collections.OrderedDict(
        (name, tuple(tf.constant(v) for v in values))
        for name, values in initial.items())

  return initialize


def _keras2_metric_fns(metrics_constructor: MetricsConstructor, initial):
  """`create_functional_metric_fns` for Keras 2 metrics (no stateless form).

  Each call builds fresh metrics whose variables are the state's values
  (`value_variables`), runs the metric code, and reads the values back.
  """

  def build():
    return _as_named_metrics(metrics_constructor(), 'metrics_constructor')

  def variables_of(named):
    return [v for m in named.values() for v in m.variables]

  def build_with(state):
    # The creation order is taken where the metrics are built: Keras 2
    # creates extra variables in some contexts.
    order = value_variables.creation_order(build, variables_of)
    flat = [v for values in state.values() for v in values]
    with value_variables.inject_values(flat, order):
      return build()

  def read(named):
    return collections.OrderedDict(
        (name, tuple(tf.convert_to_tensor(v) for v in m.variables))
        for name, m in named.items())

  initialize = _initialize_fn(initial)

  def update(state, labels, batch_output, sample_weight=None):
    predictions = getattr(batch_output, 'predictions', batch_output)
    named = build_with(state)
    for metric in named.values():
      update_state = value_variables.unwrapped(metric.update_state)
      if sample_weight is None:
        update_state(labels, predictions)
      else:
        update_state(labels, predictions, sample_weight=sample_weight)
    return read(named)

  def finalize(state):
    named = build_with(state)
    return collections.OrderedDict(
        (name, value_variables.unwrapped(m.result)())
        for name, m in named.items())

  return initialize, update, finalize


def _keras2_finalizer(metric: Any) -> Callable[[Sequence[Any]], Any]:
  """The finalizer of a Keras 2 metric, which has no stateless result.

  A fresh metric from the same config is built in the graph being traced,
  its variables take the unfinalized values, and its result is read.
  """
  metric_class, config = type(metric), metric.get_config()

  def finalizer(unfinalized_values):
    fresh = metric_class.from_config(config)
    values = list(unfinalized_values)
    if len(values) != len(fresh.variables):
      raise errors.MetricsConstructorError(
          f'Expected {len(fresh.variables)} unfinalized values for the metric '
          f'{fresh.name!r}, found {len(values)}.')
    assignments = [v.assign(x) for v, x in zip(fresh.variables, values)]
    with tf.control_dependencies(assignments):
      return tf.identity(fresh.result())

  return finalizer


def create_keras_metric_finalizer(
    metric: Any) -> Callable[[Sequence[Any]], Any]:
  """Returns `finalizer(unfinalized_values) -> metric value` for a Keras metric.

  `unfinalized_values` are values of the metric's variables, in order
  (e.g. summed over clients); the finalizer is graph-safe. Keras 3 and
  Keras 2 (`tf_keras`, with `TF_USE_LEGACY_KERAS=1`) metrics are accepted.

  Args:
    metric: A Keras metric, or a no-argument callable returning one.

  Raises:
    MetricsConstructorError: if `metric` is neither.
  """
  if not is_keras_metric(metric):
    if not callable(metric):
      raise errors.MetricsConstructorError(
          f'Expected a Keras metric or a no-argument callable returning one, '
          f'found {type(metric).__name__}.')
    with tf.init_scope():
      metric = metric()
    if not is_keras_metric(metric):
      raise errors.MetricsConstructorError(
          f'Expected the metric constructor to return a keras.metrics.Metric, '
          f'found {type(metric).__name__}.')
  if keras_versions.is_keras2(metric):
    return _keras2_finalizer(metric)

  def finalizer(unfinalized_values):
    return metric.stateless_result(list(unfinalized_values))

  return finalizer
