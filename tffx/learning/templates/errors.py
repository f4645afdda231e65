"""Errors raised when learning templates are built from unfit arguments.

Each subclasses `TypeError` (wrong kind of argument), as TFF raises them.
`tffx.learning.algorithms.errors` re-exports them for the algorithms, which
pass these arguments through. Errors of the template signatures themselves
come from `tffx.templates.errors` and the template modules.
"""


class ModelFnError(TypeError):
  """`model_fn` is not a `FunctionalModel` or a callable returning a model."""


class OptimizerFnError(TypeError):
  """An optimizer argument is not an `Optimizer` or a callable returning one."""


class ClientWeightingError(TypeError):
  """`client_weighting` is neither a `ClientWeighting` nor a callable."""
