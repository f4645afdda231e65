import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import errors
from tffx.templates import estimation_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation

_FLOAT = ct.TensorType(np.float32)
_SERVER_FLOAT = ct.type_at_server(np.float32)

_zero = fc(lambda: 0.0)
_add = tf_computation(lambda state, x: state + x, np.float32, np.float32)
_double = tf_computation(lambda x: x * 2.0, np.float32)
_to_string = tf_computation(lambda x: tf.strings.as_string(x, precision=1),
                            np.float32)
_server_zero = fc(lambda: intrinsics.federated_value(0.0, placements.SERVER))
_server_add = fc(
    lambda state, x: intrinsics.federated_map(
        _add, (state, intrinsics.federated_sum(x))), _SERVER_FLOAT,
    ct.type_at_clients(np.float32))
_server_double = fc(lambda state: intrinsics.federated_map(_double, state),
                    _SERVER_FLOAT)


class EstimationProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('unplaced', _zero, _add, _double),
      ('federated', _server_zero, _server_add, _server_double),
      ('string_estimate', _zero, _add, _to_string),
      ('string_state', fc(lambda: 'a'), fc(lambda s: s, np.str_),
       fc(lambda s: s, np.str_)),
      ('empty_state', fc(lambda: ()), fc(lambda s: s, ct.StructType([])),
       fc(lambda s: 0.0, ct.StructType([]))),
      ('nested_dataset_argument', _zero,
       fc(lambda s, d: s, np.float32,
          ct.type_at_clients(
              collections.OrderedDict(a=ct.SequenceType(np.float32),
                                      b=[ct.SequenceType(np.int32)]))),
       _double),
  )
  def test_construction_succeeds(self, init, next_fn, report_fn):

    process = estimation_process.EstimationProcess(init, next_fn, report_fn)

    self.assertIs(process.report, report_fn)
    self.assertTrue(process.state_type.is_equivalent_to(
        init.type_signature.result))

  def test_raises_type_error_when_report_fn_is_not_computation(self):

    with self.assertRaises(TypeError) as cm:
      estimation_process.EstimationProcess(_zero, _add, lambda x: x)

    self.assertIs(type(cm.exception), TypeError)
    self.assertIn('report_fn', str(cm.exception))

  @parameterized.named_parameters(
      ('other_type', fc(lambda x: x, np.int32)),
      ('no_argument', fc(lambda: 0.0)),
      ('placed_argument', _server_double),
  )
  def test_raises_state_not_assignable_error_for_report_fn(self, report_fn):

    with self.assertRaisesRegex(errors.TemplateStateNotAssignableError,
                                r'argument of `report_fn`'):
      estimation_process.EstimationProcess(_zero, _add, report_fn)

  def test_raises_init_fn_param_not_empty_error(self):

    with self.assertRaises(errors.TemplateInitFnParamNotEmptyError):
      estimation_process.EstimationProcess(_double, _add, _double)

  def test_raises_next_fn_num_args_error(self):

    with self.assertRaises(errors.TemplateNextFnNumArgsError):
      estimation_process.EstimationProcess(
          _zero, _double, _double, next_is_multi_arg=True)

  def test_map_composes_report(self):
    process = estimation_process.EstimationProcess(_zero, _add, _double)

    mapped = process.map(_to_string)

    self.assertIs(mapped.initialize, process.initialize)
    self.assertIs(mapped.next, process.next)
    self.assertEqual(str(mapped.report.type_signature), '(float32 -> str)')

  def test_map_raises_estimate_not_assignable_error(self):
    process = estimation_process.EstimationProcess(_zero, _add, _to_string)

    with self.assertRaisesRegex(estimation_process.EstimateNotAssignableError,
                                r'estimate returned by `report`, str'):
      process.map(_double)

  def test_map_raises_type_error_for_non_computation(self):
    process = estimation_process.EstimationProcess(_zero, _add, _double)

    with self.assertRaises(TypeError) as cm:
      process.map(lambda x: x)

    self.assertIs(type(cm.exception), TypeError)


class EstimationProcessExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_report_and_mapped_report_read_state(self):
    process = estimation_process.EstimationProcess(_zero, _add, _double)
    mapped = process.map(_to_string)
    state = process.initialize()

    for x in (1.0, 2.5):
      state = process.next(state, x)

    self.assertEqual(float(process.report(state)), 7.0)
    self.assertEqual(mapped.report(state), b'7.0')

  def test_federated_estimation_over_rounds(self):
    process = estimation_process.EstimationProcess(_server_zero, _server_add,
                                                   _server_double)
    state = process.initialize()

    state = process.next(state, [1.0, 2.0])
    state = process.next(state, [0.5])

    self.assertEqual(float(process.report(state)), 7.0)


if __name__ == '__main__':
  absltest.main()
