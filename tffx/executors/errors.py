"""Errors raised by executors and execution contexts.

Each error subclasses a built-in (`TypeError` or `ValueError`) so callers can
catch the broad kind without importing tffx. Messages say what was expected,
what was found and, where it helps, a `Tip:`.
"""


class ArgumentTypeError(TypeError):
  """A Python argument does not fit the parameter type of a computation."""


class ClientCountError(ValueError):
  """The number of clients is inconsistent, invalid, or zero where it cannot be.

  For example: two client arguments of different lengths, a negative
  `default_num_clients`, or an all-equal client result with no clients.
  """


class AggregationError(ValueError):
  """An aggregation has no defined result.

  For example: a mean, min or max over zero clients, a weighted mean whose
  weights sum to zero, or a sum over zero clients of a member whose shape is
  not fully known (so there is no zero to return).
  """


class SecureBoundsError(ValueError):
  """A secure aggregation got a value outside the range it promised.

  `federated_secure_sum` needs client values in [0, max_input],
  `federated_secure_sum_bitwidth` in [0, 2**bitwidth - 1], and
  `federated_secure_select` keys in [0, max_key).
  """
