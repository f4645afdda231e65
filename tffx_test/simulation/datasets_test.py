"""Pins the names of `tffx.simulation` and `tffx.simulation.datasets`."""

import types

from absl.testing import absltest

from tffx import simulation
from tffx.simulation import client_data
from tffx.simulation import datasets
from tffx.simulation import errors
from tffx.simulation import hdf5_client_data
from tffx.simulation import sampling
from tffx.simulation import synthetic
from tffx.simulation import tensor_slices_client_data


class DatasetsTest(absltest.TestCase):

  def test_datasets_names_are_exactly_the_pinned_set(self):

    public = {n for n in vars(datasets) if not n.startswith('_')}

    self.assertEqual(
        public, {'ClientData', 'FilePerUserClientData', 'HDF5ClientData',
                 'SqlClientData', 'TestClientData', 'TransformingClientData',
                 'build_dataset_mixture', 'build_single_label_dataset',
                 'build_synthethic_iid_datasets', 'cifar100', 'emnist',
                 'load_and_parse_sql_client_data', 'save_to_sql_client_data',
                 'shakespeare', 'stackoverflow', 'synthetic'})

  def test_datasets_names_come_from_their_defining_modules(self):

    self.assertIs(datasets.ClientData, client_data.ClientData)
    self.assertIs(datasets.HDF5ClientData, hdf5_client_data.HDF5ClientData)
    self.assertIs(datasets.TestClientData,
                  tensor_slices_client_data.TestClientData)
    self.assertIs(datasets.synthetic, synthetic)

  def test_simulation_exports_sampling_fn_and_namespaces(self):
    # Submodules become attributes of the package when imported, so only
    # the names that are not modules are pinned exactly.
    functions = {
        n for n, v in vars(simulation).items()
        if not n.startswith('_') and not isinstance(v, types.ModuleType)
    }

    self.assertEqual(functions, {'build_uniform_sampling_fn'})
    self.assertIs(simulation.build_uniform_sampling_fn,
                  sampling.build_uniform_sampling_fn)
    self.assertIs(simulation.datasets, datasets)
    self.assertIs(simulation.errors, errors)


if __name__ == '__main__':
  absltest.main()
