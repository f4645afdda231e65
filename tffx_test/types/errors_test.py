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


if __name__ == '__main__':
  absltest.main()
