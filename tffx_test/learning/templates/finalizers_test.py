import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.models import model_weights
from tffx.learning.optimizers import sgdm
from tffx.learning.templates import finalizers
from tffx.learning.templates import hparams_base
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation
MeasuredProcessOutput = measured_process.MeasuredProcessOutput
ModelWeights = model_weights.ModelWeights
SERVER = placements.SERVER

_VECTOR = ct.TensorType(np.float32, [2])
_WEIGHTS = ct.to_type(ModelWeights([_VECTOR, np.float32], [np.int32]))
_EMPTY_AT_SERVER = ct.type_at_server(ct.StructType([]))
_ARGS = (_EMPTY_AT_SERVER, ct.type_at_server(_VECTOR),
         ct.type_at_server(_VECTOR))
_add = tf_computation(lambda w, u: w + u, _VECTOR, _VECTOR)


def _server(value):
  return fc(lambda: intrinsics.federated_value(value, SERVER))


def _empty(args):
  del args
  return intrinsics.federated_value((), SERVER)


def _next(result=lambda a: a[1], measurements=_empty, state=lambda a: a[0],
          argument_types=_ARGS):
  return fc(
      lambda *args: MeasuredProcessOutput(state(args), result(args),
                                          measurements(args)), *argument_types)


def _with(index, type_spec):
  types = list(_ARGS)
  types[index] = type_spec
  return tuple(types)


class FinalizerProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('empty_state', _server(()), _next()),
      ('string_state', _server('s'),
       _next(argument_types=_with(0, ct.type_at_server(np.str_)))),
      ('adds_update', _server(()),
       _next(result=lambda a: intrinsics.federated_map(_add, (a[1], a[2])))),
      ('update_type_differs', _server(()),
       _next(argument_types=_with(2, ct.type_at_server(np.str_)))),
      ('nested_dataset_struct_update', _server(()),
       _next(argument_types=_with(2, ct.type_at_server(
           collections.OrderedDict(a=ct.SequenceType(np.float32),
                                   b=[ct.SequenceType(np.int32)]))))),
      ('result_more_specific_than_weights', _server(()),
       _next(result=lambda a: intrinsics.federated_value(
           np.zeros([2], np.float32), SERVER),
             argument_types=_with(1, ct.type_at_server(
                 ct.TensorType(np.float32, [None]))))),
  )
  def test_construction_succeeds(self, init, next_fn):

    process = finalizers.FinalizerProcess(init, next_fn)

    self.assertIs(process.next, next_fn)
    self.assertLen(process.get_hparams.type_signature.result, 0)
    self.assertLen(process.set_hparams.type_signature.parameter, 2)

  def test_raises_type_error_for_non_computation(self):

    with self.assertRaises(TypeError) as cm:
      finalizers.FinalizerProcess(lambda: (), _next())

    self.assertIs(type(cm.exception), TypeError)

  def test_raises_init_fn_param_not_empty_error(self):

    with self.assertRaises(errors.TemplateInitFnParamNotEmptyError):
      finalizers.FinalizerProcess(_add, _next())

  def test_raises_state_not_assignable_error(self):

    with self.assertRaises(errors.TemplateStateNotAssignableError):
      finalizers.FinalizerProcess(_server(1), _next())

  def test_raises_not_measured_process_output_error(self):
    next_fn = fc(lambda s, w, u: (s, w, s), *_ARGS)

    with self.assertRaises(errors.TemplateNotMeasuredProcessOutputError):
      finalizers.FinalizerProcess(_server(()), next_fn)

  @parameterized.named_parameters(
      ('unplaced_init', fc(lambda: ()),
       _next(argument_types=_with(0, ct.StructType([])))),
      ('unplaced_update', _server(()),
       _next(argument_types=_with(2, _VECTOR))),
      ('unplaced_result', _server(()),
       _next(result=lambda a: np.zeros([2], np.float32))),
  )
  def test_raises_not_federated_error(self, init, next_fn):

    with self.assertRaisesRegex(errors.TemplateNotFederatedError, 'unplaced'):
      finalizers.FinalizerProcess(init, next_fn)

  @parameterized.named_parameters(
      ('state_at_clients',
       fc(lambda: intrinsics.federated_value((), placements.CLIENTS)),
       _next(measurements=lambda a: intrinsics.federated_value((), SERVER),
             argument_types=_with(0, ct.type_at_clients(ct.StructType([]),
                                                        True)))),
      ('weights_at_clients', _server(()),
       _next(result=lambda a: a[2],
             argument_types=_with(1, ct.type_at_clients(_VECTOR)))),
      ('update_at_clients', _server(()),
       _next(argument_types=_with(2, ct.type_at_clients(_VECTOR)))),
      ('result_at_clients', _server(()),
       _next(result=lambda a: intrinsics.federated_broadcast(a[1]))),
      ('measurements_at_clients', _server(()),
       _next(measurements=lambda a: intrinsics.federated_broadcast(a[1]))),
  )
  def test_raises_placement_error(self, init, next_fn):

    with self.assertRaisesRegex(errors.TemplatePlacementError,
                                r'to be placed at SERVER'):
      finalizers.FinalizerProcess(init, next_fn)

  @parameterized.named_parameters(
      ('two', _ARGS[:2]),
      ('four', _ARGS + (ct.type_at_server(np.int32),)),
  )
  def test_raises_next_fn_num_args_error(self, argument_types):

    with self.assertRaises(errors.TemplateNextFnNumArgsError):
      finalizers.FinalizerProcess(_server(()),
                                  _next(argument_types=argument_types))

  @parameterized.named_parameters(
      ('update_as_result', _next(argument_types=_with(
          2, ct.type_at_server(np.float32)), result=lambda a: a[2])),
      ('less_specific_result', _next(argument_types=_with(
          2, ct.type_at_server(ct.TensorType(np.float32, [None]))),
                                     result=lambda a: a[2])),
  )
  def test_raises_finalizer_result_type_error(self, next_fn):

    with self.assertRaisesRegex(finalizers.FinalizerResultTypeError,
                                r'to be assignable to its second argument'):
      finalizers.FinalizerProcess(_server(()), next_fn)

  def test_raises_get_hparams_type_error(self):

    with self.assertRaises(hparams_base.GetHparamsTypeError):
      finalizers.FinalizerProcess(
          _server(()), _next(), get_hparams_fn=fc(lambda x: x, np.int32))

  def test_raises_set_hparams_type_error(self):
    set_fn = fc(lambda s, h: 0, ct.StructType([]), ct.StructType([]))

    with self.assertRaises(hparams_base.SetHparamsTypeError):
      finalizers.FinalizerProcess(_server(()), _next(), set_hparams_fn=set_fn)


class RejectNonFiniteUpdateTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('finite', [np.ones([2], np.float32), np.float32(2.0)], False),
      ('nan', [np.array([1.0, np.nan], np.float32), np.float32(2.0)], True),
      ('inf', [np.ones([2], np.float32), np.float32(-np.inf)], True),
      ('int_leaf', [np.ones([2], np.float32), np.int32(3)], False),
  )
  def test_reject_non_finite_update(self, update, expected):

    reject, measurements = finalizers.reject_non_finite_update((), update)

    self.assertEqual(bool(reject), expected)
    self.assertEqual(list(measurements), ['update_non_finite'])
    self.assertEqual(measurements['update_non_finite'].dtype, tf.int32)
    self.assertEqual(int(measurements['update_non_finite']), int(expected))


class BuildApplyOptimizerFinalizerTest(parameterized.TestCase):

  def test_type_signature(self):

    process = finalizers.build_apply_optimizer_finalizer(
        sgdm.build_sgdm(0.1, 0.9), _WEIGHTS)

    self.assertIsInstance(process, finalizers.FinalizerProcess)
    self.assertEqual(
        str(process.next.type_signature),
        '(<state=<learning_rate=float32,momentum=float32,'
        'accumulator=<float32[2],float32>>@SERVER,'
        'weights=<trainable=<float32[2],float32>,non_trainable=<int32>>@SERVER,'
        'update=<float32[2],float32>@SERVER> -> '
        '<state=<learning_rate=float32,momentum=float32,'
        'accumulator=<float32[2],float32>>@SERVER,'
        'result=<trainable=<float32[2],float32>,non_trainable=<int32>>@SERVER,'
        'measurements=<update_non_finite=int32>@SERVER>)')
    self.assertEqual(str(process.get_hparams.type_signature.result),
                     '<learning_rate=float32,momentum=float32>')

  def test_raises_type_error_for_non_callable_should_reject_update(self):

    with self.assertRaisesRegex(TypeError, 'should_reject_update'):
      finalizers.build_apply_optimizer_finalizer(
          sgdm.build_sgdm(0.1), _WEIGHTS, should_reject_update=True)

  @parameterized.named_parameters(
      ('function', lambda: sgdm.build_sgdm()),
      ('none', None),
  )
  def test_raises_type_error_for_non_optimizer(self, optimizer):

    with self.assertRaisesRegex(TypeError, r'Optimizer'):
      finalizers.build_apply_optimizer_finalizer(optimizer, _WEIGHTS)

  @parameterized.named_parameters(
      ('tuple', ct.to_type(([_VECTOR], []))),
      ('federated', ct.type_at_server(_WEIGHTS)),
      ('tensor', _VECTOR),
  )
  def test_raises_type_error_for_bad_weights_type(self, weights_type):

    with self.assertRaisesRegex(TypeError, r'model_weights_type'):
      finalizers.build_apply_optimizer_finalizer(sgdm.build_sgdm(),
                                                 weights_type)


class FinalizerExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_sgd_with_momentum_over_two_rounds_with_hparams_changed(self):
    process = finalizers.build_apply_optimizer_finalizer(
        sgdm.build_sgdm(learning_rate=0.1, momentum=0.9), _WEIGHTS)
    weights = ModelWeights(
        [np.array([1.0, -2.0], np.float32), np.float32(0.5)], [np.int32(7)])
    updates = [[np.array([0.5, -1.0], np.float32), np.float32(2.0)],
               [np.array([1.0, 1.0], np.float32), np.float32(-1.0)]]
    state = process.initialize()

    first = process.next(state, weights, updates[0])
    hparams = process.get_hparams(first.state)
    changed = process.set_hparams(
        first.state, collections.OrderedDict(learning_rate=0.5, momentum=0.5))
    second = process.next(changed, first.result, updates[1])

    # NumPy: a <- m * a + g; w <- w - lr * a.
    w = [np.asarray(v, np.float64) for v in weights.trainable]
    a = [0.9 * 0.0 + np.asarray(g, np.float64) for g in updates[0]]
    w = [wi - 0.1 * ai for wi, ai in zip(w, a)]
    np.testing.assert_allclose(first.result.trainable[0], w[0], rtol=1e-6)
    np.testing.assert_allclose(first.result.trainable[1], w[1], rtol=1e-6)
    self.assertEqual(list(hparams), ['learning_rate', 'momentum'])
    self.assertAlmostEqual(float(hparams['learning_rate']), 0.1, places=6)
    self.assertAlmostEqual(float(hparams['momentum']), 0.9, places=6)
    a = [0.5 * ai + np.asarray(g, np.float64) for ai, g in zip(a, updates[1])]
    w = [wi - 0.5 * ai for wi, ai in zip(w, a)]
    self.assertIsInstance(second.result, ModelWeights)
    np.testing.assert_allclose(second.result.trainable[0], w[0], rtol=1e-6)
    np.testing.assert_allclose(second.result.trainable[1], w[1], rtol=1e-6)
    np.testing.assert_allclose(second.state['accumulator'][0], a[0],
                               rtol=1e-6)
    self.assertEqual(int(second.result.non_trainable[0]), 7)
    self.assertEqual(dict(second.measurements), {'update_non_finite': 0})

  def test_non_finite_update_is_rejected_and_weights_and_state_kept(self):
    process = finalizers.build_apply_optimizer_finalizer(
        sgdm.build_sgdm(learning_rate=0.1, momentum=0.9), _WEIGHTS)
    weights = ModelWeights(
        [np.array([1.0, -2.0], np.float32), np.float32(0.5)], [np.int32(7)])
    finite = [np.array([0.5, -1.0], np.float32), np.float32(2.0)]
    state = process.next(process.initialize(), weights, finite).state
    kept = process.next(process.initialize(), weights, finite).result

    for bad in (np.nan, np.inf):
      output = process.next(state, kept,
                            [np.array([bad, 1.0], np.float32), np.float32(1.0)])

      np.testing.assert_array_equal(output.result.trainable[0],
                                    kept.trainable[0])
      self.assertEqual(float(output.result.trainable[1]),
                       float(kept.trainable[1]))
      np.testing.assert_array_equal(output.state['accumulator'][0],
                                    state['accumulator'][0])
      self.assertEqual(int(output.result.non_trainable[0]), 7)
      self.assertEqual(dict(output.measurements), {'update_non_finite': 1})

  def test_custom_should_reject_update_with_measurements(self):

    def reject_large(state, update):
      del state
      norm = tf.linalg.global_norm(update)
      return norm > 10.0, collections.OrderedDict(update_norm=norm)

    process = finalizers.build_apply_optimizer_finalizer(
        sgdm.build_sgdm(learning_rate=1.0), _WEIGHTS,
        should_reject_update=reject_large)
    weights = ModelWeights(
        [np.array([1.0, -2.0], np.float32), np.float32(0.5)], [np.int32(7)])
    state = process.initialize()

    small = process.next(state, weights,
                         [np.array([3.0, 0.0], np.float32), np.float32(4.0)])
    large = process.next(state, weights,
                         [np.array([30.0, 0.0], np.float32), np.float32(4.0)])

    np.testing.assert_allclose(small.result.trainable[0], [-2.0, -2.0])
    self.assertAlmostEqual(float(small.measurements['update_norm']), 5.0,
                           places=5)
    np.testing.assert_array_equal(large.result.trainable[0], [1.0, -2.0])
    self.assertEqual(str(process.next.type_signature.result.measurements),
                     '<update_norm=float32>@SERVER')

  def test_python_bool_and_no_measurements(self):
    process = finalizers.build_apply_optimizer_finalizer(
        sgdm.build_sgdm(learning_rate=1.0), _WEIGHTS,
        should_reject_update=lambda state, update: (True, None))
    weights = ModelWeights(
        [np.array([1.0, -2.0], np.float32), np.float32(0.5)], [np.int32(7)])

    output = process.next(process.initialize(), weights,
                          [np.ones([2], np.float32), np.float32(1.0)])

    np.testing.assert_array_equal(output.result.trainable[0], [1.0, -2.0])
    self.assertEqual(str(process.next.type_signature.result.measurements),
                     '<>@SERVER')

  def test_identity_finalizer_keeps_weights(self):
    process = finalizers.build_identity_finalizer(_WEIGHTS)
    weights = ModelWeights(
        [np.array([1.0, -2.0], np.float32), np.float32(0.5)], [np.int32(7)])

    output = process.next(process.initialize(), weights,
                          [np.ones([2], np.float32), np.float32(1.0)])

    self.assertEqual(str(process.next.type_signature.parameter[2]),
                     '<float32[2],float32>@SERVER')
    np.testing.assert_array_equal(output.result.trainable[0], [1.0, -2.0])
    self.assertEqual(int(output.result.non_trainable[0]), 7)
    self.assertEqual(output.state, ())


if __name__ == '__main__':
  absltest.main()
