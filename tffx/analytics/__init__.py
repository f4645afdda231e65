"""Federated analytics (`tffx.analytics`, like `tff.analytics`).

Heavy hitters through an invertible Bloom lookup table (`IbltFactory`), and
hierarchical histograms (`build_hierarchical_histogram_process`, read with
`HierarchicalHistogramDecoder`).
"""

from tffx.analytics.hierarchical_histogram import build_hierarchical_histogram_process as build_hierarchical_histogram_process
from tffx.analytics.hierarchical_histogram_decoder import HierarchicalHistogramDecoder as HierarchicalHistogramDecoder
from tffx.analytics.iblt_factory import IbltFactory as IbltFactory
