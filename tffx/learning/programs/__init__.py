"""Federated program logic for learning (`tffx.learning.programs`).

    train_model            trains a LearningProcess, resumably, with
                           evaluations beside it
    EvaluationManager      runs and resumes those evaluation loops
    ProgramState           what train_model saves after each round
    extract_and_rewrap_metrics

As TensorFlow Federated's `tff.learning.programs` (without
`train_model_with_vizier`, see docs/tff_differences.md).

Where it sits: this package uses `tffx.program` (data sources, release and
program state managers, the federated context), which sits above
`tffx.learning` in the layer order (tffx/BUILD). So it is its own area,
`learning/programs`, placed after `program`: a Python sub-package of
`tffx.learning` that `tffx/learning/__init__.py` does not import (that
would be an upward import). `import tffx.learning.programs` loads it like
any sub-package, and `tffx/__init__.py` imports it after `tffx.program`,
so `tffx.learning.programs` is there after `import tffx`, as in TFF.
"""

from tffx.learning.programs.evaluation_program_logic import EvaluationManager as EvaluationManager
from tffx.learning.programs.evaluation_program_logic import extract_and_rewrap_metrics as extract_and_rewrap_metrics
from tffx.learning.programs.training_program_logic import ProgramState as ProgramState
from tffx.learning.programs.training_program_logic import train_model as train_model
