"""Federated learning (`tffx.learning`, like `tff.learning`).

    tffx.learning.models       FunctionalModel, from_keras_model, ModelWeights
    tffx.learning.optimizers   functional optimizers (build_sgdm, ...)
    tffx.learning.metrics      sum_then_finalize and Keras metric helpers
    tffx.learning.templates    the measured processes of a learning algorithm
    tffx.learning.algorithms   build_weighted_fed_avg, build_fed_sgd, ...

plus `ClientWeighting`, `LoopImplementation` and the recommended model
update aggregators (`robust_aggregator`, `dp_aggregator`,
`secure_aggregator`, `compression_aggregator`). For example:

    process = tffx.learning.algorithms.build_weighted_fed_avg(
        model_fn, client_optimizer_fn=tffx.learning.optimizers.build_sgdm(0.1))
    state = process.initialize()
    state, metrics = process.next(state, client_datasets)
"""

from tffx.learning import algorithms as algorithms
from tffx.learning import metrics as metrics
from tffx.learning import models as models
from tffx.learning import optimizers as optimizers
from tffx.learning import templates as templates
from tffx.learning.templates.client_weight_lib import ClientWeighting as ClientWeighting
from tffx.learning.templates.loop_builder import LoopImplementation as LoopImplementation
from tffx.learning.debug_measurements import add_debug_measurements as add_debug_measurements
from tffx.learning.model_update_aggregator import compression_aggregator as compression_aggregator
from tffx.learning.model_update_aggregator import ddp_secure_aggregator as ddp_secure_aggregator
from tffx.learning.model_update_aggregator import dp_aggregator as dp_aggregator
from tffx.learning.model_update_aggregator import robust_aggregator as robust_aggregator
from tffx.learning.model_update_aggregator import secure_aggregator as secure_aggregator
