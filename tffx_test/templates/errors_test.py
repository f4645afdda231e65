import inspect

from absl.testing import absltest
from absl.testing import parameterized

from tffx.learning.templates import client_works
from tffx.learning.templates import composers
from tffx.learning.templates import distributors
from tffx.learning.templates import finalizers
from tffx.learning.templates import hparams_base
from tffx.learning.templates import learning_process
from tffx.learning.templates import type_checks
from tffx.templates import aggregation_process
from tffx.templates import errors
from tffx.templates import estimation_process
from tffx.templates import iterative_process
from tffx.templates import measured_process
from tffx.templates import template_checks

_MODULES = (errors, aggregation_process, estimation_process, iterative_process,
            measured_process, template_checks, client_works, composers,
            distributors, finalizers, hparams_base, learning_process,
            type_checks)


def _defined_errors(module):
  return [
      cls for _, cls in inspect.getmembers(module, inspect.isclass)
      if issubclass(cls, Exception) and cls.__module__ == module.__name__
  ]


class ErrorsTest(parameterized.TestCase):

  @parameterized.parameters(
      errors.TemplateInitFnParamNotEmptyError,
      errors.TemplateStateNotAssignableError,
      errors.TemplateNotMeasuredProcessOutputError,
      errors.TemplateNextFnNumArgsError,
      errors.TemplateNotFederatedError,
      errors.TemplatePlacementError,
  )
  def test_error_is_direct_type_error_subclass(self, error):

    self.assertEqual(error.__bases__, (TypeError,))

  def test_learning_process_errors_derive_from_its_error(self):
    # As in TFF: `except learning_process.Error` catches every one of them.
    for cls in _defined_errors(learning_process):
      with self.subTest(error=cls.__name__):

        self.assertTrue(issubclass(cls, learning_process.Error))

  def test_every_template_error_is_a_type_error_defined_once(self):
    defined = [cls for module in _MODULES for cls in _defined_errors(module)]
    names = [cls.__name__ for cls in defined]

    self.assertCountEqual(names, set(names))
    for cls in defined:
      with self.subTest(error=cls.__name__):
        self.assertTrue(issubclass(cls, TypeError))

  def test_errors_are_at_tff_module_paths(self):
    expected = {
        errors: {'TemplateInitFnParamNotEmptyError',
                 'TemplateStateNotAssignableError',
                 'TemplateNotMeasuredProcessOutputError',
                 'TemplateNextFnNumArgsError', 'TemplateNotFederatedError',
                 'TemplatePlacementError'},
        aggregation_process: {'AggregationNotFederatedError',
                              'AggregationPlacementError',
                              'AggregationValueTypeMismatchError'},
        estimation_process: {'EstimateNotAssignableError'},
        client_works: {'ClientDataTypeError', 'ClientResultTypeError'},
        finalizers: {'FinalizerResultTypeError'},
        hparams_base: {'GetHparamsTypeError', 'SetHparamsTypeError'},
        learning_process: {'Error', 'LearningProcessPlacementError',
                           'LearningProcessSequenceTypeError',
                           'LearningProcessOutputError',
                           'GetModelWeightsTypeSignatureError',
                           'SetModelWeightsTypeSignatureError'},
        type_checks: {'ClientSequenceTypeError'},
    }

    for module, names in expected.items():
      with self.subTest(module=module.__name__):
        self.assertEqual({cls.__name__ for cls in _defined_errors(module)},
                         names)


if __name__ == '__main__':
  absltest.main()
