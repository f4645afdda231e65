"""`tffx.backends.mapreduce`: TFF's `tff.backends.mapreduce`.

Compiles a federated round `(<S@SERVER,{D}@CLIENTS> -> <S@SERVER,X@SERVER>)`
into a `MapReduceForm` (local computations a MapReduce-like platform runs:
prepare, work, aggregation parts, update) or a `DistributeAggregateForm` (one
federated computation per phase), and a form back into a federated
computation; the same for `BroadcastForm`. `consolidate_and_extract_local_processing`
strips the placement from a computation that works at one placement.

This package sits under `tffx/backends/` (a third folder level, like
`tffx/learning/templates`) because TFF users know it as
`tff.backends.mapreduce`. It is its own layer below `backends` in
`tffx/BUILD`: it needs only `computations` and `types`, and no executor.
"""

from tffx.backends.mapreduce.errors import MapReduceFormCompilationError as MapReduceFormCompilationError
from tffx.backends.mapreduce.form_utils import check_computation_compatible_with_map_reduce_form as check_computation_compatible_with_map_reduce_form
from tffx.backends.mapreduce.form_utils import get_broadcast_form_for_computation as get_broadcast_form_for_computation
from tffx.backends.mapreduce.form_utils import get_computation_for_broadcast_form as get_computation_for_broadcast_form
from tffx.backends.mapreduce.form_utils import get_computation_for_distribute_aggregate_form as get_computation_for_distribute_aggregate_form
from tffx.backends.mapreduce.form_utils import get_computation_for_map_reduce_form as get_computation_for_map_reduce_form
from tffx.backends.mapreduce.form_utils import get_distribute_aggregate_form_for_computation as get_distribute_aggregate_form_for_computation
from tffx.backends.mapreduce.form_utils import get_map_reduce_form_for_computation as get_map_reduce_form_for_computation
from tffx.backends.mapreduce.form_utils import get_state_initialization_computation as get_state_initialization_computation
from tffx.backends.mapreduce.forms import BroadcastForm as BroadcastForm
from tffx.backends.mapreduce.forms import DistributeAggregateForm as DistributeAggregateForm
from tffx.backends.mapreduce.forms import MapReduceForm as MapReduceForm
from tffx.backends.mapreduce.local_processing import consolidate_and_extract_local_processing as consolidate_and_extract_local_processing
