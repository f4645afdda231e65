"""Errors raised when a learning algorithm is built from unfit arguments.

Each subclasses `TypeError` (wrong kind of argument) or `ValueError` (right
kind, wrong value), as TFF raises them. Errors of the composed templates come
from `tffx.learning.templates`; errors of aggregation factories from
`tffx.aggregators`.
"""


class ModelFnError(TypeError):
  """`model_fn` is not a `FunctionalModel` or a callable returning a model."""


class OptimizerFnError(TypeError):
  """An optimizer argument is not an `Optimizer` or a callable returning one."""


class ClientWeightingError(TypeError):
  """`client_weighting` is neither a `ClientWeighting` nor a callable."""


class ProximalStrengthError(ValueError):
  """The proximal strength of FedProx is negative or not a number."""
