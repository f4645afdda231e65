import inspect

from absl.testing import absltest
from absl.testing import parameterized

import tffx.program
from tffx.program import atomic_files
from tffx.program import client_id_data_source
from tffx.program import csv_file_release_manager
from tffx.program import data_source
from tffx.program import dataset_data_source
from tffx.program import errors
from tffx.program import federated_context
from tffx.program import file_program_state_manager
from tffx.program import forwarding_release_managers
from tffx.program import grouping_release_manager
from tffx.program import logging_release_manager
from tffx.program import memory_release_manager
from tffx.program import native_platform
from tffx.program import program_state_manager
from tffx.program import release_manager
from tffx.program import saved_model_file_release_manager
from tffx.program import tensorboard_release_manager
from tffx.program import value_paths
from tffx.program import value_reference

_MODULES = (errors, atomic_files, csv_file_release_manager,
            file_program_state_manager, grouping_release_manager,
            logging_release_manager, program_state_manager, release_manager,
            tensorboard_release_manager, value_paths, client_id_data_source,
            data_source, dataset_data_source, federated_context,
            forwarding_release_managers, memory_release_manager,
            native_platform, saved_model_file_release_manager,
            value_reference)


class ErrorsTest(parameterized.TestCase):

  @parameterized.parameters(
      errors.ProgramStateExistsError,
      errors.ProgramStateNotFoundError,
      errors.ProgramStateCorruptError,
      errors.ProgramStateStructureError,
      errors.CSVFileFormatError,
      errors.NotFilterableError,
      errors.ReleasedValueNotFoundError,
  )
  def test_error_is_direct_value_error_subclass(self, error):

    self.assertEqual(error.__bases__, (ValueError,))

  def test_errors_are_defined_only_in_errors_module(self):

    defined = {
        module.__name__
        for module in _MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == module.__name__
    }

    self.assertEqual(defined, {'tffx.program.errors'})

  def test_tff_named_errors_are_exported_from_program(self):

    self.assertIs(tffx.program.ProgramStateExistsError,
                  errors.ProgramStateExistsError)
    self.assertIs(tffx.program.ProgramStateNotFoundError,
                  errors.ProgramStateNotFoundError)
    self.assertIs(tffx.program.NotFilterableError, errors.NotFilterableError)
    self.assertIs(tffx.program.CSVKeyFieldnameNotFoundError,
                  errors.CSVKeyFieldnameNotFoundError)


if __name__ == '__main__':
  absltest.main()
