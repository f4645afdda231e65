import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.learning.templates import type_checks
from tffx.types import computation_types as ct

_SEQUENCE = ct.SequenceType(np.float32)


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


if __name__ == '__main__':
  absltest.main()
