"""Program state and released values (`tffx.program`, like `tff.program`).

A training program saves its state to resume after a crash, and releases
metrics for people:

    state_manager = FileProgramStateManager(root_dir, keep_total=5)
    state, round_num = state_manager.load_latest(initial_state)  # (None, 0)
    csv_manager.remove_values_greater_than(round_num)            # on resume
    ...each round:
        state_manager.save(state, round_num)
        release_manager.release(metrics, round_num)

Release managers: CSVFileReleaseManager (CSVSaveMode),
TensorBoardReleaseManager, LoggingReleaseManager, MemoryReleaseManager,
SavedModelFileReleaseManager;
GroupingReleaseManager to release to several, and FilteringReleaseManager,
PeriodicReleaseManager and DelayedReleaseManager to choose what and when.

A federated program runs in a FederatedContext (NativeFederatedContext on
tffx's execution contexts): computations return value references
(MaterializableValueReference, NativeValueReference), which
`materialize_value` and the managers turn into values. Client data comes
from data sources (DatasetDataSource, ClientIdDataSource).

Errors are in `tffx.program.errors`. Unlike TFF's, the methods are
synchronous (not coroutines).
"""

from tffx.program import errors as errors
from tffx.program.csv_file_release_manager import CSVFileReleaseManager as CSVFileReleaseManager
from tffx.program.csv_file_release_manager import CSVSaveMode as CSVSaveMode
from tffx.program.errors import ProgramStateExistsError as ProgramStateExistsError
from tffx.program.errors import ProgramStateNotFoundError as ProgramStateNotFoundError
from tffx.program.file_program_state_manager import FileProgramStateManager as FileProgramStateManager
from tffx.program.grouping_release_manager import GroupingReleaseManager as GroupingReleaseManager
from tffx.program.logging_release_manager import LoggingReleaseManager as LoggingReleaseManager
from tffx.program.program_state_manager import ProgramStateManager as ProgramStateManager
from tffx.program.release_manager import ReleaseManager as ReleaseManager
from tffx.program.tensorboard_release_manager import TensorBoardReleaseManager as TensorBoardReleaseManager
from tffx.program.client_id_data_source import ClientIdDataSource as ClientIdDataSource
from tffx.program.client_id_data_source import ClientIdDataSourceIterator as ClientIdDataSourceIterator
from tffx.program.data_source import FederatedDataSource as FederatedDataSource
from tffx.program.data_source import FederatedDataSourceIterator as FederatedDataSourceIterator
from tffx.program.dataset_data_source import DatasetDataSource as DatasetDataSource
from tffx.program.dataset_data_source import DatasetDataSourceIterator as DatasetDataSourceIterator
from tffx.program.errors import CSVKeyFieldnameNotFoundError as CSVKeyFieldnameNotFoundError
from tffx.program.federated_context import check_in_federated_context as check_in_federated_context
from tffx.program.federated_context import contains_only_server_placed_data as contains_only_server_placed_data
from tffx.program.federated_context import FederatedContext as FederatedContext
from tffx.program.forwarding_release_managers import DelayedReleaseManager as DelayedReleaseManager
from tffx.program.forwarding_release_managers import FilteringReleaseManager as FilteringReleaseManager
from tffx.program.errors import NotFilterableError as NotFilterableError
from tffx.program.forwarding_release_managers import PeriodicReleaseManager as PeriodicReleaseManager
from tffx.program.memory_release_manager import MemoryReleaseManager as MemoryReleaseManager
from tffx.program.native_platform import NativeFederatedContext as NativeFederatedContext
from tffx.program.native_platform import NativeValueReference as NativeValueReference
from tffx.program.program_state_manager import ProgramStateStructure as ProgramStateStructure
from tffx.program.program_state_manager import ProgramStateValue as ProgramStateValue
from tffx.program.release_manager import ReleasableStructure as ReleasableStructure
from tffx.program.release_manager import ReleasableValue as ReleasableValue
from tffx.program.value_reference import materialize_value as materialize_value
from tffx.program.value_reference import MaterializableStructure as MaterializableStructure
from tffx.program.value_reference import MaterializableTypeSignature as MaterializableTypeSignature
from tffx.program.value_reference import MaterializableValue as MaterializableValue
from tffx.program.value_reference import MaterializableValueReference as MaterializableValueReference
from tffx.program.value_reference import MaterializedStructure as MaterializedStructure
from tffx.program.value_reference import MaterializedValue as MaterializedValue
from tffx.program.saved_model_file_release_manager import SavedModelFileReleaseManager as SavedModelFileReleaseManager
