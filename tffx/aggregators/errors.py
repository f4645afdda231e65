"""Errors raised by the aggregation factories when they are built or used.

TFF raises `TypeError` for a wrong kind of argument and `ValueError` for an
argument of the right kind but a wrong value; each error here subclasses the
matching built-in, so callers written against TFF keep working. Errors of
the processes a factory creates (a state or value of the wrong type at run
time) come from `tffx.templates` and the executors, not from here.
"""


class FactoryTypeError(TypeError):
  """A factory argument is not the kind of factory the slot needs.

  E.g. a `WeightedAggregationFactory` given as the `value_sum_factory` of a
  `MeanFactory`, which sums weighted values without weights.
  """


class UnsupportedValueTypeError(TypeError):
  """`create` was given a value or weight type the factory cannot aggregate.

  E.g. integers for a mean, a sequence for a sum, or a non-scalar weight.
  """


class ParameterTypeError(TypeError):
  """A factory parameter has the wrong Python type or type signature.

  E.g. a clipping norm that is neither a number nor an `EstimationProcess`
  of the expected signature.
  """


class ParameterValueError(ValueError):
  """A factory parameter has the right type but a value out of its range.

  E.g. a negative clipping norm, a quantile outside [0, 1] or an upper
  bound below the lower bound.
  """
