"""Federated learning (`tffx.learning`, like `tff.learning`).

    tffx.learning.templates    the measured processes of a learning algorithm
    tffx.learning.optimizers   functional optimizers (build_sgdm, ...)
    tffx.learning.models       ModelWeights (models come later)

Algorithms built from these (federated averaging, ...) come later.
"""

from tffx.learning import models as models
from tffx.learning import optimizers as optimizers
from tffx.learning import templates as templates
