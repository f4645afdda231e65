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
TensorBoardReleaseManager, LoggingReleaseManager, and GroupingReleaseManager
to release to several.
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
