"""Simulation of federated training (`tffx.simulation`, like `tff.simulation`).

    datasets                    federated datasets (ClientData, ...)
    build_uniform_sampling_fn   per-round client sampling
    errors                      UnknownClientIdError, ClientDataFileError,
                                DatasetFileNotFoundError, ...

    ClientData --client_ids--> build_uniform_sampling_fn(ids, random_seed=s)
        |                              | fn(round_num, size) -> ids
        `--create_tf_dataset_for_client(id) for each sampled id --> a round

    run_training_process        the training loop (resumable), with the
                                *_KEY metric names
    compose_dataset_computation_with_{computation,iterative_process,
        learning_process}       build client datasets on the clients

Program state (checkpoints) and metrics outputs are in `tffx.program`.
"""

from tffx.simulation import datasets as datasets
from tffx.simulation import errors as errors
from tffx.simulation.sampling import build_uniform_sampling_fn as build_uniform_sampling_fn
from tffx.simulation.compositions import compose_dataset_computation_with_computation as compose_dataset_computation_with_computation
from tffx.simulation.compositions import compose_dataset_computation_with_iterative_process as compose_dataset_computation_with_iterative_process
from tffx.simulation.compositions import compose_dataset_computation_with_learning_process as compose_dataset_computation_with_learning_process
from tffx.simulation.errors import MultipleMatchingSequenceTypesError as MultipleMatchingSequenceTypesError
from tffx.simulation.errors import SequenceTypeNotAssignableError as SequenceTypeNotAssignableError
from tffx.simulation.errors import SequenceTypeNotFoundError as SequenceTypeNotFoundError
from tffx.simulation.training_loop import EVALUATION_METRICS_PREFIX as EVALUATION_METRICS_PREFIX
from tffx.simulation.training_loop import EVALUATION_TIME_KEY as EVALUATION_TIME_KEY
from tffx.simulation.training_loop import ROUND_NUMBER_KEY as ROUND_NUMBER_KEY
from tffx.simulation.training_loop import ROUND_TIME_KEY as ROUND_TIME_KEY
from tffx.simulation.training_loop import run_training_process as run_training_process
from tffx.simulation.training_loop import TRAINING_TIME_KEY as TRAINING_TIME_KEY
