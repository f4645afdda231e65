"""Tests for tffx/types/errors.py."""

from absl.testing import absltest
from absl.testing import parameterized

from tffx.types import errors


class ErrorsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('invalid_type', errors.InvalidTypeError, TypeError),
      ('unsupported_spec', errors.UnsupportedTypeSpecError, TypeError),
      ('relation', errors.TypeRelationError, TypeError),
      ('not_assignable', errors.TypeNotAssignableError,
       errors.TypeRelationError),
      ('not_equivalent', errors.TypesNotEquivalentError,
       errors.TypeRelationError),
      ('not_identical', errors.TypesNotIdenticalError,
       errors.TypeRelationError),
      ('serialization', errors.SerializationError, ValueError),
  )
  def test_error_subclasses(self, error_class, base):

    self.assertTrue(issubclass(error_class, base))

  def test_relation_error_keeps_both_types(self):

    error = errors.TypeNotAssignableError('message', 'target', 'source')

    self.assertEqual(str(error), 'message')
    self.assertEqual(error.target, 'target')
    self.assertEqual(error.source, 'source')


class TffErrorClassesTest(absltest.TestCase):

  def test_invalid_type_error_is_type_and_value_error(self):
    self.assertTrue(issubclass(errors.InvalidTypeError, TypeError))
    self.assertTrue(issubclass(errors.InvalidTypeError, ValueError))

  def test_unexpected_type_error_names_expected_kind(self):

    error = errors.UnexpectedTypeError(int, 'int32')

    self.assertIsInstance(error, TypeError)
    self.assertEqual(str(error), 'Expected type of kind int, found type int32.')
    self.assertIs(error.expected, int)


if __name__ == '__main__':
  absltest.main()
