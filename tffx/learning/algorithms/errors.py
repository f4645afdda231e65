"""Errors raised when a learning algorithm is built from unfit arguments.

Each subclasses `TypeError` (wrong kind of argument) or `ValueError` (right
kind, wrong value), as TFF raises them. The errors of the model, optimizer
and client weighting arguments are those of the client work templates
(`tffx.learning.templates.errors`), re-exported here; errors of the composed
templates come from `tffx.learning.templates`; errors of aggregation
factories from `tffx.aggregators`.
"""

from tffx.learning.templates.errors import ClientWeightingError as ClientWeightingError
from tffx.learning.templates.errors import ModelFnError as ModelFnError
from tffx.learning.templates.errors import OptimizerFnError as OptimizerFnError


class ProximalStrengthError(ValueError):
  """The proximal strength of FedProx is negative or not a number."""
