"""Simulation of federated training (`tffx.simulation`, like `tff.simulation`).

    datasets                    federated datasets (ClientData, ...)
    build_uniform_sampling_fn   per-round client sampling
    errors                      UnknownClientIdError, ClientDataFileError,
                                DatasetFileNotFoundError, ...

    ClientData --client_ids--> build_uniform_sampling_fn(ids, random_seed=s)
        |                              | fn(round_num, size) -> ids
        `--create_tf_dataset_for_client(id) for each sampled id --> a round

Program state (checkpoints) and metrics outputs are in `tffx.program`.
"""

from tffx.simulation import datasets as datasets
from tffx.simulation import errors as errors
from tffx.simulation.sampling import build_uniform_sampling_fn as build_uniform_sampling_fn
