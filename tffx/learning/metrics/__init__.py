"""Metrics across clients (`tffx.learning.metrics`, like TFF's).

Clients report unfinalized metrics (sums); the server sums them and then
finalizes them:

    sum_then_finalize(finalizers, type)         ({U}@CLIENTS -> F@SERVER)
    SumThenFinalizeFactory(finalizers)          ... and the sum over all rounds
    create_functional_metric_fns(constructor)   Keras metrics as pure functions
    create_keras_metric_finalizer(metric)       one Keras metric's finalizer
"""

from tffx.learning.metrics.aggregator import MetricFinalizersType as MetricFinalizersType
from tffx.learning.metrics.aggregator import sum_then_finalize as sum_then_finalize
from tffx.learning.metrics.aggregator import SumThenFinalizeFactory as SumThenFinalizeFactory
from tffx.learning.metrics.keras_utils import create_functional_metric_fns as create_functional_metric_fns
from tffx.learning.metrics.keras_utils import create_keras_metric_finalizer as create_keras_metric_finalizer
