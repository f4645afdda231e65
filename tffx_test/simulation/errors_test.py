import inspect

from absl.testing import absltest
from absl.testing import parameterized

from tffx.simulation import cifar100
from tffx.simulation import client_data
from tffx.simulation import dataset_cache
from tffx.simulation import dataset_utils
from tffx.simulation import emnist
from tffx.simulation import file_per_user_client_data
from tffx.simulation import errors
from tffx.simulation import hdf5_client_data
from tffx.simulation import sampling
from tffx.simulation import shakespeare
from tffx.simulation import sql_client_data
from tffx.simulation import sql_client_data_utils
from tffx.simulation import stackoverflow
from tffx.simulation import synthetic
from tffx.simulation import tensor_slices_client_data
from tffx.simulation import transforming_client_data

_MODULES = (errors, client_data, hdf5_client_data, sampling, synthetic,
            cifar100, dataset_cache, emnist, shakespeare, sql_client_data,
            stackoverflow, tensor_slices_client_data, dataset_utils,
            file_per_user_client_data, transforming_client_data,
            sql_client_data_utils)


class ErrorsTest(parameterized.TestCase):

  @parameterized.parameters(errors.UnknownClientIdError,
                            errors.ClientDataFileError)
  def test_error_is_direct_value_error_subclass(self, error):

    self.assertEqual(error.__bases__, (ValueError,))

  def test_errors_are_defined_only_in_errors_module(self):

    defined = [
        (module.__name__, name)
        for module in _MODULES
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == module.__name__
    ]

    self.assertCountEqual(defined, [
        ('tffx.simulation.errors', 'ClientDataFileError'),
        ('tffx.simulation.errors', 'DatabaseFormatError'),
        ('tffx.simulation.errors', 'DatasetFileNotFoundError'),
        ('tffx.simulation.errors', 'ElementSpecCompatibilityError'),
        ('tffx.simulation.errors', 'UnknownClientIdError'),
    ])

  def test_file_errors_are_client_data_file_errors(self):

    for error in (errors.DatabaseFormatError, errors.DatasetFileNotFoundError):
      with self.subTest(error=error.__name__):
        self.assertEqual(error.__bases__, (errors.ClientDataFileError,))


if __name__ == '__main__':
  absltest.main()
