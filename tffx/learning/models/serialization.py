"""Models as TensorFlow SavedModels: `save` / `load` and their functional twins.

    save(model, path, input_type=None)       a VariableModel  -> SavedModel
    load(path)                               SavedModel -> a VariableModel
    save_functional_model(model, path)       a FunctionalModel -> SavedModel
    load_functional_model(path)              SavedModel -> a FunctionalModel

As TFF's: the SavedModel holds the model's variables and a `tf.function`
for every method (forward pass and predictions for training and for
inference, metric reports, resets and finalizers; for a functional model,
its initial weights and pure functions), plus a default serving signature
(`predict_on_batch` for inference), so TensorFlow tools (e.g. the TFLite
converter) can read it without tffx. What is loaded behaves as the original
but is not of its Python class.

The saved functions take and return flat lists of tensors; the structure of
their arguments and results (and the input spec) is kept as JSON in
`assets.extra/tffx_structures.json` of the SavedModel (see
`structure_codec`), readable in graph mode too, so `load` works inside a
`model_fn` that the algorithms call in each client's graph. A loaded `metric_finalizers()`
maps names to callables of the (summed) unfinalized values that run the
saved finalizers; they work in TensorFlow graphs, like the original ones.
This module does not train or build computations.
"""

import collections
import json
import os
from typing import Any, Callable, List, Mapping

import tensorflow as tf

from tffx.learning.models import functional
from tffx.learning.models import model_weights as model_weights_lib
from tffx.learning.models import structure_codec
from tffx.learning.models import variable

_STRUCTURES_FILE = 'tffx_structures.json'
_KNOWN = {'BatchOutput': variable.BatchOutput,
          'ModelWeights': model_weights_lib.ModelWeights}


def _flat_function(fn: Callable[..., Any], arg_structures: List[Any],
                   outputs: dict, key: str) -> Any:
  """A `tf.function` of flat tensors around `fn(*args)`; records the output.

  `arg_structures` are structures of `tf.TensorSpec`s (one per argument of
  `fn`); the result's description goes into `outputs[key]`.
  """
  sizes = [len(structure_codec.specs(s)) for s in arg_structures]
  signature = [s for a in arg_structures for s in structure_codec.specs(a)]
  descriptions = [structure_codec.encode(a) for a in arg_structures]

  @tf.function(input_signature=signature)
  def flat_fn(*flat):
    args, start = [], 0
    for description, size in zip(descriptions, sizes):
      args.append(structure_codec.pack(
          _as_leaves(description), flat[start:start + size], _KNOWN))
      start += size
    result = fn(*args)
    outputs[key] = structure_codec.encode(result)
    return [tf.convert_to_tensor(t) for t in structure_codec.flatten(result)]

  flat_fn.get_concrete_function()
  return flat_fn


def _as_leaves(description: Any) -> Any:
  """The description with every spec turned into a (tensor) leaf."""
  if description['kind'] == 'spec':
    return {'kind': 'leaf'}
  if 'items' not in description:
    return description
  items = description['items']
  if description['kind'] in ('odict', 'dict', 'namedtuple'):
    return dict(description, items=[[k, _as_leaves(v)] for k, v in items])
  return dict(description, items=[_as_leaves(v) for v in items])


def _spec_of(value: Any) -> Any:
  """The structure of `tf.TensorSpec`s of a structure of tensors."""
  leaves = structure_codec.flatten(value)
  description = structure_codec.encode(value)
  return structure_codec.pack(description, [
      tf.TensorSpec.from_tensor(tf.convert_to_tensor(t)) for t in leaves
  ], _KNOWN)


def _default_input_type(input_spec: Any) -> Any:
  if isinstance(input_spec, Mapping):
    return input_spec['x']
  return input_spec[0]


def _check_path(path: Any) -> str:
  if not isinstance(path, (str, bytes)) and not hasattr(path, '__fspath__'):
    raise TypeError(f'Expected path to be a str, found {type(path).__name__}.')
  return str(path.__fspath__() if hasattr(path, '__fspath__') else path)


def _structures_path(path: str) -> str:
  return os.path.join(path, 'assets.extra', _STRUCTURES_FILE)


def _write_structures(path: str, structures: str) -> None:
  tf.io.gfile.makedirs(os.path.dirname(_structures_path(path)))
  with tf.io.gfile.GFile(_structures_path(path), 'w') as f:
    f.write(structures)


def _read_structures(path: str) -> Any:
  """The structures `save` wrote next to the SavedModel at `path`.

  Raises:
    ValueError: if there are none (the SavedModel was not written by tffx).
  """
  if not tf.io.gfile.exists(_structures_path(path)):
    raise ValueError(
        f'Expected a model saved by tffx.learning.models.save or '
        f'save_functional_model at {path}, found no '
        f'{_structures_path(path)}.')
  with tf.io.gfile.GFile(_structures_path(path)) as f:
    return json.loads(f.read())


class _SavedVariableModel(tf.Module):
  """What `save` writes: the variables and flat functions of a model."""

  def __init__(self, model: variable.VariableModel, input_type: Any):
    super().__init__()
    self.model_trainable = list(model.trainable_variables)
    self.model_non_trainable = list(model.non_trainable_variables)
    self.model_local = list(model.local_variables)
    outputs = {}
    input_spec = model.input_spec
    self.forward_pass_training = _flat_function(
        lambda b: model.forward_pass(b, training=True), [input_spec], outputs,
        'forward_pass')
    self.forward_pass_inference = _flat_function(
        lambda b: model.forward_pass(b, training=False), [input_spec],
        outputs, 'forward_pass')
    self.predict_on_batch_training = _flat_function(
        lambda x: model.predict_on_batch(x, training=True), [input_type],
        outputs, 'predict_on_batch')
    self.predict_on_batch_inference = _flat_function(
        lambda x: model.predict_on_batch(x, training=False), [input_type],
        outputs, 'predict_on_batch')
    self.report_local_unfinalized_metrics = _flat_function(
        model.report_local_unfinalized_metrics, [], outputs, 'unfinalized')
    self.reset_metrics = _flat_function(lambda: _reset(model), [], outputs,
                                        'reset')
    with tf.init_scope():
      unfinalized = collections.OrderedDict(
          model.report_local_unfinalized_metrics())
      finalizers = model.metric_finalizers()
    names = list(unfinalized)
    if set(finalizers) != set(names):
      raise ValueError(
          f'Expected a metric finalizer for each unfinalized metric '
          f'{names}, found finalizers for {list(finalizers)}.')
    self.metric_finalizer_functions = [
        _flat_function(finalizers[name], [_spec_of(unfinalized[name])],
                       outputs, f'finalizer/{name}') for name in names
    ]
    self.structures = json.dumps({
        'input_spec': structure_codec.encode(input_spec),
        'input_type': structure_codec.encode(input_type),
        'metric_names': names,
        'outputs': outputs,
    })


def _reset(model: variable.VariableModel) -> None:
  model.reset_metrics()


def save(model: variable.VariableModel, path: str, input_type: Any = None
         ) -> None:
  """Writes `model` as a TensorFlow SavedModel to the directory `path`.

  The SavedModel has a default serving signature (`predict_on_batch` for
  inference). What `load` returns is a `VariableModel` that behaves as
  `model` but is not of its class; its `metric_finalizers()` returns
  callables running the saved finalizers.

  Args:
    model: The `tffx.learning.models.VariableModel` to save.
    path: The directory to write.
    input_type: Optional structure of `tf.TensorSpec`s of the inputs of
      `predict_on_batch`; by default `model.input_spec['x']` if the input
      spec is a mapping, else `model.input_spec[0]`.

  Raises:
    TypeError: if `model` is not a `VariableModel` or `path` not a string.
    ValueError: if the metric finalizers do not match the reported metrics.
  """
  variable.check_variable_model(model, 'the model to save')
  path = _check_path(path)
  if input_type is None:
    input_type = _default_input_type(model.input_spec)
  module = _SavedVariableModel(model, input_type)
  tf.saved_model.save(
      module, path,
      signatures={'serving_default': module.predict_on_batch_inference})
  _write_structures(path, module.structures)


class _LoadedFunction:
  """Calls a saved flat function with structures, returns a structure."""

  def __init__(self, flat_fn: Any, output: Any):
    self._flat_fn = flat_fn
    self._output = output

  def __call__(self, *args: Any) -> Any:
    flat = [t for a in args for t in structure_codec.flatten(a)]
    return structure_codec.pack(self._output, self._flat_fn(*flat), _KNOWN)


class _LoadedVariableModel(variable.VariableModel):
  """A `VariableModel` read back by `load`; see the module docstring."""

  def __init__(self, loaded: Any, structures: Any):
    self._loaded = loaded
    outputs = structures['outputs']
    self._input_spec = structure_codec.pack(structures['input_spec'], [])
    self._names = structures['metric_names']
    self._forward = {
        True: _LoadedFunction(loaded.forward_pass_training,
                              outputs['forward_pass']),
        False: _LoadedFunction(loaded.forward_pass_inference,
                               outputs['forward_pass'])}
    self._predict = {
        True: _LoadedFunction(loaded.predict_on_batch_training,
                              outputs['predict_on_batch']),
        False: _LoadedFunction(loaded.predict_on_batch_inference,
                               outputs['predict_on_batch'])}
    self._unfinalized = _LoadedFunction(
        loaded.report_local_unfinalized_metrics, outputs['unfinalized'])
    self._finalizers = collections.OrderedDict(
        (name, _LoadedFunction(fn, outputs[f'finalizer/{name}']))
        for name, fn in zip(self._names, loaded.metric_finalizer_functions))

  @property
  def trainable_variables(self):
    return list(self._loaded.model_trainable)

  @property
  def non_trainable_variables(self):
    return list(self._loaded.model_non_trainable)

  @property
  def local_variables(self):
    return list(self._loaded.model_local)

  @property
  def input_spec(self):
    return self._input_spec

  def forward_pass(self, batch_input, training=True):
    output = self._forward[bool(training)](batch_input)
    return variable.BatchOutput(*output)

  def predict_on_batch(self, x, training=True):
    return self._predict[bool(training)](x)

  def report_local_unfinalized_metrics(self):
    return collections.OrderedDict(self._unfinalized())

  def metric_finalizers(self):
    return collections.OrderedDict(self._finalizers)

  def reset_metrics(self):
    self._loaded.reset_metrics()


def load(path: str) -> variable.VariableModel:
  """Reads the model `save` wrote to `path` as a `VariableModel`.

  Raises:
    TypeError: if `path` is not a string.
  """
  path = _check_path(path)
  return _LoadedVariableModel(tf.saved_model.load(path),
                              _read_structures(path))


class _SavedFunctionalModel(tf.Module):
  """What `save_functional_model` writes: the model's pure functions."""

  def __init__(self, model: functional.FunctionalModel):
    super().__init__()
    outputs = {}
    initial = model.initial_weights
    weights = model_weights_lib.ModelWeights(
        tuple(tf.constant(w) for w in initial.trainable),
        tuple(tf.constant(w) for w in initial.non_trainable))
    weights_spec = _spec_of(weights)
    x_spec, y_spec = functional.check_input_spec(model.input_spec)
    self.initial_weights = _flat_function(lambda: weights, [], outputs,
                                          'initial_weights')
    self.predict_on_batch_training = _flat_function(
        lambda w, x: model.predict_on_batch(w, x, training=True),
        [weights_spec, x_spec], outputs, 'predict_on_batch')
    self.predict_on_batch_inference = _flat_function(
        lambda w, x: model.predict_on_batch(w, x, training=False),
        [weights_spec, x_spec], outputs, 'predict_on_batch')
    output_spec = _result_spec(self.predict_on_batch_inference,
                               outputs['predict_on_batch'])
    self.loss = _flat_function(model.loss, [output_spec, y_spec], outputs,
                               'loss')
    with tf.init_scope():
      state = model.initialize_metrics_state()
    state_spec = _spec_of(state)
    batch_output_spec = variable.BatchOutput(
        loss=tf.TensorSpec([], tf.float32), predictions=output_spec,
        num_examples=tf.TensorSpec([], tf.int64))
    self.initialize_metrics_state = _flat_function(
        model.initialize_metrics_state, [], outputs, 'metrics_state')
    self.update_metrics_state = _flat_function(
        lambda s, y, o: model.update_metrics_state(s, y, o),
        [state_spec, y_spec, batch_output_spec], outputs, 'updated_state')
    self.finalize_metrics = _flat_function(model.finalize_metrics,
                                           [state_spec], outputs, 'finalized')
    self.structures = json.dumps({
        'input_spec': structure_codec.encode(model.input_spec),
        'weights': structure_codec.encode(weights_spec),
        'batch_output': structure_codec.encode(batch_output_spec),
        'outputs': outputs,
    })


def _result_spec(flat_fn: Any, description: Any) -> Any:
  """The structure of `tf.TensorSpec`s of what a flat function returns."""
  concrete = flat_fn.get_concrete_function()
  return structure_codec.pack(description, [
      tf.TensorSpec(t.shape, t.dtype) for t in concrete.outputs], _KNOWN)


def save_functional_model(functional_model: functional.FunctionalModel,
                          path: str) -> None:
  """Writes a `FunctionalModel` as a TensorFlow SavedModel to `path`.

  The loss is saved for calls without `sample_weight`; the model's output
  must be one tensor or a structure the saved `loss` takes as such.

  Raises:
    TypeError: if `functional_model` is not a `FunctionalModel` or `path`
      not a string.
  """
  if not isinstance(functional_model, functional.FunctionalModel):
    raise TypeError(
        f'Expected a tffx.learning.models.FunctionalModel, found '
        f'{type(functional_model).__name__}.')
  path = _check_path(path)
  module = _SavedFunctionalModel(functional_model)
  tf.saved_model.save(module, path)
  _write_structures(path, module.structures)


def load_functional_model(path: str) -> functional.FunctionalModel:
  """Reads the model `save_functional_model` wrote to `path`.

  Raises:
    TypeError: if `path` is not a string.
  """
  path = _check_path(path)
  loaded = tf.saved_model.load(path)
  structures = _read_structures(path)
  outputs = structures['outputs']
  initial = _LoadedFunction(loaded.initial_weights,
                            outputs['initial_weights'])()
  predict = {
      True: _LoadedFunction(loaded.predict_on_batch_training,
                            outputs['predict_on_batch']),
      False: _LoadedFunction(loaded.predict_on_batch_inference,
                             outputs['predict_on_batch'])}
  loss = _LoadedFunction(loaded.loss, outputs['loss'])
  initialize = _LoadedFunction(loaded.initialize_metrics_state,
                               outputs['metrics_state'])
  update = _LoadedFunction(loaded.update_metrics_state,
                           outputs['updated_state'])
  finalize = _LoadedFunction(loaded.finalize_metrics, outputs['finalized'])

  def predict_on_batch(model_weights, x, training=True):
    trainable, non_trainable = model_weights
    weights = model_weights_lib.ModelWeights(tuple(trainable),
                                             tuple(non_trainable))
    return predict[bool(training)](weights, x)

  def update_metrics_state(state, labels, batch_output, sample_weight=None):
    del sample_weight  # The saved update takes none.
    batch_output = variable.BatchOutput(
        tf.cast(batch_output.loss, tf.float32), batch_output.predictions,
        tf.cast(batch_output.num_examples, tf.int64))
    return update(state, labels, batch_output)

  return functional.FunctionalModel(
      initial_weights=(
          tuple(w.numpy() for w in initial.trainable),
          tuple(w.numpy() for w in initial.non_trainable)),
      predict_on_batch_fn=predict_on_batch,
      loss_fn=lambda output, label: loss(output, label),
      metrics_fns=(initialize, update_metrics_state, finalize),
      input_spec=structure_codec.pack(structures['input_spec'], []))
