"""When the controller re-runs a computation, and when it gives up on a client.

    policy = RetryPolicy()
    for attempt in itertools.count(1):
      connections = policy.order(live_connections, attempt)
      try:
        return run_on(connections)
      except WorkerUnavailableError as e:
        policy.record(e)          # raises PoisonClientError
        ...                       # retry, or give up after max attempts

The rule: a client whose work failed on two different workers is poison
(its work crashes or stalls whatever runs it) and is not retried again;
`record` raises `PoisonClientError` naming it and both failures, so one bad
client ends the round with an error instead of taking down worker after
worker. Failures that are not the clients' fault (a worker that lost the
values of a run, say because another run crashed its computation process)
carry no clients and do not count.

A retry moves the clients: `order` rotates the workers by attempt, so the
work that failed on one worker runs on another one next time, even when
the failed worker is alive again (a worker restarts a crashed computation
process at once).

This module holds the rule only; the remote executor decides where it
applies. Every remote strategy uses the same rule.
"""

from typing import List, Sequence, Tuple, TypeVar

from tffx.remote import errors

T = TypeVar('T')


class RetryPolicy:
  """The failures of one computation's attempts, by client."""

  def __init__(self):
    self._failures: List[Tuple[range, str, str]] = []

  def order(self, connections: Sequence[T], attempt: int) -> List[T]:
    """The workers of attempt `attempt` (from 1), rotated by attempt."""
    connections = list(connections)
    if not connections:
      return connections
    shift = (attempt - 1) % len(connections)
    return connections[shift:] + connections[:shift]

  def record(self, error: errors.WorkerUnavailableError) -> None:
    """Remembers a failure.

    Raises:
      PoisonClientError: if clients of this failure already failed on
        another worker; the error names them and both failures.
    """
    clients = getattr(error, 'clients', None)
    if clients is None:
      return
    for earlier, target, message in self._failures:
      if target == error.target:
        continue
      common = range(max(clients.start, earlier.start),
                     min(clients.stop, earlier.stop))
      if len(common):
        raise errors.PoisonClientError(
            common,
            f'The work of {_clients_text(common)} failed on two workers, '
            f'so it is not retried again: on {target}: {message}; on '
            f'{error.target}: {error}. The workers keep serving. Tip: '
            f'look at that client\'s data and at the computation; sizes '
            f'TensorFlow cannot allocate, or work beyond the workers\' '
            f'--max_request_seconds, fail on every worker.') from error
    self._failures.append((clients, error.target, str(error)))


def _clients_text(clients: range) -> str:
  if len(clients) == 1:
    return f'client {clients.start}'
  return f'clients {clients.start}-{clients.stop - 1}'
