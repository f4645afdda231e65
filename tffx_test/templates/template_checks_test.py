import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import federated_computation
from tffx.templates import errors
from tffx.templates import template_checks
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation

_INT = ct.TensorType(np.int32)


class CheckComputationTest(absltest.TestCase):

  def test_returns_type_signature(self):
    comp = fc(lambda x: x, np.int32)

    self.assertIs(template_checks.check_computation(comp, 'f'),
                  comp.type_signature)

  def test_raises_type_error_naming_argument(self):

    with self.assertRaisesRegex(TypeError, r'`my_fn`.*found function'):
      template_checks.check_computation(lambda: 0, 'my_fn')


class TypePredicatesTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('empty_struct', ct.StructType([]), True),
      ('nested_empty', ct.StructType([ct.StructType([])]), True),
      ('federated_empty', ct.type_at_server(ct.StructType([])), True),
      ('struct_of_federated_empty',
       ct.StructType([ct.type_at_server(ct.StructType([]))]), True),
      ('tensor', _INT, False),
      ('struct_with_tensor', ct.StructType([ct.StructType([]), _INT]), False),
      ('sequence', ct.SequenceType(_INT), False),
  )
  def test_contains_only_structs(self, type_spec, expected):

    self.assertEqual(template_checks.contains_only_structs(type_spec),
                     expected)

  @parameterized.named_parameters(
      ('tensor', _INT, 'int32'),
      ('plain_struct', ct.StructType([_INT]),
       '<int32> (Python container: none)'),
      ('ordered_dict', ct.to_type(collections.OrderedDict(a=_INT)),
       '<a=int32> (Python container: OrderedDict)'),
  )
  def test_with_container(self, type_spec, expected):

    self.assertEqual(template_checks.with_container(type_spec), expected)


class PlacementChecksTest(parameterized.TestCase):

  def test_check_placement_accepts_placed_type(self):

    template_checks.check_placement(
        ct.type_at_server(np.int32), placements.SERVER, 'x',
        errors.TemplatePlacementError)

  @parameterized.named_parameters(
      ('unplaced', _INT, 'found the unplaced type int32'),
      ('other_placement', ct.type_at_clients(np.int32),
       r'found \{int32\}@CLIENTS'),
  )
  def test_check_placement_raises_given_error(self, type_spec, message):

    with self.assertRaisesRegex(errors.TemplatePlacementError,
                                r'Expected the thing to be placed at SERVER, '
                                + message):
      template_checks.check_placement(type_spec, placements.SERVER,
                                      'the thing',
                                      errors.TemplatePlacementError)

  def test_check_next_is_federated_lists_unplaced_parts(self):
    next_type = ct.FunctionType(
        ct.StructType([ct.type_at_server(np.int32), _INT]),
        ct.StructType([('state', ct.type_at_server(np.int32)),
                       ('measurements', ct.StructType([('a', _INT)]))]))

    with self.assertRaisesRegex(
        errors.TemplateNotFederatedError,
        r'argument 1: int32\n  - result field measurements: <a=int32>'):
      template_checks.check_next_is_federated(next_type,
                                              errors.TemplateNotFederatedError)

  def test_check_next_is_federated_accepts_struct_of_federated_values(self):
    # As in TFF, a struct whose leaves are all federated passes this check;
    # the placement checks refuse it where one federated value is needed.
    next_type = ct.FunctionType(
        ct.StructType([ct.type_at_server(np.int32)]),
        ct.StructType([('state', ct.type_at_server(np.int32)),
                       ('result', ct.StructType(
                           [ct.type_at_clients(np.int32),
                            ct.type_at_clients(np.int32)])),
                       ('measurements', ct.StructType([]))]))

    template_checks.check_next_is_federated(next_type,
                                            errors.TemplateNotFederatedError)

    with self.assertRaisesRegex(errors.TemplatePlacementError,
                                'federated_zip'):
      template_checks.check_placement(next_type.result.result,
                                      placements.CLIENTS, 'the result',
                                      errors.TemplatePlacementError)

  @parameterized.named_parameters(
      ('no_argument', None, 'no argument'),
      ('not_struct', _INT, 'a single argument that is not a struct'),
      ('too_few', ct.StructType([_INT]), r'1 argument\(s\)'),
  )
  def test_check_num_args_raises(self, parameter, found):
    next_type = ct.FunctionType(parameter, _INT)

    with self.assertRaisesRegex(errors.TemplateNextFnNumArgsError,
                                r'exactly 2 arguments, found ' + found):
      template_checks.check_num_args(next_type, 2, False,
                                     errors.TemplateNextFnNumArgsError, 'sig')

  def test_check_num_args_accepts_more_when_at_least(self):
    next_type = ct.FunctionType(ct.StructType([_INT, _INT, _INT]), _INT)

    template_checks.check_num_args(next_type, 2, True,
                                   errors.TemplateNextFnNumArgsError, 'sig')

  @parameterized.named_parameters(
      ('federated', ct.StructType([ct.type_at_server(np.int32)])),
      ('function', ct.FunctionType(None, _INT)),
  )
  def test_check_unplaced_type_raises_type_error(self, type_spec):

    with self.assertRaisesRegex(TypeError, r'unplaced type'):
      template_checks.check_unplaced_type(type_spec, 'value_type')

  def test_check_unplaced_type_converts_specs(self):

    self.assertEqual(
        template_checks.check_unplaced_type([np.int32], 'value_type'),
        ct.to_type([np.int32]))


if __name__ == '__main__':
  absltest.main()
