"""Metrics across clients (`tffx.learning.metrics`, like TFF's).

Clients report unfinalized metrics (sums); the server sums them and then
finalizes them:

    sum_then_finalize(finalizers, type)         ({U}@CLIENTS -> F@SERVER)
    SumThenFinalizeFactory(finalizers)          ... and the sum over all rounds
    create_functional_metric_fns(constructor)   Keras metrics as pure functions
    create_keras_metric_finalizer(metric)       one Keras metric's finalizer
    secure_sum_then_finalize, SecureSumFactory  the same with secure sums
    finalize_then_sample, FinalizeThenSampleFactory
                                                finalized metrics of sampled
                                                clients
    NumExamplesCounter, NumBatchesCounter       Keras counting metrics
"""

from tffx.learning.metrics.aggregator import FunctionalMetricFinalizersType as FunctionalMetricFinalizersType
from tffx.learning.metrics.aggregator import MetricFinalizersType as MetricFinalizersType
from tffx.learning.metrics.aggregator import MetricsAggregatorType as MetricsAggregatorType
from tffx.learning.metrics.aggregator import sum_then_finalize as sum_then_finalize
from tffx.learning.metrics.aggregator import SumThenFinalizeFactory as SumThenFinalizeFactory
from tffx.learning.metrics.keras_utils import create_functional_metric_fns as create_functional_metric_fns
from tffx.learning.metrics.keras_utils import create_keras_metric_finalizer as create_keras_metric_finalizer
from tffx.learning.metrics.counters import NumBatchesCounter as NumBatchesCounter
from tffx.learning.metrics.counters import NumExamplesCounter as NumExamplesCounter
from tffx.learning.metrics.sampling import finalize_then_sample as finalize_then_sample
from tffx.learning.metrics.sampling import FinalizeThenSampleFactory as FinalizeThenSampleFactory
from tffx.learning.metrics.secure_sum import create_default_secure_sum_quantization_ranges as create_default_secure_sum_quantization_ranges
from tffx.learning.metrics.secure_sum import secure_sum_then_finalize as secure_sum_then_finalize
from tffx.learning.metrics.secure_sum import SecureSumFactory as SecureSumFactory
