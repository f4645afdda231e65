import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.templates import hparams_base
from tffx.learning.templates import learning_process
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation
LearningProcessOutput = learning_process.LearningProcessOutput
SERVER = placements.SERVER

_DATA = ct.SequenceType(np.float32)
_STATE = ct.type_at_server(np.float32)
_ARGS = (_STATE, ct.type_at_clients(_DATA))
_dataset_sum = tf_computation(
    lambda ds: ds.reduce(np.float32(0), lambda a, x: a + x), _DATA)
_add = tf_computation(lambda x, y: x + y, np.float32, np.float32)


def _server(value):
  return fc(lambda: intrinsics.federated_value(value, SERVER))


def _data_total(args):
  return intrinsics.federated_sum(
      intrinsics.federated_map(_dataset_sum, args[1]))


def _training_state(args):
  return intrinsics.federated_map(_add, (args[0], _data_total(args)))


def _next(state=_training_state, metrics=_data_total, argument_types=_ARGS,
          container=LearningProcessOutput):
  return fc(lambda *args: container(state(args), metrics(args)),
            *argument_types)


_get_weights = fc(lambda s: s, np.float32)
_set_weights = fc(lambda s, w: w, np.float32, np.float32)


_NAMED = collections.OrderedDict(w=np.float32, name=np.str_)
_STRING_STATE_ARGS = dict(
    init=_server(collections.OrderedDict(w=0.0, name='model')),
    next_fn=fc(lambda s, d: LearningProcessOutput(s, s),
               ct.type_at_server(_NAMED), _ARGS[1]),
    get_weights=fc(lambda s: s.w, _NAMED),
    set_weights=fc(lambda s, w: collections.OrderedDict(w=w, name=s.name),
                   _NAMED, np.float32))
_NESTED_DATA = ct.type_at_clients(
    collections.OrderedDict(
        a=_DATA, b=[ct.SequenceType(collections.OrderedDict(x=np.int32))]))


def _process(init=None, next_fn=None, get_weights=None, set_weights=None,
             **kwargs):
  return learning_process.LearningProcess(
      init or _server(0.0), next_fn or _next(), get_weights or _get_weights,
      set_weights or _set_weights, **kwargs)


class LearningProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('float_state', {}),
      ('struct_state_with_string', _STRING_STATE_ARGS),
      ('nested_dataset_struct', dict(next_fn=_next(
          state=lambda a: a[0], metrics=lambda a: a[0],
          argument_types=(_STATE, _NESTED_DATA)))),
      ('metrics_of_other_type', dict(next_fn=_next(
          metrics=lambda a: intrinsics.federated_value('done', SERVER)))),
  )
  def test_construction_succeeds(self, kwargs):

    process = _process(**kwargs)

    self.assertEqual(process.state_type,
                     process.next.type_signature.parameter[0])
    self.assertLen(process.get_hparams.type_signature.result, 0)

  def test_construction_succeeds_with_hparams_fns(self):
    get_fn = fc(lambda s: collections.OrderedDict(w=s), np.float32)
    set_fn = fc(lambda s, h: h.w, np.float32, get_fn.type_signature.result)

    process = _process(get_hparams_fn=get_fn, set_hparams_fn=set_fn)

    self.assertIs(process.get_hparams, get_fn)
    self.assertIs(process.set_hparams, set_fn)

  @parameterized.named_parameters(
      ('initialize_fn', 'init'),
      ('next_fn', 'next_fn'),
      ('get_model_weights', 'get_weights'),
      ('set_model_weights', 'set_weights'),
  )
  def test_raises_type_error_for_non_computation(self, argument):

    with self.assertRaises(TypeError) as cm:
      _process(**{argument: lambda *args: 0})

    self.assertIs(type(cm.exception), TypeError)

  def test_raises_init_fn_param_not_empty_error(self):

    with self.assertRaises(errors.TemplateInitFnParamNotEmptyError):
      _process(init=_get_weights)

  def test_raises_state_not_assignable_error(self):

    with self.assertRaises(errors.TemplateStateNotAssignableError):
      _process(init=_server(0))

  def test_raises_state_not_assignable_error_for_output_state(self):
    next_fn = _next(state=lambda a: intrinsics.federated_value(0, SERVER),
                    metrics=lambda a: a[0])

    with self.assertRaises(errors.TemplateStateNotAssignableError):
      _process(next_fn=next_fn)

  @parameterized.named_parameters(
      ('unplaced_state', dict(
          init=fc(lambda: 0.0),
          next_fn=fc(lambda s, d: LearningProcessOutput(s, s), np.float32,
                     _ARGS[1]))),
      ('state_at_clients', dict(
          init=fc(lambda: intrinsics.federated_value(0.0, placements.CLIENTS)),
          next_fn=fc(lambda s, d: LearningProcessOutput(s, s),
                     ct.type_at_clients(np.float32, True), _ARGS[1]))),
      ('data_at_server', dict(next_fn=_next(
          state=lambda a: a[0], metrics=lambda a: a[0],
          argument_types=(_STATE, ct.type_at_server(_DATA))))),
      ('metrics_at_clients', dict(next_fn=_next(metrics=lambda a: a[1]))),
  )
  def test_raises_placement_error(self, kwargs):

    with self.assertRaises(learning_process.LearningProcessPlacementError):
      _process(**kwargs)

  @parameterized.named_parameters(
      ('measured_process_output', fc(
          lambda s, d: measured_process.MeasuredProcessOutput(s, s, s),
          *_ARGS)),
      ('tuple', _next(container=lambda *x: tuple(x))),
  )
  def test_raises_output_error(self, next_fn):

    with self.assertRaisesRegex(learning_process.LearningProcessOutputError,
                                r'LearningProcessOutput'):
      _process(next_fn=next_fn)

  def test_raises_next_fn_num_args_error(self):
    next_fn = _next(argument_types=_ARGS + (ct.type_at_clients(np.int32),))

    with self.assertRaises(errors.TemplateNextFnNumArgsError):
      _process(next_fn=next_fn)

  def test_raises_sequence_type_error(self):
    next_fn = _next(state=lambda a: a[0], metrics=lambda a: a[0],
                    argument_types=(_STATE, ct.type_at_clients(np.float32)))

    with self.assertRaisesRegex(
        learning_process.LearningProcessSequenceTypeError,
        r'found \{float32\}@CLIENTS'):
      _process(next_fn=next_fn)

  @parameterized.named_parameters(
      ('other_state', fc(lambda s: s, np.int32)),
      ('no_argument', fc(lambda: 0.0)),
      ('placed_state', fc(lambda s: s, _STATE)),
  )
  def test_raises_get_model_weights_error(self, get_weights):

    with self.assertRaises(learning_process.GetModelWeightsTypeSignatureError):
      _process(get_weights=get_weights)

  @parameterized.named_parameters(
      ('one_argument', fc(lambda s: s, np.float32)),
      ('other_state', fc(lambda s, w: w, np.int32, np.float32)),
      ('other_weights', fc(lambda s, w: s, np.float32, np.int32)),
      ('returns_other', fc(lambda s, w: 0, np.float32, np.float32)),
  )
  def test_raises_set_model_weights_error(self, set_weights):

    with self.assertRaises(learning_process.SetModelWeightsTypeSignatureError):
      _process(set_weights=set_weights)

  def test_raises_get_hparams_type_error(self):

    with self.assertRaises(hparams_base.GetHparamsTypeError):
      _process(get_hparams_fn=fc(lambda s: s, np.int32))

  def test_raises_set_hparams_type_error(self):

    with self.assertRaises(hparams_base.SetHparamsTypeError):
      _process(set_hparams_fn=fc(lambda s, h: s, np.int32, np.int32))


class LearningProcessExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_rounds_and_model_weights(self):
    process = _process()
    data = [tf.data.Dataset.from_tensor_slices([1.0, 2.0]),
            tf.data.Dataset.from_tensor_slices([4.0])]
    state = process.initialize()

    for _ in range(2):
      state, metrics = process.next(state, data)
    replaced = process.set_model_weights(state, np.float32(-1.0))

    self.assertEqual(float(metrics), 7.0)
    self.assertEqual(float(process.get_model_weights(state)), 14.0)
    self.assertEqual(float(process.get_model_weights(replaced)), -1.0)
    self.assertEqual(process.get_hparams(state), collections.OrderedDict())
    self.assertEqual(float(process.set_hparams(state, {})), 14.0)


if __name__ == '__main__':
  absltest.main()
