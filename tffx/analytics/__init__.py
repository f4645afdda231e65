"""Federated analytics (`tffx.analytics`, like `tff.analytics`).

Heavy hitters through an invertible Bloom lookup table (`IbltFactory`), and
hierarchical histograms (`build_hierarchical_histogram_process`, read with
`HierarchicalHistogramDecoder`).
"""

from tffx.analytics.iblt_factory import IbltFactory as IbltFactory
