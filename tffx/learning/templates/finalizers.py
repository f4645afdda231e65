"""`FinalizerProcess`: the server's work at the end of a round of learning.

    initialize: ( -> S@SERVER)
    next:       (<S@SERVER, A@SERVER, B@SERVER> ->
                 <state=S@SERVER, result=A@SERVER, measurements=M@SERVER>)
    get_hparams: (S -> H)        set_hparams: (<S, H> -> S)

`A` is the global model weights and `B` the aggregated update; `next`
returns the new weights. Builders:

    build_apply_optimizer_finalizer(optimizer, weights_type)   w <- opt(w, update)
    build_identity_finalizer(weights_type)                     w <- w

`reject_non_finite_update` is the default `should_reject_update` of the
first: a round whose update holds NaN or infinity keeps the weights and the
optimizer state, and reports `update_non_finite=1` in its measurements.
"""

import collections
from typing import Any, Callable, Optional, Tuple

import tensorflow as tf

from tffx.computations import computation_impl
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.models import model_weights as model_weights_lib
from tffx.learning.optimizers import optimizer as optimizer_base
from tffx.learning.templates import hparams_base
from tffx.learning.templates import type_checks
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.templates import template_checks
from tffx.types import computation_types
from tffx.types import placements
from tffx.types import type_conversions

_SIGNATURE = ('(<S@SERVER, A@SERVER, B@SERVER> -> <state=S@SERVER, '
              'result=A@SERVER, measurements=M@SERVER>)')


class FinalizerResultTypeError(TypeError):
  """The `result` of a finalizer does not fit its model weights argument."""


class FinalizerProcess(measured_process.MeasuredProcess,
                       hparams_base.HparamsMixin):
  """A stateful process for the server's finalization of a round of training.

  Type signatures:

      initialize:  ( -> S@SERVER)
      next:        (<S@SERVER, A@SERVER, B@SERVER> ->
                    <state=S@SERVER, result=A@SERVER, measurements=M@SERVER>)
      get_hparams: (S -> H)
      set_hparams: (<S, H> -> S)

  `A` is the current server model weights, `B` an update to them (often of
  the type of `A`'s trainable part); the `result` is the updated
  ("finalized") weights, assignable to `A`. The output of `next` is a
  `MeasuredProcessOutput`.
  """

  def __init__(self,
               initialize_fn: computation_impl.Computation,
               next_fn: computation_impl.Computation,
               *,
               get_hparams_fn: Optional[computation_impl.Computation] = None,
               set_hparams_fn: Optional[computation_impl.Computation] = None):
    """Creates a `FinalizerProcess`.

    Args:
      initialize_fn: A `tffx.Computation` of type `( -> S@SERVER)`.
      next_fn: A `tffx.Computation` of the type shown in the class docstring.
      get_hparams_fn: An optional `tffx.Computation` of type `(S -> H)`.
        Defaults to one returning an empty `OrderedDict`, whatever the state.
      set_hparams_fn: An optional `tffx.Computation` of type
        `(<S, H> -> S)`. Defaults to a pass-through returning the state
        unchanged, whatever the hparams.

    Raises:
      TypeError: if an argument is not a computation.
      TemplateInitFnParamNotEmptyError: if `initialize_fn` takes an argument.
      TemplateStateNotAssignableError: if the state returned by
        `initialize_fn` or `next_fn` does not fit the first argument of
        `next_fn`.
      TemplateNotMeasuredProcessOutputError: if `next_fn` does not return a
        `MeasuredProcessOutput`.
      TemplateNotFederatedError: if `initialize_fn` or `next_fn` has an
        unplaced argument or result.
      TemplateNextFnNumArgsError: if `next_fn` does not take three arguments.
      TemplatePlacementError: if a federated argument or result is not
        placed at SERVER.
      FinalizerResultTypeError: if the `result` of `next_fn` is not
        assignable to its second argument (the model weights).
      GetHparamsTypeError: if `get_hparams_fn` is not `(S -> H)`.
      SetHparamsTypeError: if `set_hparams_fn` is not `(<S, H> -> S)`.
    """
    super().__init__(initialize_fn, next_fn, next_is_multi_arg=True)
    next_context = type_checks.check_federated_process(
        initialize_fn, next_fn, 3, _SIGNATURE)
    next_type = next_fn.type_signature
    weights_type, update_type = next_type.parameter[1], next_type.parameter[2]
    template_checks.check_placement(weights_type, placements.SERVER,
                                    'the model weights (second argument of '
                                    '`next_fn`)', errors.TemplatePlacementError,
                                    next_context)
    template_checks.check_placement(update_type, placements.SERVER,
                                    'the update (third argument of `next_fn`)',
                                    errors.TemplatePlacementError, next_context)
    output = next_type.result
    template_checks.check_placement(output.result, placements.SERVER,
                                    'the `result` returned by `next_fn`',
                                    errors.TemplatePlacementError, next_context)
    if not weights_type.member.is_assignable_from(output.result.member):
      raise FinalizerResultTypeError(
          f'Expected the `result` returned by `next_fn` (the new model '
          f'weights, {output.result.member}) to be assignable to its second '
          f'argument (the model weights, {weights_type.member}).'
          f'{next_context}\nTip: a finalizer returns updated weights of the '
          f'same type, not the update.')
    template_checks.check_placement(output.measurements, placements.SERVER,
                                    'the `measurements` returned by `next_fn`',
                                    errors.TemplatePlacementError, next_context)
    self._init_hparams(self.state_type.member, get_hparams_fn, set_hparams_fn)


def _check_model_weights_type(model_weights_type) -> computation_types.Type:
  model_weights_type = template_checks.check_unplaced_type(
      model_weights_type, 'model_weights_type')
  container = getattr(model_weights_type, 'python_container', None)
  if container is not model_weights_lib.ModelWeights:
    raise TypeError(
        f'Expected model_weights_type to be a struct with the '
        f'tffx.learning.models.ModelWeights container, found '
        f'{model_weights_type!r}. Tip: build it with computation_types.to_type('
        f'ModelWeights(trainable=..., non_trainable=...)) or infer it from '
        f'initial weights.')
  return model_weights_type


def _empty_server_value():
  return intrinsics.federated_value((), placements.SERVER)


Measurements = 'collections.OrderedDict[str, Any]'
ShouldRejectUpdate = Callable[[Any, Any], Tuple[Any, Optional[Measurements]]]


def reject_non_finite_update(state: Any,
                             update: Any) -> Tuple[tf.Tensor, Measurements]:
  """Rejects an update that holds a NaN or an infinity (TFF's default).

  The default `should_reject_update` of `build_apply_optimizer_finalizer`.

  Args:
    state: The optimizer state after the step (unused).
    update: The update the optimizer was given (a structure of tensors).

  Returns:
    `(should_reject, measurements)`: a bool scalar tensor, and
    `OrderedDict(update_non_finite=int32)`, 1 if the update was rejected
    and 0 otherwise.
  """
  del state  # Only the update decides.
  leaves = [tf.reduce_all(tf.math.is_finite(u)) for u in tf.nest.flatten(update)
            if tf.as_dtype(u.dtype).is_floating]
  all_finite = tf.reduce_all(tf.stack(leaves)) if leaves else tf.constant(True)
  non_finite = tf.logical_not(all_finite)
  return non_finite, collections.OrderedDict(
      update_non_finite=tf.cast(non_finite, tf.int32))


def _keep_if(reject, old: Any, new: Any) -> Any:
  """`old` where `reject` (a bool scalar) holds, else `new`, leaf by leaf."""
  return tf.nest.map_structure(
      lambda o, n: tf.where(reject, tf.convert_to_tensor(o),
                            tf.cast(n, tf.as_dtype(o.dtype))),
      old, new, check_types=False)


def build_apply_optimizer_finalizer(
    optimizer_fn: optimizer_base.Optimizer,
    model_weights_type,
    should_reject_update: ShouldRejectUpdate = reject_non_finite_update
) -> FinalizerProcess:
  """Returns a `FinalizerProcess` applying a step of `optimizer_fn`.

  With `W` the `model_weights_type` (a `ModelWeights` struct) and `T` its
  trainable part:

      initialize:  ( -> S@SERVER)         S: the optimizer state
      next:        (<S@SERVER, W@SERVER, T@SERVER> ->
                    <state=S@SERVER, result=W@SERVER, measurements=M@SERVER>)
      get_hparams: (S -> H)               the optimizer's get_hparams
      set_hparams: (<S, H> -> S)          the optimizer's set_hparams

  The update is treated as the gradient: the trainable weights take one
  optimizer step, the non-trainable weights are kept. Then
  `should_reject_update(new_optimizer_state, update)` decides: if it
  rejects, the weights and the optimizer state of the round before are
  kept. `M` is the measurements it returns (with the default,
  `<update_non_finite=int32>`).

  Args:
    optimizer_fn: A `tffx.learning.optimizers.Optimizer`.
    model_weights_type: The unplaced type of the model weights, with the
      `ModelWeights` container (or a spec that converts to it).
    should_reject_update: `fn(optimizer_state, update) -> (should_reject,
      measurements)`, run in the server's TensorFlow graph: a bool (or bool
      tensor) and an `OrderedDict` of tensors (or None for no
      measurements). Default `reject_non_finite_update`.

  Raises:
    TypeError: if `optimizer_fn` is not an `Optimizer`, `model_weights_type`
      is not an unplaced `ModelWeights` struct, or `should_reject_update` is
      not callable.
  """
  if not isinstance(optimizer_fn, optimizer_base.Optimizer):
    raise TypeError(
        f'Expected optimizer_fn to be a tffx.learning.optimizers.Optimizer, '
        f'found {type(optimizer_fn).__name__}. Tip: use e.g. '
        f'tffx.learning.optimizers.build_sgdm(learning_rate=0.1).')
  if not callable(should_reject_update):
    raise TypeError(
        f'Expected should_reject_update to be a function of (optimizer_state, '
        f'update) returning (should_reject, measurements), found '
        f'{type(should_reject_update).__name__}.')
  optimizer = optimizer_fn
  weights_type = _check_model_weights_type(model_weights_type)
  trainable_type = weights_type.trainable

  @tensorflow_computation.tf_computation
  def init_tf():
    return optimizer.initialize(type_conversions.to_tf_spec(trainable_type))

  state_type = init_tf.type_signature.result

  @tensorflow_computation.tf_computation(state_type, weights_type,
                                         trainable_type)
  def next_tf(state, weights, update):
    new_state, trainable = optimizer.next(state, weights.trainable, update)
    reject, measurements = should_reject_update(new_state, update)
    if measurements is None:
      measurements = collections.OrderedDict()
    if isinstance(reject, bool):
      if reject:
        new_state, trainable = state, weights.trainable
    else:
      reject = tf.cast(reject, tf.bool)
      new_state = _keep_if(reject, state, new_state)
      trainable = _keep_if(reject, weights.trainable, trainable)
    return (new_state,
            model_weights_lib.ModelWeights(trainable, weights.non_trainable),
            measurements)

  @tensorflow_computation.tf_computation(state_type)
  def get_hparams_fn(state):
    return optimizer.get_hparams(state)

  @tensorflow_computation.tf_computation(state_type,
                                         get_hparams_fn.type_signature.result)
  def set_hparams_fn(state, hparams):
    return optimizer.set_hparams(state, hparams)

  @federated_computation.federated_computation
  def init_fn():
    return intrinsics.federated_eval(init_tf, placements.SERVER)

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_server(weights_type),
      computation_types.type_at_server(trainable_type))
  def next_fn(state, weights, update):
    new_state_and_weights = intrinsics.federated_map(
        next_tf, intrinsics.federated_zip((state, weights, update)))
    return measured_process.MeasuredProcessOutput(new_state_and_weights[0],
                                                  new_state_and_weights[1],
                                                  new_state_and_weights[2])

  return FinalizerProcess(
      init_fn,
      next_fn,
      get_hparams_fn=get_hparams_fn,
      set_hparams_fn=set_hparams_fn)


def build_identity_finalizer(model_weights_type,
                             update_type=None) -> FinalizerProcess:
  """Returns a `FinalizerProcess` that keeps the model weights as they are.

  The state and measurements are empty and the update is ignored:

      next: (<<>@SERVER, W@SERVER, U@SERVER> ->
             <state=<>@SERVER, result=W@SERVER, measurements=<>@SERVER>)

  Useful where a learning process must not change the model (evaluation)
  and in tests.

  Args:
    model_weights_type: The unplaced type `W` of the model weights.
    update_type: The unplaced type `U` of the ignored update. Defaults to
      the trainable part of `W` when `W` has the `ModelWeights` container,
      else to `W`.

  Raises:
    TypeError: if a type is not an unplaced value type.
  """
  weights_type = template_checks.check_unplaced_type(model_weights_type,
                                                     'model_weights_type')
  if update_type is None:
    if (isinstance(weights_type, computation_types.StructType) and
        weights_type.python_container is model_weights_lib.ModelWeights):
      update_type = weights_type.trainable
    else:
      update_type = weights_type
  update_type = template_checks.check_unplaced_type(update_type, 'update_type')

  @federated_computation.federated_computation
  def init_fn():
    return _empty_server_value()

  @federated_computation.federated_computation(
      init_fn.type_signature.result,
      computation_types.type_at_server(weights_type),
      computation_types.type_at_server(update_type))
  def next_fn(state, weights, update):
    del update  # The identity ignores it.
    return measured_process.MeasuredProcessOutput(state, weights,
                                                  _empty_server_value())

  return FinalizerProcess(init_fn, next_fn)
