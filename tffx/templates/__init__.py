"""Templates of federated processes (`tffx.templates`, like `tff.templates`).

    IterativeProcess
      |-- MeasuredProcess  (next returns MeasuredProcessOutput)
      |     `-- AggregationProcess
      `-- EstimationProcess (adds report)

Templates check in `__init__` that their computations fit the documented
type signatures, and raise the errors of `tffx.templates.errors` (or of the
template's module) otherwise. The learning templates are in
`tffx.learning.templates`.
"""

from tffx.templates import errors as errors
from tffx.templates.aggregation_process import AggregationProcess as AggregationProcess
from tffx.templates.estimation_process import EstimationProcess as EstimationProcess
from tffx.templates.iterative_process import is_stateful as is_stateful
from tffx.templates.iterative_process import IterativeProcess as IterativeProcess
from tffx.templates.measured_process import chain_measured_processes as chain_measured_processes
from tffx.templates.measured_process import concatenate_measured_processes as concatenate_measured_processes
from tffx.templates.measured_process import MeasuredProcess as MeasuredProcess
from tffx.templates.measured_process import MeasuredProcessOutput as MeasuredProcessOutput
