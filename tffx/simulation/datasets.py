"""Federated datasets: `tffx.simulation.datasets`, like `tff.simulation.datasets`.

    ClientData        the abstract federated dataset (client_ids,
                      create_tf_dataset_for_client, preprocess, ...)
    TestClientData    in memory, from {client_id: structure of arrays}
    HDF5ClientData    from a local HDF5 file in TFF's layout (e.g. EMNIST)
    SqlClientData     from a local SQLite file in TFF's layout
    emnist, shakespeare, stackoverflow, cifar100
                      TFF's published datasets, read from a local cache
                      (`load_data(cache_dir=...)`); nothing is downloaded
    synthetic         FedProx's Synthetic(alpha, beta): synthetic.load_data
    TransformingClientData, FilePerUserClientData, build_dataset_mixture,
    build_single_label_dataset, build_synthethic_iid_datasets   as in TFF

A namespace only: each name is defined in its own module of
`tffx.simulation`. `tffx.simulation.datasets.synthetic.load_data(...)`
works as an attribute path; import the module as `tffx.simulation.synthetic`.
"""

from tffx.simulation import cifar100 as cifar100
from tffx.simulation import emnist as emnist
from tffx.simulation import shakespeare as shakespeare
from tffx.simulation import stackoverflow as stackoverflow
from tffx.simulation import synthetic as synthetic
from tffx.simulation.client_data import ClientData as ClientData
from tffx.simulation.dataset_utils import build_dataset_mixture as build_dataset_mixture
from tffx.simulation.dataset_utils import build_single_label_dataset as build_single_label_dataset
from tffx.simulation.dataset_utils import build_synthethic_iid_datasets as build_synthethic_iid_datasets
from tffx.simulation.file_per_user_client_data import FilePerUserClientData as FilePerUserClientData
from tffx.simulation.hdf5_client_data import HDF5ClientData as HDF5ClientData
from tffx.simulation.sql_client_data import SqlClientData as SqlClientData
from tffx.simulation.sql_client_data_utils import load_and_parse_sql_client_data as load_and_parse_sql_client_data
from tffx.simulation.sql_client_data_utils import save_to_sql_client_data as save_to_sql_client_data
from tffx.simulation.tensor_slices_client_data import TestClientData as TestClientData
from tffx.simulation.transforming_client_data import TransformingClientData as TransformingClientData
