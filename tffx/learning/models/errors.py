"""Errors raised when a model is built from parts that do not fit.

Each subclasses `TypeError` (wrong kind of argument) or `ValueError` (right
kind, wrong contents), as TFF raises them.
"""


class ModelWeightsError(TypeError):
  """Initial weights are not a pair (trainable, non_trainable) of arrays."""


class InputSpecError(TypeError):
  """An `input_spec` is not `(x, y)` or `{'x': x, 'y': y}` of TensorSpecs."""


class ModelFunctionError(TypeError):
  """A model function (predict, loss, metrics) is missing or not callable."""


class KerasModelError(TypeError):
  """The Keras model or loss given cannot be wrapped as a functional model."""
