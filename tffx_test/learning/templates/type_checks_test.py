import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.learning.templates import type_checks
from tffx.templates import errors
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation

_SEQUENCE = ct.SequenceType(np.float32)
_SIGNATURE = '(<S@SERVER, V@SERVER> -> <state=S@SERVER, ...>)'


def _init_at(placement):
  return fc(lambda: intrinsics.federated_value(0, placement))


def _next(state_type, value_type, measurements_placed=True):
  """A `next_fn` over `<state_type, value_type>` returning the value."""

  def next_fn(state, value):
    measurements = (intrinsics.federated_value((), placements.SERVER)
                    if measurements_placed else ())
    return measured_process.MeasuredProcessOutput(state, value, measurements)

  return fc(next_fn, state_type, value_type)


class TypeChecksTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('sequence', _SEQUENCE, True),
      ('sequence_of_structs',
       ct.SequenceType(collections.OrderedDict(x=np.float32, y=np.int32)),
       True),
      ('nested_struct_of_sequences',
       ct.to_type(collections.OrderedDict(a=_SEQUENCE, b=[_SEQUENCE])), True),
      ('tensor', ct.TensorType(np.float32), False),
      ('empty_struct', ct.StructType([]), False),
      ('mixed_struct', ct.StructType([_SEQUENCE, np.int32]), False),
  )
  def test_is_structure_of_sequences(self, type_spec, expected):

    self.assertEqual(type_checks.is_structure_of_sequences(type_spec),
                     expected)

  def test_check_accepts_client_datasets(self):

    type_checks.check_is_client_placed_structure_of_sequences(
        ct.type_at_clients([_SEQUENCE, _SEQUENCE]))

  @parameterized.named_parameters(
      ('unplaced', _SEQUENCE),
      ('at_server', ct.type_at_server(_SEQUENCE)),
      ('clients_tensor', ct.type_at_clients(np.float32)),
  )
  def test_check_raises_client_sequence_type_error(self, type_spec):

    with self.assertRaisesRegex(type_checks.ClientSequenceTypeError,
                                str(type_spec).replace('*', r'\*')):
      type_checks.check_is_client_placed_structure_of_sequences(type_spec)

  def test_check_uses_given_message(self):

    with self.assertRaisesRegex(type_checks.ClientSequenceTypeError,
                                '^custom$'):
      type_checks.check_is_client_placed_structure_of_sequences(
          _SEQUENCE, 'custom')


class CheckFederatedProcessTest(parameterized.TestCase):

  def test_returns_next_context_for_matching_process(self):
    next_fn = _next(ct.type_at_server(np.int32), ct.type_at_server(np.int32))

    context = type_checks.check_federated_process(
        _init_at(placements.SERVER), next_fn, 2, _SIGNATURE)

    self.assertEqual(context, f'\n  next_fn: {next_fn.type_signature}')

  @parameterized.named_parameters(
      ('unplaced_state', fc(lambda: 0),
       _next(ct.TensorType(np.int32), ct.type_at_server(np.int32)),
       errors.TemplateNotFederatedError, 'the result of `initialize_fn`'),
      # Whether `next_fn` is federated is checked before the placement of
      # the state: both are wrong here.
      ('unplaced_argument_and_state_at_clients',
       _init_at(placements.CLIENTS),
       _next(ct.type_at_clients(np.int32), ct.TensorType(np.int32)),
       errors.TemplateNotFederatedError, 'argument 1: int32'),

      ('state_at_clients', _init_at(placements.CLIENTS),
       _next(ct.type_at_clients(np.int32), ct.type_at_clients(np.int32)),
       errors.TemplatePlacementError,
       'the state returned by `initialize_fn` to be placed at SERVER'),
  )
  def test_raises(self, init_fn, next_fn, error, message):

    with self.assertRaisesRegex(error, message):
      type_checks.check_federated_process(init_fn, next_fn, 2, _SIGNATURE)

  def test_passes_empty_unplaced_measurements_to_placement_checks(self):
    # As in TFF, an empty struct has no unplaced leaf: the template's
    # placement checks that follow refuse it, not this check.
    next_fn = _next(ct.type_at_server(np.int32), ct.type_at_server(np.int32),
                    measurements_placed=False)

    context = type_checks.check_federated_process(
        _init_at(placements.SERVER), next_fn, 2, _SIGNATURE)

    self.assertEqual(context, f'\n  next_fn: {next_fn.type_signature}')

  def test_raises_num_args_error_for_other_count(self):
    next_fn = _next(ct.type_at_server(np.int32), ct.type_at_server(np.int32))

    with self.assertRaisesRegex(errors.TemplateNextFnNumArgsError,
                                'exactly 3 arguments'):
      type_checks.check_federated_process(_init_at(placements.SERVER),
                                          next_fn, 3, _SIGNATURE)


if __name__ == '__main__':
  absltest.main()
