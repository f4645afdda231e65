import collections
from typing import NamedTuple

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import errors as type_errors
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation
MeasuredProcessOutput = measured_process.MeasuredProcessOutput

_INT = ct.TensorType(np.int32)
_FLOAT = ct.TensorType(np.float32)
_STR = ct.TensorType(np.str_)


class _LookAlike(NamedTuple):
  state: object
  result: object
  measurements: object


def _const(value):
  return fc(lambda: value)


def _server(value):
  return fc(lambda: intrinsics.federated_value(value, placements.SERVER))


def _measured_next(state_type):
  """(S -> <state=S,result=S,measurements=S>)."""
  return fc(lambda s: MeasuredProcessOutput(s, s, s), state_type)


def _measured_next_two_args(state_type):
  """(<S, {float32}@CLIENTS> -> <state=S,result=value,measurements=S>)."""
  return fc(lambda s, v: MeasuredProcessOutput(s, v, s), state_type,
            ct.type_at_clients(np.float32))


_double = tf_computation(lambda x: x * 2.0, np.float32)
_add_one = tf_computation(lambda x: x + 1, np.int32)
_add = tf_computation(lambda x, y: x + y, np.float32, np.float32)


def _scale_process():
  """F: counts rounds; doubles each client value; measures their sum."""

  @fc(ct.type_at_server(np.int32), ct.type_at_clients(np.float32))
  def next_fn(state, value):
    return MeasuredProcessOutput(
        intrinsics.federated_map(_add_one, state),
        intrinsics.federated_map(_double, value),
        intrinsics.federated_sum(value))

  return measured_process.MeasuredProcess(_server(0), next_fn)


def _sum_process():
  """G: sums client values; keeps and measures the running total."""

  @fc(ct.type_at_server(np.float32), ct.type_at_clients(np.float32))
  def next_fn(state, value):
    total = intrinsics.federated_sum(value)
    new_state = intrinsics.federated_map(_add, (state, total))
    return MeasuredProcessOutput(new_state, total, new_state)

  return measured_process.MeasuredProcess(_server(0.0), next_fn)


class MeasuredProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('tensor_state', _const(0), _measured_next(_INT)),
      ('empty_state', _const(()), _measured_next(ct.StructType([]))),
      ('string_state', _const('a'), _measured_next(_STR)),
      ('federated_state', _server(0),
       _measured_next(ct.type_at_server(np.int32))),
      ('result_differs_from_state', _const(0),
       fc(lambda s: MeasuredProcessOutput(s, 'text', (1.0, s)), _INT)),
  )
  def test_construction_succeeds(self, init, next_fn):

    process = measured_process.MeasuredProcess(init, next_fn)

    self.assertIs(process.next, next_fn)
    self.assertEqual(process.state_type, next_fn.type_signature.parameter)

  def test_construction_succeeds_with_nested_dataset_argument(self):
    data_type = ct.type_at_clients(
        collections.OrderedDict(
            a=ct.SequenceType(np.float32),
            b=[ct.SequenceType(collections.OrderedDict(x=np.int32))]))
    next_fn = fc(
        lambda state, data: MeasuredProcessOutput(state, data, state),
        ct.type_at_server(np.int32), data_type)

    process = measured_process.MeasuredProcess(
        _server(0), next_fn, next_is_multi_arg=True)

    self.assertEqual(process.state_type, ct.type_at_server(np.int32))

  @parameterized.named_parameters(
      ('initialize_fn', 'not a computation', _measured_next(_INT)),
      ('next_fn', _const(0), 'not a computation'),
  )
  def test_raises_type_error_for_non_computation(self, init, next_fn):

    with self.assertRaises(TypeError) as cm:
      measured_process.MeasuredProcess(init, next_fn)

    self.assertIs(type(cm.exception), TypeError)

  def test_raises_init_fn_param_not_empty_error(self):

    with self.assertRaises(errors.TemplateInitFnParamNotEmptyError):
      measured_process.MeasuredProcess(_measured_next(_INT),
                                       _measured_next(_INT))

  def test_raises_next_fn_num_args_error_for_next_without_argument(self):
    next_fn = fc(lambda: MeasuredProcessOutput(0, 0, 0))

    with self.assertRaises(errors.TemplateNextFnNumArgsError):
      measured_process.MeasuredProcess(_const(0), next_fn)

  @parameterized.named_parameters(
      ('initialize_result', _const(0.0), _measured_next(_INT)),
      ('next_state', _const(0),
       fc(lambda s: MeasuredProcessOutput(1.0, s, s), _INT)),
  )
  def test_raises_state_not_assignable_error(self, init, next_fn):

    with self.assertRaises(errors.TemplateStateNotAssignableError):
      measured_process.MeasuredProcess(init, next_fn)

  def test_raises_state_not_assignable_error_when_whole_output_is_state(self):
    # The output as a whole fits the state type; its `state` field does not.
    state = collections.OrderedDict(state=0, result=0, measurements=0)
    state_type = ct.to_type(
        collections.OrderedDict(state=_INT, result=_INT, measurements=_INT))
    next_fn = fc(
        lambda s: MeasuredProcessOutput(s.state, s.result, s.measurements),
        state_type)

    with self.assertRaisesRegex(errors.TemplateStateNotAssignableError,
                                r'`state` field'):
      measured_process.MeasuredProcess(_const(state), next_fn)

  @parameterized.named_parameters(
      ('tuple', fc(lambda s: (s, s, s), _INT)),
      ('ordered_dict',
       fc(lambda s: collections.OrderedDict(state=s, result=s, measurements=s),
          _INT)),
      ('other_named_tuple', fc(lambda s: _LookAlike(s, s, s), _INT)),
      ('state_only', fc(lambda s: s, _INT)),
  )
  def test_raises_not_measured_process_output_error(self, next_fn):

    with self.assertRaisesRegex(errors.TemplateNotMeasuredProcessOutputError,
                                r'MeasuredProcessOutput'):
      measured_process.MeasuredProcess(_const(0), next_fn)


class CompositionTypeTest(parameterized.TestCase):

  def test_chain_type_signature(self):
    processes = collections.OrderedDict(f=_scale_process(), g=_sum_process())

    chained = measured_process.chain_measured_processes(processes)

    state_type = ct.type_at_server(
        collections.OrderedDict(f=np.int32, g=np.float32))
    self.assertTrue(chained.initialize.type_signature.result.is_equivalent_to(
        state_type))
    self.assertTrue(chained.next.type_signature.is_equivalent_to(
        ct.FunctionType(
            ct.StructType([('state', state_type),
                           ('values', ct.type_at_clients(np.float32))]),
            ct.StructType([('state', state_type),
                           ('result', ct.type_at_server(np.float32)),
                           ('measurements',
                            ct.type_at_server(
                                collections.OrderedDict(
                                    f=np.float32, g=np.float32)))]))))

  def test_concatenate_type_signature(self):
    processes = collections.OrderedDict(f=_scale_process(), g=_sum_process())

    concatenated = measured_process.concatenate_measured_processes(processes)

    next_type = concatenated.next.type_signature
    self.assertTrue(next_type.parameter[1].is_equivalent_to(
        ct.StructType([('f', ct.type_at_clients(np.float32)),
                       ('g', ct.type_at_clients(np.float32))])))
    self.assertTrue(next_type.result.result.is_equivalent_to(
        ct.StructType([('f', ct.type_at_clients(np.float32)),
                       ('g', ct.type_at_server(np.float32))])))

  def test_composition_of_unplaced_processes_keeps_structs_of_values(self):
    unplaced = measured_process.MeasuredProcess(
        _const(0), fc(lambda s, v: MeasuredProcessOutput(s, v, s), _INT,
                      _FLOAT))

    chained = measured_process.chain_measured_processes(
        collections.OrderedDict(a=unplaced, b=unplaced))

    self.assertEqual(str(chained.initialize.type_signature.result),
                     '<a=int32,b=int32>')
    self.assertEqual(str(chained.next.type_signature.result.measurements),
                     '<a=int32,b=int32>')

  @parameterized.named_parameters(
      ('chain', measured_process.chain_measured_processes),
      ('concatenate', measured_process.concatenate_measured_processes),
  )
  def test_raises_type_error_for_empty_or_wrong_processes(self, compose):
    for processes in ({}, [_scale_process()],
                      collections.OrderedDict(a='not a process')):
      with self.subTest(processes=processes):

        with self.assertRaises(TypeError) as cm:
          compose(processes)

        self.assertIs(type(cm.exception), TypeError)

  @parameterized.named_parameters(
      ('chain', measured_process.chain_measured_processes),
      ('concatenate', measured_process.concatenate_measured_processes),
  )
  def test_raises_next_fn_num_args_error_for_single_argument_next(
      self, compose):
    single = measured_process.MeasuredProcess(_const(0), _measured_next(_INT))

    with self.assertRaises(errors.TemplateNextFnNumArgsError):
      compose(collections.OrderedDict(a=single))

  def test_next_parameters_are_named_as_in_tff(self):
    processes = collections.OrderedDict(f=_scale_process(), g=_sum_process())

    chained = measured_process.chain_measured_processes(processes)
    concatenated = measured_process.concatenate_measured_processes(processes)

    for process in (chained, concatenated):
      self.assertEqual([n for n, _ in process.next.type_signature.parameter
                        .items()], ['state', 'values'])

  @parameterized.named_parameters(
      ('chain', measured_process.chain_measured_processes),
      ('concatenate', measured_process.concatenate_measured_processes),
  )
  def test_raises_type_error_for_states_at_different_placements(
      self, compose):
    unplaced = measured_process.MeasuredProcess(
        _const(0), fc(lambda s, v: MeasuredProcessOutput(s, v, s), _INT,
                      ct.type_at_clients(np.float32)))
    processes = collections.OrderedDict(f=_scale_process(), u=unplaced)

    with self.assertRaisesRegex(
        TypeError, 'Cannot concatenate the initialization functions as not '
        'all `tff.templates.MeasuredProcess`es have the same placement of '
        'the state') as cm:
      compose(processes)

    self.assertIs(type(cm.exception), TypeError)

  @parameterized.named_parameters(
      ('chain', measured_process.chain_measured_processes),
      ('concatenate', measured_process.concatenate_measured_processes),
  )
  def test_raises_type_error_for_states_at_clients(self, compose):
    at_clients = measured_process.MeasuredProcess(
        fc(lambda: intrinsics.federated_value(0, placements.CLIENTS)),
        _measured_next_two_args(ct.type_at_clients(np.int32)))

    with self.assertRaisesRegex(TypeError, 'placed at SERVER') as cm:
      compose(collections.OrderedDict(a=at_clients, b=at_clients))

    self.assertIs(type(cm.exception), TypeError)

  def test_chain_raises_type_not_assignable_error_between_processes(self):
    processes = collections.OrderedDict(g=_sum_process(), f=_scale_process())

    with self.assertRaisesRegex(type_errors.TypeNotAssignableError,
                                r"process 'g'.*process 'f'"):
      measured_process.chain_measured_processes(processes)


class CompositionExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_measured_process_runs_rounds(self):
    process = _sum_process()
    state = process.initialize()

    first = process.next(state, [1.0, 2.0])
    second = process.next(first.state, [3.0])

    self.assertIsInstance(second, MeasuredProcessOutput)
    self.assertEqual(float(first.result), 3.0)
    self.assertEqual(float(second.result), 3.0)
    self.assertEqual(float(second.state), 6.0)
    self.assertEqual(float(second.measurements), 6.0)

  def test_chain_feeds_each_result_to_the_next_process(self):
    chained = measured_process.chain_measured_processes(
        collections.OrderedDict(f=_scale_process(), g=_sum_process()))
    state = chained.initialize()

    first = chained.next(state, [1.0, 2.0, 3.0])
    second = chained.next(first.state, [1.0, 1.0])

    self.assertEqual(list(first.state), ['f', 'g'])
    self.assertEqual(float(first.result), 12.0)  # sum of doubled values
    self.assertEqual(int(second.state['f']), 2)  # rounds
    self.assertEqual(float(second.state['g']), 16.0)  # 12 + 4
    self.assertEqual(float(second.result), 4.0)
    self.assertEqual(list(second.measurements), ['f', 'g'])
    self.assertEqual(float(second.measurements['f']), 2.0)
    self.assertEqual(float(second.measurements['g']), 16.0)

  def test_concatenation_runs_each_process_on_its_own_value(self):
    concatenated = measured_process.concatenate_measured_processes(
        collections.OrderedDict(f=_scale_process(), g=_sum_process()))
    state = concatenated.initialize()
    values = collections.OrderedDict(f=[1.0, 2.0], g=[10.0, 20.0])

    first = concatenated.next(state, values)
    second = concatenated.next(first.state, values)

    np.testing.assert_allclose(np.asarray(second.result['f']), [2.0, 4.0])
    self.assertEqual(float(second.result['g']), 30.0)
    self.assertEqual(int(second.state['f']), 2)
    self.assertEqual(float(second.state['g']), 60.0)
    self.assertEqual(float(second.measurements['f']), 3.0)
    self.assertEqual(float(second.measurements['g']), 60.0)


if __name__ == '__main__':
  absltest.main()
