"""Progress lines of `tffx-train`: one per round, one per evaluation, a summary.

    round  7/20  0.61s  loss 0.441  accuracy 0.896  ETA 8s
    eval   10/20        loss 1.012  accuracy 0.780  (test split, 30 clients)

`Progress` writes the lines to a text stream (stdout) and estimates the time
left from the rounds this process has run: the mean of the last few, since
the first round of a process also traces and compiles graphs. This module
formats and prints; it computes no metrics.
"""

import sys
from typing import Any, List, Mapping, Optional, TextIO

# Rounds the ETA averages over: recent enough to follow a change of speed.
_ETA_WINDOW = 5


def format_duration(seconds: float) -> str:
  """'0.61s' below 10 s, '42s' below a minute, then '3m05s', '1h02m'."""
  if seconds < 10:
    return f'{seconds:.2f}s'
  seconds = int(round(seconds))
  if seconds < 60:
    return f'{seconds}s'
  minutes, seconds = divmod(seconds, 60)
  if minutes < 60:
    return f'{minutes}m{seconds:02d}s'
  hours, minutes = divmod(minutes, 60)
  return f'{hours}h{minutes:02d}m'


def estimate_remaining(round_seconds: List[float],
                       remaining_rounds: int) -> Optional[float]:
  """Seconds left for `remaining_rounds`, or None before any round ran.

  Skips the first round of the process when later ones exist (it includes
  tracing), and averages the last `_ETA_WINDOW` rounds.
  """
  if not round_seconds:
    return None
  steady = round_seconds[1:] or round_seconds
  recent = steady[-_ETA_WINDOW:]
  return remaining_rounds * sum(recent) / len(recent)


def format_metrics(metrics: Mapping[str, Any]) -> str:
  """'loss 0.441  accuracy 0.896' for the metrics that are present."""
  parts = []
  for name in ('loss', 'accuracy'):
    if name in metrics:
      parts.append(f'{name} {float(metrics[name]):.3f}')
  return '  '.join(parts)


class Progress:
  """Prints the progress of a run of `total_rounds` rounds.

  Args:
    total_rounds: The round the run ends at.
    out: Where lines go; flushed after each.
  """

  def __init__(self, total_rounds: int, out: Optional[TextIO] = None):
    self._total_rounds = total_rounds
    self._out = out if out is not None else sys.stdout
    self._width = len(str(total_rounds))
    self._round_seconds: List[float] = []

  @property
  def round_seconds(self) -> List[float]:
    """The durations of the rounds this process ran, in order."""
    return list(self._round_seconds)

  def print(self, line: str) -> None:
    self._out.write(line + '\n')
    self._out.flush()

  def _round_label(self, round_num: int) -> str:
    return f'{round_num:>{self._width}d}/{self._total_rounds}'

  def round_done(self, round_num: int, seconds: float,
                 train_metrics: Mapping[str, Any]) -> None:
    """Prints a round's time, training metrics and the ETA."""
    self._round_seconds.append(seconds)
    remaining = estimate_remaining(self._round_seconds,
                                   self._total_rounds - round_num)
    eta = '' if not remaining else f'  ETA {format_duration(remaining)}'
    self.print(f'round {self._round_label(round_num)}  '
               f'{format_duration(seconds):>6}  '
               f'{format_metrics(train_metrics)}{eta}')

  def eval_done(self, round_num: int, eval_metrics: Mapping[str, Any],
                split: str, num_clients: int) -> None:
    """Prints the evaluation of the model after `round_num` rounds."""
    self.print(f'eval  {self._round_label(round_num)}  {"":>6}  '
               f'{format_metrics(eval_metrics)}  ({split} split, '
               f'{num_clients} clients)')
