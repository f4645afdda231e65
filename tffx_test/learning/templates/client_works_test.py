import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.templates import client_works
from tffx.learning.templates import hparams_base
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation
MeasuredProcessOutput = measured_process.MeasuredProcessOutput
ClientResult = client_works.ClientResult
SERVER = placements.SERVER

_WEIGHTS = ct.TensorType(np.float32, [2])
_DATA = ct.SequenceType(np.float32)
_NESTED_DATA = ct.type_at_clients(
    collections.OrderedDict(
        a=_DATA, b=[ct.SequenceType(collections.OrderedDict(x=np.int32))]))
_EMPTY_AT_SERVER = ct.type_at_server(ct.StructType([]))
_ARGS = (_EMPTY_AT_SERVER, ct.type_at_clients(_WEIGHTS),
         ct.type_at_clients(_DATA))


@tf_computation(_WEIGHTS, _DATA)
def _client_update(weights, data):
  total = data.reduce(np.float32(0), lambda a, x: a + x)
  count = data.reduce(np.float32(0), lambda a, _: a + 1)
  return ClientResult(weights + total, count)


_as_result = tf_computation(lambda w: ClientResult(w, 1.0), _WEIGHTS)
_as_int_result = tf_computation(
    lambda w: ClientResult(tf.cast(w, tf.int32), 1.0), _WEIGHTS)
_as_tuple = tf_computation(lambda w: (w, 1.0), _WEIGHTS)


def _server(value):
  return fc(lambda: intrinsics.federated_value(value, SERVER))


def _empty(args):
  del args
  return intrinsics.federated_value((), SERVER)


def _mapped_result(args):
  return intrinsics.federated_map(_client_update, (args[1], args[2]))


def _next(result=_mapped_result, measurements=_empty, state=lambda a: a[0],
          argument_types=_ARGS):
  return fc(
      lambda *args: MeasuredProcessOutput(state(args), result(args),
                                          measurements(args)), *argument_types)


def _with_state(state_type):
  return (ct.type_at_server(state_type),) + _ARGS[1:]


_get_hparams = fc(lambda s: collections.OrderedDict(lr=s), np.float32)
_set_hparams = fc(lambda s, h: h['lr'], np.float32,
                  ct.to_type(collections.OrderedDict(lr=np.float32)))


class ClientWorkProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('empty_state', _server(()), _next()),
      ('float_state', _server(0.5),
       _next(argument_types=_with_state(np.float32))),
      ('string_state', _server('s'),
       _next(argument_types=_with_state(np.str_))),
      ('nested_dataset_struct', _server(()),
       _next(result=lambda a: intrinsics.federated_map(_as_result, a[1]),
             argument_types=_ARGS[:2] + (_NESTED_DATA,))),
      ('update_type_differs_from_weights', _server(()),
       _next(result=lambda a: intrinsics.federated_map(_as_int_result, a[1]))),
      ('measurements_from_clients', _server(()),
       _next(measurements=lambda a: intrinsics.federated_sum(
           intrinsics.federated_map(_client_update, (a[1], a[2])).update))),
  )
  def test_construction_succeeds(self, init, next_fn):

    process = client_works.ClientWorkProcess(init, next_fn)

    self.assertIs(process.next, next_fn)
    self.assertLen(process.get_hparams.type_signature.result, 0)

  def test_construction_succeeds_with_hparams_fns(self):
    init = _server(0.5)
    next_fn = _next(argument_types=_with_state(np.float32))

    process = client_works.ClientWorkProcess(
        init, next_fn, get_hparams_fn=_get_hparams,
        set_hparams_fn=_set_hparams)

    self.assertIs(process.get_hparams, _get_hparams)
    self.assertIs(process.set_hparams, _set_hparams)

  def test_raises_type_error_for_non_computation(self):

    with self.assertRaises(TypeError) as cm:
      client_works.ClientWorkProcess(_server(()), None)

    self.assertIs(type(cm.exception), TypeError)

  def test_raises_init_fn_param_not_empty_error(self):

    with self.assertRaises(errors.TemplateInitFnParamNotEmptyError):
      client_works.ClientWorkProcess(_client_update, _next())

  def test_raises_state_not_assignable_error(self):

    with self.assertRaises(errors.TemplateStateNotAssignableError):
      client_works.ClientWorkProcess(_server(0), _next())

  def test_raises_not_measured_process_output_error(self):
    next_fn = fc(lambda s, w, d: (s, _mapped_result((s, w, d)), s), *_ARGS)

    with self.assertRaises(errors.TemplateNotMeasuredProcessOutputError):
      client_works.ClientWorkProcess(_server(()), next_fn)

  @parameterized.named_parameters(
      ('unplaced_init', fc(lambda: ()),
       _next(argument_types=(ct.StructType([]),) + _ARGS[1:])),
      ('unplaced_measurements', _server(()),
       _next(measurements=lambda a: np.int32(1))),
  )
  def test_raises_not_federated_error(self, init, next_fn):

    with self.assertRaises(errors.TemplateNotFederatedError):
      client_works.ClientWorkProcess(init, next_fn)

  @parameterized.named_parameters(
      ('state_at_clients',
       fc(lambda: intrinsics.federated_value((), placements.CLIENTS)),
       _next(state=lambda a: a[0], measurements=lambda a: a[0],
             argument_types=(ct.type_at_clients(ct.StructType([]), True),) +
             _ARGS[1:])),
      ('weights_at_server', _server(()),
       _next(result=lambda a: intrinsics.federated_map(
           _client_update, (intrinsics.federated_broadcast(a[1]), a[2])),
             argument_types=(_ARGS[0], ct.type_at_server(_WEIGHTS), _ARGS[2]))),
      ('data_at_server', _server(()),
       _next(result=lambda a: intrinsics.federated_map(_as_result, a[1]),
             argument_types=_ARGS[:2] + (ct.type_at_server(_DATA),))),
      ('result_at_server', _server(()),
       _next(result=lambda a: intrinsics.federated_map(
           _as_result, intrinsics.federated_value(np.zeros([2], np.float32),
                                                  SERVER)))),
      ('measurements_at_clients', _server(()),
       _next(measurements=lambda a: a[1])),
      # As in TFF: an empty struct has no unplaced leaf, so it is refused by
      # the placement check rather than as not federated.
      ('empty_unplaced_measurements', _server(()),
       _next(measurements=lambda a: ())),
  )
  def test_raises_placement_error(self, init, next_fn):

    with self.assertRaisesRegex(errors.TemplatePlacementError,
                                r'to be placed at'):
      client_works.ClientWorkProcess(init, next_fn)

  def test_raises_placement_error_for_non_zipped_result(self):
    # TFF's `test_non_zipped_next_result_raises`: a ClientResult of two
    # CLIENTS values is not one value at CLIENTS.
    def result(args):
      update = intrinsics.federated_map(_client_update, (args[1], args[2]))
      return ClientResult(update.update, update.update_weight)

    with self.assertRaisesRegex(errors.TemplatePlacementError,
                                r'federated_zip'):
      client_works.ClientWorkProcess(_server(()), _next(result=result))

  def test_raises_next_fn_num_args_error(self):
    next_fn = _next(result=lambda a: intrinsics.federated_map(_as_result, a[1]),
                    argument_types=_ARGS[:2])

    with self.assertRaisesRegex(errors.TemplateNextFnNumArgsError,
                                r'exactly 3 arguments, found 2'):
      client_works.ClientWorkProcess(_server(()), next_fn)

  def test_raises_client_data_type_error(self):
    next_fn = _next(result=lambda a: intrinsics.federated_map(_as_result, a[1]),
                    argument_types=_ARGS[:2] +
                    (ct.type_at_clients(np.float32),))

    with self.assertRaisesRegex(client_works.ClientDataTypeError,
                                r'found \{float32\}@CLIENTS'):
      client_works.ClientWorkProcess(_server(()), next_fn)

  def test_raises_client_result_type_error(self):
    next_fn = _next(result=lambda a: intrinsics.federated_map(_as_tuple, a[1]))

    with self.assertRaisesRegex(client_works.ClientResultTypeError,
                                r'Python container: tuple'):
      client_works.ClientWorkProcess(_server(()), next_fn)

  def test_raises_get_hparams_type_error(self):

    with self.assertRaises(hparams_base.GetHparamsTypeError):
      client_works.ClientWorkProcess(
          _server(()), _next(), get_hparams_fn=_get_hparams)

  def test_raises_set_hparams_type_error(self):

    with self.assertRaises(hparams_base.SetHparamsTypeError):
      client_works.ClientWorkProcess(
          _server(()), _next(), set_hparams_fn=_set_hparams)


class ClientWorkExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_next_computes_client_results(self):
    process = client_works.ClientWorkProcess(_server(()), _next())
    weights = [np.array([1.0, 2.0], np.float32)] * 2
    data = [tf.data.Dataset.from_tensor_slices([1.0, 2.0]),
            tf.data.Dataset.from_tensor_slices([5.0])]

    output = process.next(process.initialize(), weights, data)

    self.assertLen(output.result, 2)
    self.assertIsInstance(output.result[0], ClientResult)
    np.testing.assert_allclose(output.result[0].update, [4.0, 5.0])
    np.testing.assert_allclose(output.result[1].update, [6.0, 7.0])
    self.assertEqual([float(r.update_weight) for r in output.result],
                     [2.0, 1.0])
    self.assertEqual(process.get_hparams(()), collections.OrderedDict())


if __name__ == '__main__':
  absltest.main()
