"""Functional optimizers (`tffx.learning.optimizers`, like `tff.learning.optimizers`).

An `Optimizer` is `initialize`, `next`, `get_hparams` and `set_hparams` over
an explicit state (see `optimizer`). Optimizers: `build_sgdm`, `build_adam`,
`build_adamw`, `build_adafactor`, `build_adagrad`, `build_rmsprop`,
`build_yogi`; `schedule_learning_rate` wraps one with a learning-rate
schedule. `check_weights_gradients_match` and
`handle_indexed_slices_gradients` are the checks every `next` starts with.
"""

from tffx.learning.optimizers.adafactor import build_adafactor as build_adafactor
from tffx.learning.optimizers.adagrad import build_adagrad as build_adagrad
from tffx.learning.optimizers.adam import build_adam as build_adam
from tffx.learning.optimizers.adamw import build_adamw as build_adamw
from tffx.learning.optimizers.optimizer import check_weights_gradients_match as check_weights_gradients_match
from tffx.learning.optimizers.optimizer import handle_indexed_slices_gradients as handle_indexed_slices_gradients
from tffx.learning.optimizers.optimizer import LEARNING_RATE_KEY as LEARNING_RATE_KEY
from tffx.learning.optimizers.optimizer import Optimizer as Optimizer
from tffx.learning.optimizers.rmsprop import build_rmsprop as build_rmsprop
from tffx.learning.optimizers.scheduling import schedule_learning_rate as schedule_learning_rate
from tffx.learning.optimizers.sgdm import build_sgdm as build_sgdm
from tffx.learning.optimizers.yogi import build_yogi as build_yogi
