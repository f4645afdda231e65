"""Aggregation factories (`tffx.aggregators`, like `tff.aggregators`).

A factory creates a `tffx.templates.AggregationProcess` for a value type;
factories nest, each keeping its inner factories' states and measurements:

    factory = tffx.aggregators.zeroing_factory(
        10.0, tffx.aggregators.clipping_factory(
            1.0, tffx.aggregators.MeanFactory()))
    process = factory.create(value_type, weight_type)

The recommended compositions for model updates are in `tffx.learning`
(`robust_aggregator`, `dp_aggregator`, `secure_aggregator`).
"""

from tffx.aggregators import errors as errors
from tffx.aggregators.concat import concat_factory as concat_factory
from tffx.aggregators.differential_privacy import DifferentiallyPrivateFactory as DifferentiallyPrivateFactory
from tffx.aggregators.encoded import EncodedSumFactory as EncodedSumFactory
from tffx.aggregators.encoded import UniformQuantizationEncoder as UniformQuantizationEncoder
from tffx.aggregators.factory import AggregationFactory as AggregationFactory
from tffx.aggregators.factory import UnweightedAggregationFactory as UnweightedAggregationFactory
from tffx.aggregators.factory import WeightedAggregationFactory as WeightedAggregationFactory
from tffx.aggregators.factory_utils import as_weighted_aggregator as as_weighted_aggregator
from tffx.aggregators.mean import MeanFactory as MeanFactory
from tffx.aggregators.mean import UnweightedMeanFactory as UnweightedMeanFactory
from tffx.aggregators.measurements import add_measurements as add_measurements
from tffx.aggregators.quantile_estimation import PrivateQuantileEstimationProcess as PrivateQuantileEstimationProcess
from tffx.aggregators.robust import clipping_factory as clipping_factory
from tffx.aggregators.rotation import DiscreteFourierTransformFactory as DiscreteFourierTransformFactory
from tffx.aggregators.rotation import HadamardTransformFactory as HadamardTransformFactory
from tffx.aggregators.sampling import federated_sample as federated_sample
from tffx.aggregators.sampling import UnweightedReservoirSamplingFactory as UnweightedReservoirSamplingFactory
from tffx.aggregators.robust import zeroing_factory as zeroing_factory
from tffx.aggregators.secure import SecureSumFactory as SecureSumFactory
from tffx.aggregators.secure_modular import SecureModularSumFactory as SecureModularSumFactory
from tffx.aggregators.secure_quantized import secure_quantized_sum as secure_quantized_sum
from tffx.aggregators.sum_factory import SumFactory as SumFactory
