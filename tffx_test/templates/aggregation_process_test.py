import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation
MeasuredProcessOutput = measured_process.MeasuredProcessOutput
SERVER = placements.SERVER

_SERVER_INT = ct.type_at_server(np.int32)
_CLIENTS_FLOAT = ct.type_at_clients(np.float32)
_add_one = tf_computation(lambda x: x + 1, np.int32)


def _server(value):
  return fc(lambda: intrinsics.federated_value(value, SERVER))


def _sum_next(state_type=_SERVER_INT, value_type=_CLIENTS_FLOAT, *extra):
  """(<S, V@CLIENTS, *> -> <state=S, result=sum(V)@SERVER, measurements=<>>)."""

  def next_fn(state, value, *unused):
    del unused
    return MeasuredProcessOutput(state, intrinsics.federated_sum(value),
                                 intrinsics.federated_value((), SERVER))

  return fc(next_fn, state_type, value_type, *extra)


def _output_next(state, result, measurements, *argument_types):
  """A next_fn returning the given (traced or constant) fields."""
  return fc(
      lambda *args: MeasuredProcessOutput(state(args), result(args),
                                          measurements(args)), *argument_types)


def _empty_at_server(args):
  del args
  return intrinsics.federated_value((), SERVER)


def _counting_sum_process():
  """Counts rounds in its state; sums client values; measures the count."""

  @fc(_SERVER_INT, _CLIENTS_FLOAT)
  def next_fn(state, value):
    new_state = intrinsics.federated_map(_add_one, state)
    return MeasuredProcessOutput(new_state, intrinsics.federated_sum(value),
                                 new_state)

  return aggregation_process.AggregationProcess(_server(0), next_fn)


_VALUE_STRUCT = ct.to_type(
    collections.OrderedDict(a=np.float32, b=[ct.TensorType(np.float32, [2])]))
_PLAIN_STRUCT = ct.StructType([('a', np.float32)])
_to_ordered_dict = tf_computation(
    lambda x: collections.OrderedDict(a=x.a), _PLAIN_STRUCT)


class AggregationProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('int_state', _server(0), _sum_next()),
      ('empty_state', _server(()),
       _sum_next(ct.type_at_server(ct.StructType([])))),
      ('string_state', _server('abc'), _sum_next(ct.type_at_server(np.str_))),
      ('struct_value', _server(0),
       _sum_next(_SERVER_INT, ct.type_at_clients(_VALUE_STRUCT))),
      ('nested_dataset_argument', _server(0),
       _sum_next(
           _SERVER_INT, _CLIENTS_FLOAT, _CLIENTS_FLOAT,
           ct.type_at_clients(
               collections.OrderedDict(
                   x=ct.SequenceType(np.float32),
                   y=[ct.SequenceType([np.int32, np.str_])])))),
      ('measurements_of_other_type', _server(0),
       _output_next(lambda a: a[0],
                    lambda a: intrinsics.federated_sum(a[1]),
                    lambda a: intrinsics.federated_value('text', SERVER),
                    _SERVER_INT, _CLIENTS_FLOAT)),
      # The result differs from the value in placement and Python container.
      ('result_with_other_container', _server(0),
       _output_next(
           lambda a: a[0],
           lambda a: intrinsics.federated_map(
               _to_ordered_dict, intrinsics.federated_sum(a[1])),
           _empty_at_server, _SERVER_INT, ct.type_at_clients(_PLAIN_STRUCT))),
  )
  def test_construction_succeeds(self, init, next_fn):

    process = aggregation_process.AggregationProcess(init, next_fn)

    self.assertIs(process.initialize, init)
    self.assertIs(process.next, next_fn)
    self.assertEqual(process.state_type, next_fn.type_signature.parameter[0])

  @parameterized.named_parameters(
      ('two_arguments', (), False),
      ('weighted', (_CLIENTS_FLOAT,), True),
      ('four_arguments', (_CLIENTS_FLOAT, _CLIENTS_FLOAT), False),
  )
  def test_is_weighted(self, extra_arguments, expected):
    next_fn = _sum_next(_SERVER_INT, _CLIENTS_FLOAT, *extra_arguments)

    process = aggregation_process.AggregationProcess(_server(0), next_fn)

    self.assertEqual(process.is_weighted, expected)

  @parameterized.named_parameters(
      ('initialize_fn', lambda: 0, _sum_next()),
      ('next_fn', _server(0), None),
  )
  def test_raises_type_error_for_non_computation(self, init, next_fn):

    with self.assertRaises(TypeError) as cm:
      aggregation_process.AggregationProcess(init, next_fn)

    self.assertIs(type(cm.exception), TypeError)

  def test_raises_init_fn_param_not_empty_error(self):
    init = fc(lambda x: intrinsics.federated_value(x, SERVER), np.int32)

    with self.assertRaises(errors.TemplateInitFnParamNotEmptyError):
      aggregation_process.AggregationProcess(init, _sum_next())

  def test_raises_state_not_assignable_error(self):

    with self.assertRaisesRegex(errors.TemplateStateNotAssignableError,
                                r'float32@SERVER.*int32@SERVER'):
      aggregation_process.AggregationProcess(_server(0.0), _sum_next())

  def test_raises_not_measured_process_output_error(self):
    next_fn = fc(
        lambda s, v: (s, intrinsics.federated_sum(v), s), _SERVER_INT,
        _CLIENTS_FLOAT)

    with self.assertRaises(errors.TemplateNotMeasuredProcessOutputError):
      aggregation_process.AggregationProcess(_server(0), next_fn)

  @parameterized.named_parameters(
      ('state_only', fc(lambda s: MeasuredProcessOutput(s, s, s), _SERVER_INT)),
      ('struct_of_one',
       fc(lambda a: MeasuredProcessOutput(a[0], a[0], a[0]),
          ct.StructType([_SERVER_INT]))),
  )
  def test_raises_next_fn_num_args_error(self, next_fn):

    with self.assertRaises(errors.TemplateNextFnNumArgsError):
      aggregation_process.AggregationProcess(_server(0), next_fn)

  @parameterized.named_parameters(
      ('initialize_fn', fc(lambda: 0),
       _output_next(lambda a: a[0], lambda a: intrinsics.federated_sum(a[1]),
                    _empty_at_server, ct.TensorType(np.int32),
                    _CLIENTS_FLOAT)),
      ('value', _server(0),
       _output_next(lambda a: a[0], lambda a: intrinsics.federated_value(
           a[1], SERVER), _empty_at_server, _SERVER_INT, np.float32)),
      ('measurements', _server(0),
       _output_next(lambda a: a[0], lambda a: intrinsics.federated_sum(a[1]),
                    lambda a: 'unplaced', _SERVER_INT, _CLIENTS_FLOAT)),
  )
  def test_raises_aggregation_not_federated_error(self, init, next_fn):

    with self.assertRaisesRegex(
        aggregation_process.AggregationNotFederatedError, r'unplaced'):
      aggregation_process.AggregationProcess(init, next_fn)

  @parameterized.named_parameters(
      ('state_at_clients',
       fc(lambda: intrinsics.federated_value(0, placements.CLIENTS)),
       _sum_next(ct.type_at_clients(np.int32, all_equal=True))),
      ('value_at_server', _server(0),
       _output_next(lambda a: a[0], lambda a: a[1], _empty_at_server,
                    _SERVER_INT, ct.type_at_server(np.float32))),
      ('result_at_clients', _server(0),
       _output_next(lambda a: a[0], lambda a: a[1], _empty_at_server,
                    _SERVER_INT, _CLIENTS_FLOAT)),
      ('measurements_at_clients', _server(0),
       _output_next(lambda a: a[0], lambda a: intrinsics.federated_sum(a[1]),
                    lambda a: a[1], _SERVER_INT, _CLIENTS_FLOAT)),
      ('weight_at_server', _server(0),
       _sum_next(_SERVER_INT, _CLIENTS_FLOAT, ct.type_at_server(np.float32))),
  )
  def test_raises_aggregation_placement_error(self, init, next_fn):

    with self.assertRaisesRegex(aggregation_process.AggregationPlacementError,
                                r'Expected .* to be placed at'):
      aggregation_process.AggregationProcess(init, next_fn)

  @parameterized.named_parameters(
      ('dtype', _CLIENTS_FLOAT,
       tf_computation(lambda x: tf.cast(x, tf.int32), np.float32)),
      ('shape', ct.type_at_clients(ct.TensorType(np.float32, [2])),
       tf_computation(lambda x: x[:1], ct.TensorType(np.float32, [2]))),
  )
  def test_raises_value_type_mismatch_error(self, value_type, convert):
    next_fn = _output_next(
        lambda a: a[0],
        lambda a: intrinsics.federated_map(convert,
                                           intrinsics.federated_sum(a[1])),
        _empty_at_server, _SERVER_INT, value_type)

    with self.assertRaisesRegex(
        aggregation_process.AggregationValueTypeMismatchError,
        str(value_type.member).replace('[', r'\[')):
      aggregation_process.AggregationProcess(_server(0), next_fn)

  def test_sequence_value_may_aggregate_to_its_element_type(self):
    sequence = ct.SequenceType(ct.TensorType(np.int32, [None]))
    first_batch = tf_computation(
        lambda ds: ds.reduce(tf.zeros([0], tf.int32),
                             lambda acc, x: tf.concat([acc, x], 0)), sequence)
    next_fn = _output_next(
        lambda a: a[0],
        lambda a: intrinsics.federated_max(
            intrinsics.federated_map(first_batch, a[1])),
        _empty_at_server, _SERVER_INT, ct.type_at_clients(sequence))

    process = aggregation_process.AggregationProcess(_server(0), next_fn)

    self.assertTrue(process.next.type_signature.result.result.member
                    .is_equivalent_to(sequence.element))

  def test_sequence_value_raises_mismatch_for_another_result_type(self):
    sequence = ct.SequenceType(ct.TensorType(np.int32, [None]))
    next_fn = _output_next(
        lambda a: a[0], lambda a: intrinsics.federated_value(0, SERVER),
        _empty_at_server, _SERVER_INT, ct.type_at_clients(sequence))

    with self.assertRaises(
        aggregation_process.AggregationValueTypeMismatchError):
      aggregation_process.AggregationProcess(_server(0), next_fn)

class AggregationProcessExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_sums_client_values_over_rounds_with_state(self):
    process = _counting_sum_process()
    state = process.initialize()
    rounds = [[1.0, 2.0, 3.0], [10.0], [0.5, 0.25]]
    results = []

    for client_values in rounds:
      output = process.next(state, client_values)
      state = output.state
      results.append(float(output.result))

    self.assertEqual(results, [sum(values) for values in rounds])
    self.assertEqual(int(state), 3)
    self.assertEqual(int(output.measurements), 3)


if __name__ == '__main__':
  absltest.main()
