import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.templates import distributors
from tffx.learning.templates import hparams_base
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation
MeasuredProcessOutput = measured_process.MeasuredProcessOutput
SERVER = placements.SERVER

_VALUE = ct.TensorType(np.float32, [2])
_EMPTY_AT_SERVER = ct.type_at_server(ct.StructType([]))
_ARGS = (_EMPTY_AT_SERVER, ct.type_at_server(_VALUE))
_halve = tf_computation(lambda x: x / 2.0, _VALUE)


def _server(value):
  return fc(lambda: intrinsics.federated_value(value, SERVER))


def _empty(args):
  del args
  return intrinsics.federated_value((), SERVER)


def _broadcast(args):
  return intrinsics.federated_broadcast(args[1])


def _next(result=_broadcast, measurements=_empty, argument_types=_ARGS):
  return fc(
      lambda *args: MeasuredProcessOutput(args[0], result(args),
                                          measurements(args)), *argument_types)


class DistributionProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('empty_state', _server(()), _next()),
      ('string_state', _server('s'),
       _next(argument_types=(ct.type_at_server(np.str_), _ARGS[1]))),
      ('result_differs_from_value', _server(()),
       _next(result=lambda a: intrinsics.federated_map(
           _halve, intrinsics.federated_broadcast(a[1])))),
      ('struct_of_datasets_value', _server(()),
       _next(argument_types=(_ARGS[0], ct.type_at_server(
           collections.OrderedDict(a=ct.SequenceType(np.float32),
                                   b=[ct.SequenceType(np.int32)]))))),
  )
  def test_construction_succeeds(self, init, next_fn):

    process = distributors.DistributionProcess(init, next_fn)

    self.assertIs(process.next, next_fn)
    self.assertLen(process.get_hparams.type_signature.result, 0)

  def test_raises_type_error_for_non_computation(self):

    with self.assertRaises(TypeError) as cm:
      distributors.DistributionProcess(_server(()), 'next')

    self.assertIs(type(cm.exception), TypeError)

  def test_raises_not_federated_error(self):

    with self.assertRaises(errors.TemplateNotFederatedError):
      distributors.DistributionProcess(_server(()),
                                       _next(measurements=lambda a: 0))

  @parameterized.named_parameters(
      ('value_at_clients', _next(result=lambda a: a[1],
                                 argument_types=(_ARGS[0],
                                                 ct.type_at_clients(_VALUE)))),
      ('result_at_server', _next(result=lambda a: a[1])),
      ('measurements_at_clients', _next(measurements=_broadcast)),
  )
  def test_raises_placement_error(self, next_fn):

    with self.assertRaises(errors.TemplatePlacementError):
      distributors.DistributionProcess(_server(()), next_fn)

  def test_raises_next_fn_num_args_error(self):
    next_fn = _next(argument_types=_ARGS + (ct.type_at_server(np.int32),))

    with self.assertRaises(errors.TemplateNextFnNumArgsError):
      distributors.DistributionProcess(_server(()), next_fn)

  def test_raises_get_hparams_type_error(self):

    with self.assertRaises(hparams_base.GetHparamsTypeError):
      distributors.DistributionProcess(
          _server(()), _next(), get_hparams_fn=fc(lambda x: x, np.int32))


class BuildBroadcastProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('tensor', _VALUE),
      ('struct', collections.OrderedDict(a=np.float32, b=[np.int32])),
      ('string', np.str_),
  )
  def test_type_signature(self, value_type):
    value_type = ct.to_type(value_type)

    process = distributors.build_broadcast_process(value_type)

    next_type = process.next.type_signature
    self.assertIs(next_type.result.python_container, MeasuredProcessOutput)
    self.assertTrue(next_type.is_equivalent_to(
        ct.FunctionType(
            ct.StructType([('state', _EMPTY_AT_SERVER),
                           ('value', ct.type_at_server(value_type))]),
            ct.StructWithPythonType(
                [('state', _EMPTY_AT_SERVER),
                 ('result', ct.type_at_clients(value_type, all_equal=True)),
                 ('measurements', _EMPTY_AT_SERVER)], MeasuredProcessOutput))))

  @parameterized.named_parameters(
      ('federated', ct.type_at_server(np.float32)),
      ('nested_federated', [ct.type_at_clients(np.float32)]),
  )
  def test_raises_type_error_for_placed_value_type(self, value_type):

    with self.assertRaisesRegex(TypeError, r'unplaced type'):
      distributors.build_broadcast_process(value_type)

  @parameterized.named_parameters(
      ('sequence', ct.SequenceType(np.float32)),
      ('nested_sequence',
       collections.OrderedDict(a=np.float32, b=ct.SequenceType(np.int32))),
  )
  def test_raises_type_error_for_sequence_value_type(self, value_type):

    with self.assertRaisesRegex(TypeError, r'holds a sequence') as cm:
      distributors.build_broadcast_process(value_type)

    self.assertIs(type(cm.exception), TypeError)


class BroadcastExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(
        reference.create_reference_execution_context(default_num_clients=3))

  def test_broadcast_sends_value_to_every_client(self):
    process = distributors.build_broadcast_process(_VALUE)
    value = np.array([1.0, 2.0], np.float32)

    output = process.next(process.initialize(), value)

    self.assertEqual(output.state, ())
    self.assertEqual(output.measurements, ())
    np.testing.assert_array_equal(output.result, value)


if __name__ == '__main__':
  absltest.main()
