"""`run`: starts an absl binary so `--help` lists its flags however it is launched.

absl's `--help` and `--helpshort` list the key flags of the module named by
`sys.argv[0]`. Run as `python -m tffx.cli.train`, that is the binary's own
module; run as the console script `tffx-train`, it is the script pip
generated, which defines no flags, so help would list none. `run` declares
the binary's flags as key flags of `sys.argv[0]` before handing over to
`absl.app.run`.

A binary's mistakes in how it was called are one line,
`<program>: error: <message>`, and exit status 2 (`exit_with_error`,
`one_line_flags_parser`), never absl's page of usage text.
"""

import sys
from types import ModuleType
from typing import Callable, NoReturn, Optional, Union

from absl import app
from absl import flags
from absl import logging

USAGE_EXIT_CODE = 2


def declare_script_flags(module: Union[ModuleType, str],
                         flag_values: flags.FlagValues = flags.FLAGS) -> None:
  """Makes `module`'s key flags key flags of the running script too."""
  for flag in flag_values.get_key_flags_for_module(module):
    flag_values.register_key_flag_for_module(sys.argv[0], flag)


def run(main: Callable, module: ModuleType,
        flags_parser: Optional[Callable] = None) -> None:
  """Runs `main` with absl, with `module`'s flags shown by `--help`."""
  declare_script_flags(module)
  if flags_parser is None:
    app.run(main)
  else:
    app.run(main, flags_parser=flags_parser)


def exit_with_error(program: str, message: str,
                    exit_code: int = USAGE_EXIT_CODE) -> NoReturn:
  """Prints `<program>: error: <message>` on one line and exits."""
  message = ' '.join(str(message).split())
  sys.stderr.write(f'{program}: error: {message}\n')
  sys.stderr.flush()
  sys.exit(exit_code)


def one_line_flags_parser(program: str) -> Callable:
  """An absl flags parser whose bad flag is one error line and status 2.

  The log shows warnings and errors only unless --verbosity is given
  (absl's app.run would raise it to INFO).
  """

  def parse(argv):
    try:
      argv = flags.FLAGS(argv)
    except flags.Error as e:
      exit_with_error(program, str(e))
    if flags.FLAGS['verbosity'].using_default_value:
      logging.set_verbosity(logging.WARNING)
    return argv

  return parse
