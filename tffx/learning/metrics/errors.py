"""Errors raised when metrics or their finalizers do not fit together.

Each subclasses `TypeError` (wrong kind of argument) or `ValueError` (right
kind, wrong contents), as TFF raises them.
"""


class UnfinalizedMetricsTypeError(TypeError):
  """The type of the unfinalized metrics is not a struct of tensors."""


class MetricFinalizersTypeError(TypeError):
  """`metric_finalizers` is neither a callable nor a mapping of callables."""


class MismatchedMetricNamesError(ValueError):
  """The finalizers and the unfinalized metrics name different metrics."""


class MetricsConstructorError(TypeError):
  """A metrics constructor does not return Keras metrics with unique names."""


class UnquantizableDTypeError(TypeError):
  """A metric tensor's dtype is neither integer nor floating-point, so it has
  no secure-sum quantization range."""
