"""`LoggingReleaseManager`: released metrics as absl log lines.

    Released key 3: client_work/train/loss=0.52, client_work/train/accuracy=0.8

One INFO line per release, the metrics flattened and formatted as in
`release_manager`. As TensorFlow Federated's
`tff.program.LoggingReleaseManager`, but synchronous; for people watching
a run, not for parsing (use `CSVFileReleaseManager`).
"""

from typing import Any

from absl import logging

from tffx.program import release_manager


class LoggingReleaseManager(release_manager.ReleaseManager):
  """Logs released metrics at INFO level."""

  def release(self, value: Any, key: Any) -> None:
    """Logs `key` and the flattened metrics of `value`.

    `key` may be anything printable (a round number, a label).

    Raises:
      ValueError: if two metrics get the same name.
    """
    metrics = release_manager.flatten_metrics(value)
    text = ', '.join(f'{name}={release_manager.format_metric(leaf)}'
                     for name, leaf in metrics.items())
    logging.info('Released key %s: %s', key, text or '(no metrics)')
