"""Learning templates (`tffx.learning.templates`, like `tff.learning.templates`).

The measured processes a learning algorithm is composed of, and the
learning process they make:

    DistributionProcess -> ClientWorkProcess -> AggregationProcess
        -> FinalizerProcess        ==compose_learning_process==> LearningProcess

Each checks its type signatures in `__init__` and has optional
`get_hparams`/`set_hparams` computations. `build_model_delta_client_work`
and `build_functional_model_delta_client_work` build the client work of
local training (FedAvg's), which returns model deltas.
"""

from tffx.learning.templates.client_works import ClientResult as ClientResult
from tffx.learning.templates.client_works import ClientWorkProcess as ClientWorkProcess
from tffx.learning.templates.composers import compose_learning_process as compose_learning_process
from tffx.learning.templates.composers import LearningAlgorithmState as LearningAlgorithmState
from tffx.learning.templates.distributors import build_broadcast_process as build_broadcast_process
from tffx.learning.templates.distributors import DistributionProcess as DistributionProcess
from tffx.learning.templates.finalizers import build_apply_optimizer_finalizer as build_apply_optimizer_finalizer
from tffx.learning.templates.finalizers import build_identity_finalizer as build_identity_finalizer
from tffx.learning.templates.finalizers import FinalizerProcess as FinalizerProcess
from tffx.learning.templates.finalizers import reject_non_finite_update as reject_non_finite_update
from tffx.learning.templates.learning_process import LearningProcess as LearningProcess
from tffx.learning.templates.learning_process import LearningProcessOutput as LearningProcessOutput
from tffx.learning.templates.model_delta_client_work import build_functional_model_delta_client_work as build_functional_model_delta_client_work
from tffx.learning.templates.model_delta_client_work import build_model_delta_client_work as build_model_delta_client_work
