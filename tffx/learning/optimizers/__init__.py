"""Functional optimizers (`tffx.learning.optimizers`, like `tff.learning.optimizers`).

An `Optimizer` is `initialize`, `next`, `get_hparams` and `set_hparams` over
an explicit state (see `optimizer`). Optimizers: `build_sgdm`.
"""

from tffx.learning.optimizers.optimizer import Optimizer as Optimizer
from tffx.learning.optimizers.sgdm import build_sgdm as build_sgdm
