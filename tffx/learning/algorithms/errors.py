"""Errors raised when a learning algorithm is built from unfit arguments.

Each subclasses `TypeError` (wrong kind of argument) or `ValueError` (right
kind, wrong value), as TFF raises them. Errors of the composed templates come
from `tffx.learning.templates`; errors of aggregation factories from
`tffx.aggregators`.
"""


class ModelFnError(TypeError):
  """`model_fn` is neither a `FunctionalModel` nor a callable returning one."""


class OptimizerFnError(TypeError):
  """An optimizer argument is not an `Optimizer` or a callable returning one."""


class ClientWeightingError(TypeError):
  """`client_weighting` is neither a `ClientWeighting` nor a callable."""


class ReservedMetricNameError(ValueError):
  """A model metric has a name the algorithms report themselves (`loss`)."""


class ProximalStrengthError(ValueError):
  """The proximal strength of FedProx is negative or not a number."""
