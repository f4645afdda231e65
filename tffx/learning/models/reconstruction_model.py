"""`ReconstructionModel`: a model whose weights split into global and local.

Federated Reconstruction (`tffx.learning.algorithms.build_fed_recon`) trains
the *global* weights across clients and *reconstructs* the *local* weights on
each client from its own data every round; local weights never leave the
client. As tffx's other models, this one is functional:

    model = ReconstructionModel.from_keras_model_and_layers(
        keras_model, global_layers=[dense_out], local_layers=[user_embedding],
        input_spec=dataset.element_spec)
    output = model.predict_on_batch(global_weights, local_weights, x, training)

where both weights are `ModelWeights` of tensors, and the forward pass is the
Keras model's `stateless_call` with the two parts put back in the Keras
variable order (the Keras model's variables are never changed).
`build_dataset_split_fn` makes the split of a client dataset into the
reconstruction and post-reconstruction datasets. This module does not train.
"""

from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tffx.learning.models import functional
from tffx.learning.models import model_weights as model_weights_lib

ModelWeights = model_weights_lib.ModelWeights
ReconstructionDatasetSplitFn = Callable[[tf.data.Dataset],
                                        Tuple[tf.data.Dataset,
                                              tf.data.Dataset]]

_GLOBAL, _LOCAL = 0, 1


def _positions(all_variables: Sequence[Any], parts: Sequence[Sequence[Any]],
               kind: str) -> List[Tuple[int, int]]:
  """For each Keras variable, `(part, index in part)`; each in exactly one.

  Raises:
    ValueError: if a variable is in two parts (or twice in one), or in none
      (the first sentences are TFF's).
  """
  positions = []
  for variable in all_variables:
    found = [(p, i) for p, part in enumerate(parts)
             for i, v in enumerate(part) if v is variable]
    if len(found) > 1:
      raise ValueError(
          f'The variables must be disjoint, but the {kind} variable '
          f'{variable.path!r} is both global and local (or listed twice).')
    if not found:
      raise ValueError(
          f'Global and local variables must include all trainable and '
          f'non-trainable variables in the Keras model. The {kind} variable '
          f'{variable.path!r} is neither global nor local.')
    positions.append(found[0])
  return positions


def _values(variables: Sequence[Any]) -> Tuple[np.ndarray, ...]:
  with tf.init_scope():
    return tuple(np.array(v.numpy()) for v in variables)


class ReconstructionModel:
  """A model with global and local weights (like TFF's, but functional).

  Build it with `from_keras_model_and_layers` or
  `from_keras_model_and_variables`. Attributes: `input_spec`,
  `global_initial_weights` and `local_initial_weights` (`ModelWeights` of
  numpy arrays); `predict_on_batch(global_weights, local_weights, x,
  training=True)` returns the model output.
  """

  def __init__(self, keras_model: Any, global_variables: ModelWeights,
               local_variables: ModelWeights, input_spec: Any):
    """Use `from_keras_model_and_variables` (or `..._and_layers`)."""
    x_spec, _ = functional.check_input_spec(input_spec)
    self._keras_model = functional.build_keras_model(keras_model, x_spec)
    self._input_spec = input_spec
    self._global_variables = ModelWeights(
        tuple(global_variables.trainable),
        tuple(global_variables.non_trainable))
    self._local_variables = ModelWeights(
        tuple(local_variables.trainable), tuple(local_variables.non_trainable))
    self._trainable_positions = _positions(
        self._keras_model.trainable_variables,
        (self._global_variables.trainable, self._local_variables.trainable),
        'trainable')
    self._non_trainable_positions = _positions(
        self._keras_model.non_trainable_variables,
        (self._global_variables.non_trainable,
         self._local_variables.non_trainable), 'non-trainable')
    # Read now: inside a traced computation the variables have no values.
    self._global_initial_weights = ModelWeights(
        _values(self._global_variables.trainable),
        _values(self._global_variables.non_trainable))
    self._local_initial_weights = ModelWeights(
        _values(self._local_variables.trainable),
        _values(self._local_variables.non_trainable))

  @property
  def input_spec(self) -> Any:
    """The spec of one batch, `(x, y)` or `{'x': ..., 'y': ...}`."""
    return self._input_spec

  @property
  def global_trainable_variables(self) -> Tuple[Any, ...]:
    return self._global_variables.trainable

  @property
  def global_non_trainable_variables(self) -> Tuple[Any, ...]:
    return self._global_variables.non_trainable

  @property
  def local_trainable_variables(self) -> Tuple[Any, ...]:
    return self._local_variables.trainable

  @property
  def local_non_trainable_variables(self) -> Tuple[Any, ...]:
    return self._local_variables.non_trainable

  @property
  def global_initial_weights(self) -> ModelWeights:
    """The global weights when the model was built, as numpy arrays."""
    return self._global_initial_weights

  @property
  def local_initial_weights(self) -> ModelWeights:
    """The local weights when the model was built (each round's start)."""
    return self._local_initial_weights

  def predict_on_batch(self, global_weights: Any, local_weights: Any, x: Any,
                       training: bool = True) -> Any:
    """The output on `x` with these global and local `ModelWeights`."""
    parts = (ModelWeights(*global_weights), ModelWeights(*local_weights))
    trainable = [
        tuple(parts[p].trainable)[i] for p, i in self._trainable_positions
    ]
    non_trainable = [
        tuple(parts[p].non_trainable)[i]
        for p, i in self._non_trainable_positions
    ]
    output, _ = self._keras_model.stateless_call(
        trainable, non_trainable, x, training=training)
    return output

  @staticmethod
  def get_global_variables(model: 'ReconstructionModel') -> ModelWeights:
    """The global (Keras) variables of `model`, as `ModelWeights`."""
    return model._global_variables  # pylint: disable=protected-access

  @staticmethod
  def get_local_variables(model: 'ReconstructionModel') -> ModelWeights:
    """The local (Keras) variables of `model`, as `ModelWeights`."""
    return model._local_variables  # pylint: disable=protected-access

  @staticmethod
  def has_only_global_variables(model: 'ReconstructionModel') -> bool:
    """Whether `model` has no local variables."""
    local = ReconstructionModel.get_local_variables(model)
    return not (local.trainable or local.non_trainable)

  @classmethod
  def from_keras_model_and_variables(
      cls, keras_model: Any, *, global_trainable_variables: Sequence[Any],
      global_non_trainable_variables: Sequence[Any],
      local_trainable_variables: Sequence[Any],
      local_non_trainable_variables: Sequence[Any],
      input_spec: Any) -> 'ReconstructionModel':
    """Builds a `ReconstructionModel` from a Keras 3 model and its variables.

    Every variable of the Keras model must be in exactly one of the four
    lists, trainable ones in a trainable list.

    Raises:
      ValueError: if a Keras variable is in none of the lists, or in two.
      KerasModelError: if `keras_model` is not a Keras model.
      InputSpecError: if `input_spec` is malformed.
    """
    return cls(
        keras_model,
        ModelWeights(global_trainable_variables,
                     global_non_trainable_variables),
        ModelWeights(local_trainable_variables, local_non_trainable_variables),
        input_spec)

  @classmethod
  def from_keras_model_and_layers(cls, keras_model: Any, *,
                                  global_layers: Sequence[Any],
                                  local_layers: Sequence[Any],
                                  input_spec: Any) -> 'ReconstructionModel':
    """Builds a `ReconstructionModel` from a Keras 3 model and its layers.

    The variables of `global_layers` are global, those of `local_layers`
    local; together they must hold every variable of the model.

    Raises:
      ValueError: if a Keras variable belongs to neither or both.
      KerasModelError: if `keras_model` is not a Keras model.
      InputSpecError: if `input_spec` is malformed.
    """
    x_spec, _ = functional.check_input_spec(input_spec)
    keras_model = functional.build_keras_model(keras_model, x_spec)

    def variables(layers, attribute):
      return [v for layer in layers for v in getattr(layer, attribute)]

    return cls.from_keras_model_and_variables(
        keras_model,
        global_trainable_variables=variables(global_layers,
                                             'trainable_variables'),
        global_non_trainable_variables=variables(global_layers,
                                                 'non_trainable_variables'),
        local_trainable_variables=variables(local_layers,
                                            'trainable_variables'),
        local_non_trainable_variables=variables(local_layers,
                                                'non_trainable_variables'),
        input_spec=input_spec)

  @staticmethod
  def build_dataset_split_fn(
      recon_epochs: int = 1,
      recon_steps_max: Optional[int] = None,
      post_recon_epochs: int = 1,
      post_recon_steps_max: Optional[int] = None,
      split_dataset: bool = False) -> ReconstructionDatasetSplitFn:
    """Returns `fn(dataset) -> (reconstruction dataset, post dataset)`.

    With `split_dataset`, the batches at even positions (0, 2, ...) go to
    reconstruction and the others to post-reconstruction; without, both get
    the whole dataset. Each is then repeated for its number of epochs and
    cut to at most its number of steps (batches), if given.

    Raises:
      ValueError: if an epoch count is less than 1 or a step limit less
        than 1.
    """
    for name, value in (('recon_epochs', recon_epochs),
                        ('post_recon_epochs', post_recon_epochs)):
      if value < 1:
        raise ValueError(f'Expected {name} to be at least 1, found {value}.')
    for name, value in (('recon_steps_max', recon_steps_max),
                        ('post_recon_steps_max', post_recon_steps_max)):
      if value is not None and value < 1:
        raise ValueError(
            f'Expected {name} to be None or at least 1, found {value}.')

    def shape(dataset, epochs, steps_max):
      dataset = dataset.repeat(epochs)
      return dataset if steps_max is None else dataset.take(steps_max)

    def split(dataset):
      if split_dataset:
        recon, post = dataset.shard(2, 0), dataset.shard(2, 1)
      else:
        recon, post = dataset, dataset
      return (shape(recon, recon_epochs, recon_steps_max),
              shape(post, post_recon_epochs, post_recon_steps_max))

    return split


def check_reconstruction_model(model_fn: Any) -> ReconstructionModel:
  """The `ReconstructionModel` of `model_fn` (a model or a no-arg callable).

  Raises:
    TypeError: if `model_fn` is neither, or returns something else (TFF's
      message).
  """
  model = model_fn
  if not isinstance(model, ReconstructionModel) and callable(model_fn):
    with tf.init_scope():
      model = model_fn()
  if not isinstance(model, ReconstructionModel):
    raise TypeError(
        f'`model_fn` must return an instance of '
        f'`tffx.learning.models.ReconstructionModel`. Got a: '
        f'{type(model).__name__}')
  return model
