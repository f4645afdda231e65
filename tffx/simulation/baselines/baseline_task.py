"""`BaselineTask`: a baseline task's datasets and the model trained on them.

    BaselineTask(datasets, model_fn)
      datasets   a BaselineTaskDatasets (data and preprocessing)
      model_fn   () -> tffx.learning.models.VariableModel, whose input_spec
                 is datasets.element_type_structure

Learning algorithms take `task.model_fn`; client data for a round comes
from `task.datasets.sample_train_clients(...)`.
"""

import dataclasses
from typing import Callable

from tffx.learning.models import variable
from tffx.simulation.baselines import task_data


@dataclasses.dataclass(frozen=True)
class BaselineTask:
  """Specification for a baseline learning simulation.

  Attributes:
    datasets: A `tffx.simulation.baselines.BaselineTaskDatasets`: the
      training data, the evaluation data and their preprocessing.
    model_fn: A no-argument callable returning a
      `tffx.learning.models.VariableModel` for the task. Its `input_spec`
      must match `datasets.element_type_structure`.

  Raises:
    TypeError: if `datasets` is not a `BaselineTaskDatasets` or `model_fn`
      is not callable.
    ValueError: if the model's input spec does not match the datasets'
      element type structure (checked by building one model).
  """
  datasets: task_data.BaselineTaskDatasets
  model_fn: Callable[[], variable.VariableModel]

  def __post_init__(self):
    if not isinstance(self.datasets, task_data.BaselineTaskDatasets):
      raise TypeError(
          f'datasets must be a BaselineTaskDatasets, found '
          f'{type(self.datasets).__name__}.')
    if not callable(self.model_fn):
      raise TypeError(f'model_fn must be a no-argument callable, found '
                      f'{type(self.model_fn).__name__}.')
    model_spec = self.model_fn().input_spec
    data_spec = self.datasets.element_type_structure
    if not task_data.specs_compatible(model_spec, data_spec):
      raise ValueError(
          f'The model input spec must match the dataset element type '
          f'structure. Found model input spec {model_spec} and dataset '
          f'element type structure {data_spec}.')
