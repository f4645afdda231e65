"""Errors raised while building computations: tracing, intrinsics, values.

A flat list of classes, each defined once; every class subclasses a built-in
(`TypeError` for type problems) so that code written against TFF keeps
catching what it caught there. Messages say what was expected and what was
found, and, where it helps, end with a `Tip:`.
"""


# --- federated_computation tracing and intrinsics (value_impl, intrinsics,
# federated_computation).


class FederatedContextError(RuntimeError):
  """An intrinsic or a traced value was used outside a federated computation.

  Raised when an intrinsic such as `federated_sum` is called outside
  `tffx.federated_computation`, or when a traced value escapes the
  computation that created it.
  """


class IntrinsicTypeError(TypeError):
  """An intrinsic got an argument of the wrong type, e.g. a string to sum."""


class PlacementError(IntrinsicTypeError):
  """An intrinsic got a value at the wrong placement, or an unplaced one."""


class ValueConversionError(TypeError):
  """A Python object cannot become a value of a federated computation.

  For example a plain Python function (not a computation), a polymorphic
  computation with no type to instantiate it at, or `None` as a result.
  """


class TracedValueError(TypeError):
  """A traced value was used in a way its type does not allow.

  For example calling a value that is not a function, iterating a value that
  is not a struct, or using a value in a Python `if`.
  """


class CallArgumentError(TypeError):
  """A computation called inside a federated computation got a wrong argument."""


# --- tf_computation tracing (tensorflow_computation) and running TensorFlow
# graphs (executors/tensorflow_runner).


class TensorFlowParameterTypeError(TypeError):
  """A `tf_computation` parameter type has no TensorFlow counterpart.

  Parameters are tensors, sequences and structs of these; federated,
  function, placement and abstract types cannot be fed to a graph.
  """


class TensorFlowResultError(TypeError):
  """A function traced by `tf_computation` returned something a graph cannot.

  Results are tensors, `tf.data.Dataset`s, Python scalars or numpy values,
  and (nested) structs of these.
  """


class TensorFlowNoneResultError(TensorFlowResultError):
  """A function traced by `tf_computation` returned None."""


class TensorFlowCallError(TypeError):
  """A call inside `tf_computation` cannot be imported into the graph.

  For example a federated computation called from TensorFlow code, or a
  TensorFlow computation called with an argument that does not fit its
  parameter type.
  """


class TensorFlowExecutionError(RuntimeError):
  """TensorFlow failed while running a computation's graph.

  The message names the computation; the TensorFlow error is `__cause__`.
  """
