"""Hides TensorFlow's start-up lines from tffx's command-line binaries.

TensorFlow writes lines to stderr when it loads and when it first looks for
devices (oneDNN, CPU instructions, CUDA plugins, `cuInit` errors on
machines without a GPU), before any flag is parsed; `TF_CPP_MIN_LOG_LEVEL`
no longer silences all of them. For `tffx-train` and `tffx-worker` (as
console scripts or `python -m tffx.cli.train` / `tffx.cli.worker`), unless
the command line has `--verbosity`/`-v`, this module

  * sets `TF_CPP_MIN_LOG_LEVEL=3` (if unset), and
  * passes the process's stderr (file descriptor 2, which the worker's
    computation processes share) through a filter that drops TensorFlow's
    informational lines and its known CUDA start-up errors; every other
    line, tracebacks included, goes through unchanged, and what is still
    in the filter is written out when the process exits normally.

`tffx/__init__.py` imports it first of all, before TensorFlow. Other
programs that import tffx are not affected.
"""

import atexit
import os
import re
import sys
import threading

_SCRIPTS = frozenset({'tffx-train', 'tffx-worker'})
_MODULES = frozenset({'tffx.cli.train', 'tffx.cli.worker'})
_VERBOSITY_FLAGS = ('--verbosity', '-v', '--v')
# TensorFlow's C++ log lines start 'I0000 00:00:1796.5 123 port.cc:153] '
# (absl) or '2025-01-01 12:00:00.0: I tensorflow/x.cc:12] ' (older).
_INFO_OR_WARNING = (r'(?:[IW]\d{4} [\d:.]+ +\d+ |'
                    r'\d{4}-\d\d-\d\d [\d:.]+: [IW] )\S+\.cc:\d+\] .*')
_CUDA_ERROR = (r'(?:E\d{4} [\d:.]+ +\d+ |\d{4}-\d\d-\d\d [\d:.]+: E )'
               r'.*(?:cuInit|cuFFT|cuDNN|cuBLAS|CUDA|cuda).*')
_NOISE = re.compile(
    r'^(?:WARNING: All log messages before absl::InitializeLog\(\) is '
    r'called are written to STDERR|To enable the following instructions: .*|'
    + _INFO_OR_WARNING + '|' + _CUDA_ERROR + r')$')
_DRAIN_SECONDS = 2.0


def is_tffx_binary(argv, orig_argv) -> bool:
  """Whether the process runs a tffx binary, from its command line."""
  if argv and os.path.basename(argv[0]) in _SCRIPTS:
    return True
  args = list(orig_argv)
  return any(a == '-m' and i + 1 < len(args) and args[i + 1] in _MODULES
             for i, a in enumerate(args))


def asks_for_verbosity(argv) -> bool:
  return any(a == f or a.startswith(f + '=') for a in argv
             for f in _VERBOSITY_FLAGS)


def is_noise(line: str) -> bool:
  """Whether a stderr line is TensorFlow start-up noise."""
  return _NOISE.match(line.rstrip('\n')) is not None


def filter_stderr() -> None:
  """Passes file descriptor 2 through `is_noise` from now on."""
  original = os.dup(2)
  read_end, write_end = os.pipe()
  os.dup2(write_end, 2)
  os.close(write_end)

  def pump():
    with os.fdopen(read_end, 'rb') as source:
      for raw in source:
        if not is_noise(raw.decode('utf-8', 'replace')):
          os.write(original, raw)

  thread = threading.Thread(target=pump, daemon=True,
                            name='tffx-stderr-filter')
  thread.start()

  def drain():
    try:
      sys.stderr.flush()
    except (OSError, ValueError):
      pass
    # Closing the last write end ends the pump once it has written all.
    os.dup2(original, 2)
    thread.join(_DRAIN_SECONDS)

  atexit.register(drain)


def quiet_tensorflow_startup(argv, orig_argv, environ) -> bool:
  """Quiets TensorFlow for a tffx binary; True if it did."""
  if not is_tffx_binary(argv, orig_argv) or asks_for_verbosity(orig_argv):
    return False
  environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  return True


if quiet_tensorflow_startup(sys.argv, getattr(sys, 'orig_argv', sys.argv),
                            os.environ):
  filter_stderr()
