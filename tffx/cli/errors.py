"""Errors of the command-line binaries in `tffx.cli`.

A binary prints such an error as one line, `<binary>: error: <message>`,
and exits with a non-zero status instead of showing a traceback: they are
mistakes in how the binary was called, not bugs. Errors of the library
layers below keep their own classes and reach the user as tracebacks.
"""


class TrainConfigError(ValueError):
  """`tffx-train` was given settings that cannot start a run.

  For example a flag value out of range, a dataset file that does not exist
  or is not in TFF's layout, or a `--root_dir` that holds a run with other
  settings.
  """


class NonFiniteLossError(ValueError):
  """The training loss of a round is NaN or infinite.

  `tffx-train` stops before it releases or saves that round, so the last
  checkpoint holds the last good state; `--allow_nonfinite_loss` trains on.
  """
