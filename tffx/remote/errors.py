"""Errors raised by remote execution: workers, connections and the wire.

Each error subclasses a built-in so callers can catch the broad kind without
importing tffx. Errors raised on a worker while running a request (an
`AggregationError`, a `TensorFlowExecutionError`, ...) come back to the
controller under their own class, with the worker named in the message.
"""


class WorkerUnavailableError(RuntimeError):
  """A worker died, could not be reached, or missed a call's deadline.

  The remote executor re-runs the computation on the other workers when
  `retry_on_worker_failure` is set. `target` names the worker.
  """

  def __init__(self, target: str, message: str):
    super().__init__(message)
    self.target = target
    # The clients whose work was on the worker when it failed, when known.
    self.clients = None


class PoisonClientError(RuntimeError):
  """The work of a client failed on two workers, so it is not retried again.

  `clients` is the range of client indices (in the computation's order)
  whose work was running on both failed workers; the message names them.
  """

  def __init__(self, clients: range, message: str):
    super().__init__(message)
    self.clients = clients


class NoLiveWorkersError(RuntimeError):
  """No worker answered the health check that precedes every computation."""


class WorkerRefusedError(RuntimeError):
  """A worker refused a call: wrong credentials, too large, or malformed.

  Retrying does not help. `target` names the worker and `code` is the gRPC
  status code name, such as 'UNAUTHENTICATED' or 'RESOURCE_EXHAUSTED'.
  """

  def __init__(self, target: str, code: str, message: str):
    super().__init__(message)
    self.target = target
    self.code = code


class RemoteExecutionError(RuntimeError):
  """A worker failed while running a request, with an error tffx does not know.

  The message names the worker and the error's class.
  """


class UnknownHandleError(LookupError):
  """A request names a value the worker does not hold (any more).

  A worker forgets a session's values when it restarts or is told to
  release them; the controller then treats the worker as failed.
  """


class DisallowedOpError(ValueError):
  """A TensorFlow graph holds an op that a worker does not run.

  Workers run only the ops of `graph_allowlist`; ops that can touch the
  host (files, processes, the network, Python) are refused.
  """


class MessageTooLargeError(ValueError):
  """A request or response is larger than the receiver accepts."""


class MalformedMessageError(ValueError):
  """Bytes on the wire are not the message they should be."""
