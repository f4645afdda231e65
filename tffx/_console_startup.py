"""Hides TensorFlow's start-up messages from tffx's command-line binaries.

TensorFlow writes lines when it loads (oneDNN, CPU instructions, CUDA
plugins, `cuInit` errors on machines without a GPU) before any flag is
parsed. For `tffx-train` and `tffx-worker` (run as console scripts or with
`python -m tffx.cli.train` / `tffx.cli.worker`), this module sets
`TF_CPP_MIN_LOG_LEVEL=3` before TensorFlow is imported, unless the command
line has `--verbosity`/`-v` or the variable is already set.
`tffx/__init__.py` imports it first of all. Library users are not affected:
only those two programs are recognised.
"""

import os
import sys

_SCRIPTS = frozenset({'tffx-train', 'tffx-worker'})
_MODULES = frozenset({'tffx.cli.train', 'tffx.cli.worker'})
_VERBOSITY_FLAGS = ('--verbosity', '-v', '--v')


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


def quiet_tensorflow_startup(argv, orig_argv, environ) -> None:
  """Sets TF_CPP_MIN_LOG_LEVEL=3 in `environ` for a tffx binary."""
  if 'TF_CPP_MIN_LOG_LEVEL' in environ:
    return
  if is_tffx_binary(argv, orig_argv) and not asks_for_verbosity(orig_argv):
    environ['TF_CPP_MIN_LOG_LEVEL'] = '3'


quiet_tensorflow_startup(sys.argv, getattr(sys, 'orig_argv', sys.argv),
                         os.environ)
