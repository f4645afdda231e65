"""Errors raised by remote execution: workers, connections and the wire.

Each error subclasses a built-in so callers can catch the broad kind without
importing tffx. Errors raised on a worker while running a request (an
`AggregationError`, a `TensorFlowExecutionError`, ...) come back to the
controller under their own class, with the worker named in the message.
"""

from typing import Optional


class WorkerUnavailableError(RuntimeError):
  """A worker died, could not be reached, or missed a call's deadline.

  The remote executor re-runs the computation on the other workers when
  `retry_on_worker_failure` is set. `target` names the worker; `clients`,
  when known, is the range of client indices whose work was in flight
  (`retry_policy` counts these).
  """

  def __init__(self, target: str, message: str,
               clients: Optional[range] = None):
    super().__init__(message)
    self.target = target
    self.clients = clients


class ClientWorkCrashedError(WorkerUnavailableError):
  """The process running client work on a worker died; the worker lives.

  Raised on the controller for a worker's `ComputationCrashedError`; the
  message names the computation, the clients and the worker.
  """


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


class GraphTooLargeError(ValueError):
  """A graph declares a size beyond the worker's limits (`graph_limits`)."""


class ComputationCrashedError(RuntimeError):
  """The process running a request died (TensorFlow aborted, out of memory).

  The worker itself keeps serving: it runs computations in a supervised
  child process (`computation_process`) and starts a new one. The message
  names the computation and, on the controller, the clients.
  """


class RequestDeadlineError(RuntimeError):
  """A request ran past its deadline and was stopped on the worker.

  The deadline is the caller's, capped by the worker's
  --max_request_seconds.
  """


class CallerGoneError(RuntimeError):
  """The caller of a request cancelled it, or went away, while it waited or ran.

  The worker stops the request; nobody is left to tell.
  """


class ArgumentCountError(TypeError):
  """A request gives a computation more or fewer arguments than it takes."""


class PoisonClientError(RuntimeError):
  """A client's work failed on two workers; it is not retried again.

  `clients` is the range of client indices [start, stop) that failed.
  """

  def __init__(self, clients: range, message: str):
    super().__init__(message)
    self.clients = clients
