"""Errors raised by the templates when their computations do not fit together.

Every error subclasses `TypeError`: a template refuses computations whose
type signatures break its contract, as TFF's templates do, so callers that
catch `TypeError` keep working. The errors specific to one template live in
that template's module (`aggregation_process.AggregationPlacementError`,
`estimation_process.EstimateNotAssignableError`, ...); this module holds the
ones shared by several templates.
"""


class TemplateInitFnParamNotEmptyError(TypeError):
  """`initialize_fn` takes an argument; it must take none: `( -> S)`."""


class TemplateStateNotAssignableError(TypeError):
  """The state of a process does not fit where the process expects it.

  Raised when the result of `initialize_fn`, or the state returned by
  `next_fn`, is not assignable to the state parameter of `next_fn` (or of
  another computation of the template that takes the state).
  """


class TemplateNotMeasuredProcessOutputError(TypeError):
  """`next_fn` does not return a `MeasuredProcessOutput` container."""


class TemplateNextFnNumArgsError(TypeError):
  """`next_fn` does not take the number of arguments the template needs."""


class TemplateNotFederatedError(TypeError):
  """A computation of a federated template has a non-federated argument or result."""


class TemplatePlacementError(TypeError):
  """A federated argument or result of a template is at the wrong placement."""
