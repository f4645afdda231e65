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
from tffx.templates import iterative_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation

_INT = ct.TensorType(np.int32)
_STR = ct.TensorType(np.str_)
_EMPTY = ct.StructType([])


def _const(value):
  """( -> T): a no-argument computation returning `value`."""
  return fc(lambda: value)


def _identity(type_spec):
  """(T -> T)."""
  return fc(lambda x: x, type_spec)


def _at_server_zero():
  return fc(lambda: intrinsics.federated_value(0, placements.SERVER))


class IterativeProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('int', _const(0), _identity(_INT), _INT),
      ('empty_state', _const(()), _identity(_EMPTY), _EMPTY),
      ('string_state', _const('abc'), _identity(_STR), _STR),
      ('federated_state', _at_server_zero(),
       _identity(ct.type_at_server(np.int32)), ct.type_at_server(np.int32)),
      ('nested_struct_state', _const(collections.OrderedDict(a=0, b=('x',))),
       _identity(ct.StructType([('a', _INT), ('b', ct.StructType([_STR]))])),
       ct.StructType([('a', _INT), ('b', ct.StructType([_STR]))])),
  )
  def test_construction_succeeds_with_state(self, init, next_fn, state_type):

    process = iterative_process.IterativeProcess(init, next_fn)

    self.assertIs(process.initialize, init)
    self.assertIs(process.next, next_fn)
    self.assertIs(process.state_type, state_type)

  def test_construction_succeeds_with_dataset_arguments_and_outputs(self):
    data_type = ct.StructType([
        ('a', ct.SequenceType(np.float32)),
        ('b', ct.StructType([('c', ct.SequenceType([np.int32, np.str_]))])),
    ])
    next_fn = fc(lambda state, data: (state, data), _INT, data_type)

    process = iterative_process.IterativeProcess(_const(0), next_fn)

    self.assertIs(process.state_type, _INT)

  def test_state_is_first_argument_when_whole_argument_does_not_fit(self):
    next_fn = fc(lambda state, x: state, _INT, np.float32)

    process = iterative_process.IterativeProcess(_const(0), next_fn)

    self.assertIs(process.state_type, _INT)

  @parameterized.named_parameters(
      ('inferred_whole_argument', (0,), None, ct.StructType([_INT])),
      ('whole_argument', (0,), False, ct.StructType([_INT])),
      ('inferred_first_argument', 0, None, _INT),
      ('first_argument', 0, True, _INT),
  )
  def test_next_is_multi_arg_selects_state_type(self, initial_state,
                                                next_is_multi_arg, expected):
    next_fn = fc(lambda x: x, ct.StructType([_INT]))

    process = iterative_process.IterativeProcess(
        _const(initial_state), next_fn, next_is_multi_arg=next_is_multi_arg)

    self.assertEqual(process.state_type, expected)

  def test_construction_succeeds_when_next_returns_state_and_output(self):
    next_fn = fc(lambda state, x: (state, x), _INT, np.float32)

    process = iterative_process.IterativeProcess(_const(0), next_fn)

    self.assertIs(process.state_type, _INT)

  def test_state_type_accepts_more_general_next_argument(self):
    init = tf_computation(lambda: tf.zeros([2]))
    next_fn = _identity(ct.TensorType(np.float32, [None]))

    process = iterative_process.IterativeProcess(init, next_fn)

    self.assertEqual(process.state_type, ct.TensorType(np.float32, [None]))

  @parameterized.named_parameters(
      ('function', lambda: 0),
      ('none', None),
      ('int', 3),
  )
  def test_raises_type_error_when_initialize_fn_is_not_computation(self, init):

    with self.assertRaises(TypeError) as cm:
      iterative_process.IterativeProcess(init, _identity(_INT))

    self.assertIs(type(cm.exception), TypeError)
    self.assertIn('initialize_fn', str(cm.exception))

  def test_raises_type_error_when_next_fn_is_not_computation(self):

    with self.assertRaises(TypeError) as cm:
      iterative_process.IterativeProcess(_const(0), lambda x: x)

    self.assertIs(type(cm.exception), TypeError)
    self.assertIn('next_fn', str(cm.exception))

  def test_raises_type_error_when_next_fn_is_polymorphic(self):
    polymorphic = fc(lambda x: x)

    with self.assertRaises(TypeError) as cm:
      iterative_process.IterativeProcess(_const(0), polymorphic)

    self.assertIs(type(cm.exception), TypeError)
    self.assertIn('polymorphic', str(cm.exception))

  def test_raises_init_fn_param_not_empty_error(self):
    init = _identity(_INT)

    with self.assertRaisesRegex(errors.TemplateInitFnParamNotEmptyError,
                                r'no argument, found one of type int32'):
      iterative_process.IterativeProcess(init, _identity(_INT))

  @parameterized.named_parameters(
      ('init_result', _const(0.0), _identity(_INT), None),
      ('next_result', _const(0), fc(lambda x: 0.0, _INT), None),
      ('whole_argument', _const(0), fc(lambda s, x: s, _INT, _INT), False),
      ('first_argument', _const(0.0), fc(lambda s, x: s, _INT, _INT), True),
      ('placement', _at_server_zero(),
       _identity(ct.type_at_clients(np.int32, all_equal=True)), None),
  )
  def test_raises_state_not_assignable_error(self, init, next_fn,
                                             next_is_multi_arg):

    with self.assertRaises(errors.TemplateStateNotAssignableError) as cm:
      iterative_process.IterativeProcess(init, next_fn, next_is_multi_arg)

    self.assertIn(str(next_fn.type_signature), str(cm.exception))

  @parameterized.named_parameters(
      ('no_argument', _const(0), None),
      ('not_struct_when_multi_arg', _identity(_INT), True),
  )
  def test_raises_next_fn_num_args_error(self, next_fn, next_is_multi_arg):

    with self.assertRaises(errors.TemplateNextFnNumArgsError):
      iterative_process.IterativeProcess(_const(0), next_fn,
                                         next_is_multi_arg)


class IsStatefulTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('tensor', _const(0), True),
      ('empty', _const(()), False),
      ('nested_empty', _const(((), ((),))), False),
      ('struct_with_tensor', _const(((), (0,))), True),
      ('federated_empty',
       fc(lambda: intrinsics.federated_value((), placements.SERVER)), False),
      ('federated_tensor', _at_server_zero(), True),
  )
  def test_is_stateful(self, init, expected):
    process = iterative_process.IterativeProcess(
        init, _identity(init.type_signature.result))

    self.assertEqual(iterative_process.is_stateful(process), expected)

  def test_raises_type_error_for_non_process(self):

    with self.assertRaises(TypeError):
      iterative_process.is_stateful(_const(0))


class IterativeProcessExecutionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_state_advances_over_rounds(self):
    add = tf_computation(lambda s, x: (s + x, s * x), np.int32, np.int32)
    process = iterative_process.IterativeProcess(_const(1), add)
    state = process.initialize()
    outputs = []

    for x in (2, 3, 4):
      state, output = process.next(state, x)
      outputs.append(int(output))

    self.assertEqual(int(state), 1 + 2 + 3 + 4)
    self.assertEqual(outputs, [1 * 2, 3 * 3, 6 * 4])


if __name__ == '__main__':
  absltest.main()
