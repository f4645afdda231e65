"""Models for learning (`tffx.learning.models`, like `tff.learning.models`).

    ModelWeights                  (trainable, non_trainable) weights
    FunctionalModel               initial weights + pure predict/loss/metrics
    functional_model_from_keras   a Keras 3 model as a FunctionalModel
    from_keras_model              the same, with Keras losses and metrics
    weights_type_from_model       the tffx type of a model's weights
    ReconstructionModel           global and local weights (FedRecon)

tffx models are functional: training code passes weights as tensors and gets
new values back, so models trace into `tffx.tf_computation`s without
variables. TFF's variable-based `VariableModel` has no counterpart.
"""

from tffx.learning.models.functional import FunctionalModel as FunctionalModel
from tffx.learning.models.functional import functional_model_from_keras as functional_model_from_keras
from tffx.learning.models.keras_utils import from_keras_model as from_keras_model
from tffx.learning.models.model_weights import ModelWeights as ModelWeights
from tffx.learning.models.reconstruction_model import ReconstructionDatasetSplitFn as ReconstructionDatasetSplitFn
from tffx.learning.models.reconstruction_model import ReconstructionModel as ReconstructionModel
from tffx.learning.models.model_weights import weights_type_from_model as weights_type_from_model
