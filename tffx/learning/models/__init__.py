"""Models for learning (`tffx.learning.models`, like `tff.learning.models`).

    ModelWeights                  (trainable, non_trainable) weights
    FunctionalModel               initial weights + pure predict/loss/metrics
    VariableModel                 TFF's variable-based model interface
    BatchOutput                   what a forward pass returns
    functional_model_from_keras   a Keras model as a FunctionalModel
    from_keras_model              a Keras model, loss, metrics as a VariableModel
    weights_type_from_model       the tffx type of a model's weights
    ReconstructionModel           global and local weights (FedRecon)
    model_from_functional         a FunctionalModel as a VariableModel
    save / load                   a VariableModel as a TF SavedModel, and back
    save_functional_model / load_functional_model
                                  the same for a FunctionalModel

FunctionalModels are pure: training code passes weights as tensors and gets
new values back, so they trace into `tffx.tf_computation`s without
variables. A `VariableModel` (TFF's legacy custom-model path) is built by a
`model_fn` inside each client's graph; the algorithms take either.
"""

from tffx.learning.models.functional import FunctionalModel as FunctionalModel
from tffx.learning.models.functional import functional_model_from_keras as functional_model_from_keras
from tffx.learning.models.keras_utils import from_keras_model as from_keras_model
from tffx.learning.models.model_weights import ModelWeights as ModelWeights
from tffx.learning.models.reconstruction_model import ReconstructionDatasetSplitFn as ReconstructionDatasetSplitFn
from tffx.learning.models.reconstruction_model import ReconstructionModel as ReconstructionModel
from tffx.learning.models.model_weights import weights_type_from_model as weights_type_from_model
from tffx.learning.models.variable import BatchOutput as BatchOutput
from tffx.learning.models.variable import VariableModel as VariableModel
from tffx.learning.models.functional_variable_model import model_from_functional as model_from_functional
from tffx.learning.models.serialization import load as load
from tffx.learning.models.serialization import load_functional_model as load_functional_model
from tffx.learning.models.serialization import save as save
from tffx.learning.models.serialization import save_functional_model as save_functional_model
