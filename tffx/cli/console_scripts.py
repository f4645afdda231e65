"""`run`: starts an absl binary so `--help` lists its flags however it is launched.

absl's `--help` and `--helpshort` list the key flags of the module named by
`sys.argv[0]`. Run as `python -m tffx.cli.train`, that is the binary's own
module; run as the console script `tffx-train`, it is the script pip
generated, which defines no flags, so help would list none. `run` declares
the binary's flags as key flags of `sys.argv[0]` before handing over to
`absl.app.run`.
"""

import sys
from types import ModuleType
from typing import Callable, Optional, Union

from absl import app
from absl import flags


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
